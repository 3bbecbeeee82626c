// `pnpm bench merge <dirs...> --out DIR`: joins the shards of one plan into DIR/results.jsonl, the same
// file a single run of the plan writes (apart from timings), and refuses shards of other plans or code.
//
// Merge never deletes a result: it appends to DIR/results.jsonl what it lacks and keeps what it holds.
// Of one job key met more than once (in the target, in shards, in earlier merges):
// - a done line (ok or unsupported) beats a failed one: a retry is normal;
// - two done lines with the same status and metrics are the same result (timings and memory may differ):
//   the target's is kept (else the first source's);
// - two done lines that differ are a conflict: exit 2 naming the key and both files, nothing written;
// - of two failed lines, the target's is kept (else the newest).
import { resolve } from 'node:path';
import { UserError } from '@worldbench/core';
import { canonicalJson, jobLabel } from './jobs';
import type { LockOptions } from './lock';
import type { JobResult } from './result';
import { planFileName, readPlanRecords, resultsFileName, shardJobs, writePlanRecord, type PlanRecord } from './shard';
import { newestByKey, readResultLines, ResultsStore, RESULTS_FILE, type StoreRepairs } from './store';

export interface MergeSummary {
  /** The merged line of every planned job that has one, in plan order. */
  results: JobResult[];
  file: string;
  /** n of the shards' --shard i/n split (1 when only whole runs were merged). */
  shards: number;
  /** Planned jobs with no line anywhere, by the shard that should have run them. */
  missing: Map<number, number>;
  /** Lines appended to the target, and planned jobs whose line the target already held. */
  added: number;
  kept: number;
  /** What opening the target repaired (rules of store.ts), to be said once. */
  repairs: StoreRepairs;
}

/**
 * A results file merge reads: its newest line of each key in its part of the plan (a shard's, or all of a whole run's).
 */
interface Source {
  /** How a message names it: "shard 1/3 (path)", or the path of a whole run's results.jsonl. */
  label: string;
  lines: Map<string, JobResult>;
}

const where = (r: { record: PlanRecord; file: string }) =>
  `shard ${r.record.shard.index}/${r.record.shard.count} (${r.file})`;

type Found = ReturnType<typeof readPlanRecords>[number];

/**
 * The plan records of the given folders, checked to be one plan run on one code; whole runs (count 1) may join shards.
 */
function onePlan(dirs: readonly string[]): Found[] {
  if (dirs.length === 0)
    throw new UserError('merge needs the folders of the shards: pnpm bench merge DIR... --out DIR');
  const records = dirs.flatMap((d) => {
    const found = readPlanRecords(resolve(d));
    if (found.length === 0)
      throw new UserError(
        `${d} holds no plan.shard-i-of-n.json (nor plan.json): give the --out folders of \`pnpm bench --shard ` +
          `i/n\` runs`,
      );
    return found;
  });
  // a folder given twice (or as --out too) counts once
  const unique = [...new Map(records.map((r) => [r.file, r])).values()];
  const first = unique[0];
  for (const s of unique.slice(1)) {
    if (s.record.planHash !== first.record.planHash)
      throw new UserError(
        `these shards come from different ` +
          `plans: ` +
          `${where(first)} ran plan ` +
          `${first.record.planHash} (${first.record.keys.length} jobs: ${first.record.argv.join(' ')}), ` +
          `${where(s)} ran plan ` +
          `${s.record.planHash} (${s.record.keys.length} jobs: ` +
          `${s.record.argv.join(' ')}). Merge only the shards of one command.`,
      );
    if (s.record.codeHash !== first.record.codeHash)
      throw new UserError(
        `these shards ran ` +
          `different code: ` +
          `${where(first)} code ` +
          `${first.record.codeHash} (commit ` +
          `${first.record.commit}), ${where(s)} code ${s.record.codeHash} (commit ${s.record.commit}). ` +
          'The sources of a package the jobs import differ between them, and results of different code are never ' +
          'mixed: rerun the stale shards on the same checkout, then merge.',
      );
  }
  const shards = unique.filter((r) => r.record.shard.count > 1);
  const byIndex = new Map<number, Found>();
  for (const s of shards) {
    if (s.record.shard.count !== shards[0].record.shard.count)
      throw new UserError(
        `these shards split the plan differently: ${where(shards[0])} and ${where(s)}; merge the n shards of one ` +
          `--shard i/n split`,
      );
    const twin = byIndex.get(s.record.shard.index);
    if (twin) throw new UserError(`${where(s)} is given twice: also as ${twin.file}; give each shard once`);
    byIndex.set(s.record.shard.index, s);
  }
  return unique;
}

/** A result that counts as done: a rerun skips it. */
const done = (r: JobResult) => r.status !== 'failed';
/** Two done lines of one key are the same result when their status and metrics are (timings may differ). */
const sameResult = (a: JobResult, b: JobResult) =>
  canonicalJson([a.status, a.metrics]) === canonicalJson([b.status, b.metrics]);

interface Line {
  result: JobResult;
  /** Which file it comes from, for a message. */
  from: string;
  inTarget: boolean;
}

