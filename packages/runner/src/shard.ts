// Shards: a deterministic partition of the sorted job list over machines (`--shard i/n`), and the plan
// record each run leaves beside its results, by which `pnpm bench merge` knows what belongs together.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@worldbench/core';
import { z } from 'zod';
import { canonicalJson } from './jobs';
import type { PlannedJob } from './run-job';
import { writeFileAtomic } from './atomic';
import { RESULTS_FILE } from './store';

/** Shard `index` of `count` (0 <= index < count): the jobs whose place in the sorted plan is index mod count. */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!m || !(count >= 1) || !(index < count))
    throw new UserError(
      `--shard takes i/n with n >= 1 and 0 <= i < n (shard i of n, counted from 0: --shard 0/4 ... --shard ` +
        `3/4), got "${text}"`,
    );
  return { index, count };
}

/**
 * Round robin over the sorted plan's units: every shard gets a share of each budget, so shards take about as long.
 * A unit is one job, or the rows of one generalist fit (`units[i]`: the unit of item i, numbered in order of first
 * appearance), so a fit is never split over shards. Without `units` every item is its own unit.
 */
export function shardJobs<T>(planned: readonly T[], shard: Shard, units?: readonly number[]): T[] {
  return planned.filter((_, i) => (units?.[i] ?? i) % shard.count === shard.index);
}

/**
 * The unit of each planned job: jobs of one generalist fit (`fit`) share one, every other job has its own;
 * numbered 0, 1, ... in order of first appearance. Null when every job is its own unit (the plan record omits it).
 */
export function planUnits(planned: ReadonlyArray<{ fit?: string }>): number[] | null {
  if (!planned.some((p) => p.fit)) return null;
  const of = new Map<string, number>();
  let next = 0;
  return planned.map((p) => {
    if (!p.fit) return next++;
    if (!of.has(p.fit)) of.set(p.fit, next++);
    return of.get(p.fit)!;
  });
}

/** results.jsonl for a whole run; results.shard-i-of-n.jsonl for a shard, so shards can share a folder. */
export function resultsFileName(shard: Shard | null): string {
  return shard && shard.count > 1 ? `results.shard-${shard.index}-of-${shard.count}.jsonl` : RESULTS_FILE;
}

export function planFileName(shard: Shard | null): string {
  return shard && shard.count > 1 ? `plan.shard-${shard.index}-of-${shard.count}.json` : 'plan.json';
}

const PLAN_FILE = /^plan(?:\.shard-(\d+)-of-(\d+))?\.json$/;

/** What a run (or a shard of one) ran: written beside its results as plan.json / plan.shard-i-of-n.json. */
export interface PlanRecord {
  format: 1;
  /** Hash of the sorted job list without code fingerprints: equal for runs of the same command. */
  planHash: string;
  /** Hash of the code fingerprints of the jobs: equal when the sources of every package involved are. */
  codeHash: string;
  /** git commit of the run (with -dirty), to say which checkout a mismatched shard ran. */
  commit: string | null;
  shard: Shard;
  /** The job keys of the whole plan (all shards), in plan order: shard i holds those at i, i + n, ... */
  keys: string[];
  /** The command's arguments, for a human rerunning a missing shard. */
  argv: string[];
  /** The unit of each key (planUnits) when the plan holds generalist fits, whose rows a shard keeps together. */
  units?: number[];
}

/** A plan record read from a folder is checked before use: it is shown in reports (the command, the commit). */
const planRecordShape = z.object({
  format: z.literal(1),
  planHash: z.string(),
  codeHash: z.string(),
  commit: z.string().nullable(),
  shard: z
    .object({ index: z.number().int().nonnegative(), count: z.number().int().positive() })
    .refine((s) => s.index < s.count),
  keys: z.array(z.string()),
  argv: z.array(z.string()),
  units: z.array(z.number().int().nonnegative()).optional(),
});

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

export function planRecord(
  planned: readonly PlannedJob[],
  shard: Shard | null,
  commit: string | null,
  argv: string[],
): PlanRecord {
  const units = planUnits(planned);
  return {
    format: 1,
    planHash: hash(canonicalJson(planned.map((p) => p.job))),
    codeHash: hash([...new Set(planned.map((p) => p.fingerprint))].sort().join(',')),
    commit,
    shard: shard ?? { index: 0, count: 1 },
    keys: planned.map((p) => p.key),
    argv,
    ...(units ? { units } : {}),
  };
}

export function writePlanRecord(dir: string, record: PlanRecord): void {
  writeFileAtomic(join(dir, planFileName(record.shard)), JSON.stringify(record) + '\n');
}

/** The plan records in a folder, each with the results file beside it. */
export function readPlanRecords(dir: string): Array<{ file: string; results: string; record: PlanRecord }> {
  if (!existsSync(dir)) throw new UserError(`no such directory: ${dir}`);
  const found: Array<{ file: string; results: string; record: PlanRecord }> = [];
  for (const name of readdirSync(dir).sort()) {
    const m = PLAN_FILE.exec(name);
    if (!m) continue;
    const file = join(dir, name);
    let record: PlanRecord;
    try {
      record = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UserError(`${file} is not readable JSON: ${(err as Error).message}`, { cause: err });
    }
    if (!planRecordShape.safeParse(record).success)
      throw new UserError(
        `${file} is not a worldbench plan record (format 1 with planHash, codeHash, commit, shard, keys, argv)`,
      );
    found.push({ file, results: join(dir, resultsFileName(record.shard)), record });
  }
  return found;
}
