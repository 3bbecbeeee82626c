// `pnpm bench merge <dirs...> --out DIR`: joins the shards of one plan into DIR/results.jsonl, the same
// file a single run of the plan writes (apart from timings), and refuses shards of other plans or code.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '@worldbench/core';
import type { JobResult } from './result';
import { planFileName, readPlanRecords, resultsFileName, writeFileAtomic, writePlanRecord, type PlanRecord } from './shard';
import { newestByKey, readResultLines, RESULTS_FILE } from './store';

export interface MergeSummary {
  /** The merged lines, in plan order. */
  results: JobResult[];
  file: string;
  shards: number;
  /** Planned jobs with no line in any shard, by shard index. */
  missing: Map<number, number>;
}

const where = (r: { record: PlanRecord; file: string }) => `shard ${r.record.shard.index}/${r.record.shard.count} (${r.file})`;

export function mergeShards(dirs: readonly string[], out: string): MergeSummary {
  if (dirs.length === 0) throw new UserError('merge needs the folders of the shards: pnpm bench merge DIR... --out DIR');
  const shards = dirs.flatMap((d) => {
    const found = readPlanRecords(resolve(d));
    if (found.length === 0) throw new UserError(`${d} holds no plan.shard-i-of-n.json (nor plan.json): give the --out folders of \`pnpm bench --shard i/n\` runs`);
    return found;
  });
  const first = shards[0];
  for (const s of shards.slice(1)) {
    if (s.record.planHash !== first.record.planHash)
      throw new UserError(
        `these shards come from different plans: ${where(first)} ran plan ${first.record.planHash} (${first.record.keys.length} jobs: ${first.record.argv.join(' ')}), ` +
          `${where(s)} ran plan ${s.record.planHash} (${s.record.keys.length} jobs: ${s.record.argv.join(' ')}). Merge only the shards of one command.`,
      );
    if (s.record.codeHash !== first.record.codeHash)
      throw new UserError(
        `these shards ran different code: ${where(first)} code ${first.record.codeHash} (commit ${first.record.commit}), ${where(s)} code ${s.record.codeHash} (commit ${s.record.commit}). ` +
          'The sources of core, runner, a model or a scenario differ between them, and results of different code are never mixed: rerun the stale shards on the same checkout, then merge.',
      );
    if (s.record.shard.count !== first.record.shard.count)
      throw new UserError(`these shards split the plan differently: ${where(first)} and ${where(s)}; merge the n shards of one --shard i/n split`);
  }
  const byIndex = new Map<number, (typeof shards)[number]>();
  for (const s of shards) {
    const twin = byIndex.get(s.record.shard.index);
    if (twin) throw new UserError(`${where(s)} is given twice: also as ${twin.file}; give each shard once`);
    byIndex.set(s.record.shard.index, s);
  }

  // the newest line of each key of the shard's own part of the plan; the inputs are only read
  const n = first.record.shard.count;
  const keys = first.record.keys;
  const merged = new Map<string, JobResult>();
  const missing = new Map<number, number>();
  for (let index = 0; index < n; index++) {
    const shard = byIndex.get(index);
    const lines = shard ? newestByKey(readResultLines(shard.results).results) : new Map<string, JobResult>();
    for (let j = index; j < keys.length; j += n) {
      const line = lines.get(keys[j]);
      if (line) merged.set(keys[j], line);
      else missing.set(index, (missing.get(index) ?? 0) + 1);
    }
  }

  const dir = resolve(out);
  const file = join(dir, RESULTS_FILE);
  if (existsSync(file)) {
    const previous = existsSync(dir) ? readPlanRecords(dir).find((r) => r.file === join(dir, planFileName(null))) : undefined;
    if (!previous || previous.record.planHash !== first.record.planHash || previous.record.codeHash !== first.record.codeHash)
      throw new UserError(`${file} already holds results of another run; merge into an empty folder (or the folder of an earlier merge of these shards)`);
  }
  const results = keys.flatMap((k) => (merged.has(k) ? [merged.get(k)!] : []));
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(file, results.map((r) => JSON.stringify(r) + '\n').join(''));
  writePlanRecord(dir, { ...first.record, shard: { index: 0, count: 1 }, argv: first.record.argv.filter((a, i, all) => a !== '--shard' && all[i - 1] !== '--shard' && !a.startsWith('--shard=')) });
  return { results, file, shards: n, missing };
}

/** The human summary of a merge, e.g. "merged 3 shards: 24 jobs (24 ok) into ..."; says what is missing and how to get it. */
export function describeMerge(summary: MergeSummary): string {
  const count = (s: string) => summary.results.filter((r) => r.status === s).length;
  const lines = [`merged ${summary.shards} shard(s): ${summary.results.length} jobs (${count('ok')} ok, ${count('failed')} failed, ${count('unsupported')} unsupported) into ${summary.file}`];
  for (const [index, n] of [...summary.missing].sort(([a], [b]) => a - b))
    lines.push(`shard ${index}/${summary.shards}: ${n} job(s) missing (${resultsFileName({ index, count: summary.shards })} absent or unfinished): run it (again) with --shard ${index}/${summary.shards}, then merge again`);
  return lines.join('\n');
}