function describeLine(line: Line): string {
  const skill = line.result.metrics?.test.skill?.['1'];
  return `${line.from} (${line.result.status}${
    skill !== undefined ? `, skill h=1 ` + `${skill}` : ''
  }, finished ${line.result.finishedAt ?? 'at an unknown time'})`;
}

/** The line that stands of two met for one key: `kept` (the target's, or an earlier source's) or `met`. */
function pick(kept: Line, met: Line): Line {
  if (done(kept.result) !== done(met.result)) return done(kept.result) ? kept : met;
  if (!done(kept.result))
    return kept.inTarget || (kept.result.finishedAt ?? '') >= (met.result.finishedAt ?? '') ? kept : met;
  if (sameResult(kept.result, met.result)) return kept;
  throw new UserError(
    `job ${kept.result.key} (${jobLabel(kept.result)}) has two different ` +
      `results: ${describeLine(kept)} and ${describeLine(met)}. ` +
      'The same job on the same code should give the same metrics; nothing was written. Keep the one you trust ' +
      '(delete the other line, or leave its folder out of the merge), then merge again.',
  );
}

/**
 * What merging the sources into a target that holds `target` comes to: the lines to append, and every planned job's
 * line.
 */
function decide(
  keys: readonly string[],
  target: Map<string, JobResult>,
  targetFile: string,
  sources: readonly Source[],
) {
  const add: JobResult[] = [];
  const merged: JobResult[] = [];
  const missing: number[] = []; // plan places without a line anywhere
  let kept = 0;
  keys.forEach((key, place) => {
    const had = target.get(key);
    let best: Line | undefined = had && { result: had, from: `the target ${targetFile}`, inTarget: true };
    for (const s of sources) {
      const line = s.lines.get(key);
      if (line)
        best = best
          ? pick(best, { result: line, from: s.label, inTarget: false })
          : { result: line, from: s.label, inTarget: false };
    }
    if (!best) missing.push(place);
    else {
      merged.push(best.result);
      if (best.inTarget) kept++;
      else add.push(best.result);
    }
  });
  return { add, merged, missing, kept };
}

/** The newest line of each key in a source's part of the plan. */
function readSource(found: Found, keys: readonly string[]): Source {
  const part = new Set(shardJobs(keys, found.record.shard, found.record.units));
  const lines = newestByKey(readResultLines(found.results).results);
  for (const key of lines.keys()) if (!part.has(key)) lines.delete(key);
  const label =
    found.record.shard.count > 1
      ? `shard ${found.record.shard.index}/${found.record.shard.count} (${found.results})`
      : found.results;
  return { label, lines };
}

export function mergeShards(dirs: readonly string[], out: string, lock: LockOptions): MergeSummary {
  const records = onePlan(dirs);
  const plan = records[0].record;
  const dir = resolve(out);
  const file = resolve(dir, RESULTS_FILE);
  const sources = records.filter((r) => r.results !== file).map((r) => readSource(r, plan.keys));
  // first without touching anything: a conflict writes nothing
  decide(plan.keys, newestByKey(readResultLines(file).results), file, sources);
  // then under the target's lock, against what it holds now
  const store = ResultsStore.open(dir, RESULTS_FILE, lock);
  try {
    const outcome = decide(plan.keys, new Map(store.all().map((r) => [r.key, r])), file, sources);
    for (const r of outcome.add) store.append(r);
    writePlanRecord(dir, {
      ...plan,
      shard: { index: 0, count: 1 },
      argv: plan.argv.filter((a, i, all) => a !== '--shard' && all[i - 1] !== '--shard' && !a.startsWith('--shard=')),
    });
    const n = records.find((r) => r.record.shard.count > 1)?.record.shard.count ?? 1;
    const missing = new Map<number, number>();
    for (const place of outcome.missing) {
      // the shard of a place: its unit's (a generalist fit's rows share one), dealt round robin
      const shard = (plan.units?.[place] ?? place) % n;
      missing.set(shard, (missing.get(shard) ?? 0) + 1);
    }
    return {
      results: outcome.merged,
      file,
      shards: n,
      missing,
      added: outcome.add.length,
      kept: outcome.kept,
      repairs: store.repairs,
    };
  } finally {
    store.close();
  }
}

/**
 * The human summary of a merge, e.g. "merged 3 shard(s): 24 jobs (24 ok, ...) into ...; 24 added"; says what is missing
 * and how to get it.
 */
export function describeMerge(summary: MergeSummary): string {
  const count = (s: string) => summary.results.filter((r) => r.status === s).length;
  const lines = [
    `merged ` +
      `${summary.shards} shard(s): ` +
      `${summary.results.length} jobs (` +
      `${count('ok')} ok, ${count('failed')} failed, ${count('unsupported')} unsupported) into ${summary.file}; ` +
      `${summary.added} line(s) added, ${summary.kept} job(s) already there kept`,
  ];
  for (const [index, n] of [...summary.missing].sort(([a], [b]) => a - b))
    lines.push(
      summary.shards > 1
        ? `shard ${index}/${summary.shards}: ${n} job(s) missing ` +
            `(${resultsFileName({ index, count: summary.shards })} absent or unfinished): ` +
            `run it (again) with --shard ${index}/${summary.shards}, then merge again`
        : `${n} job(s) missing: run the command again (${planFileName(null)} holds it), then merge again`,
    );
  return lines.join('\n');
}
