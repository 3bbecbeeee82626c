// How far each run folder of a report got: of the jobs the last command run into it planned (plan.json, or
// each shard's plan.shard-i-of-n.json), how many have a result and of which status. A report of a sweep
// still running, or stopped, says so itself instead of leaving it to whoever copies the table.
import { join } from 'node:path';
import type { JobResult, JobStatus } from './result';
import { readPlanRecords, shardJobs } from './shard';
import { newestByKey, readResultLines, RESULTS_FILE } from './store';

export interface RunCoverage {
  dir: string;
  /** The command's arguments (of the first plan record), null for a folder without one (a filtered copy). */
  argv: string[] | null;
  /** Every commit the folder's plan records name (a sweep resumed at a newer checkout writes a new one). */
  commits: string[];
  /** Jobs planned (null without a plan record); results counted by status, of planned jobs only when planned. */
  planned: number | null;
  done: Record<JobStatus, number>;
}

/** Of two lines of one job in different files, the one that counts: a done line beats a failed one (as in merge). */
const replaces = (seen: JobResult | undefined) => !seen || seen.status === 'failed';

/**
 * The coverage of one run folder: each job the folder's plan records planned, by the status of its newest line
 * in the results file of a record that planned it (a shard's file for its part of the plan; a folder holding
 * shards and a merge of them counts each job once).
 */
export function runCoverage(dir: string): RunCoverage {
  const done: Record<JobStatus, number> = { ok: 0, failed: 0, unsupported: 0 };
  const records = readPlanRecords(dir);
  if (!records.length) {
    for (const r of newestByKey(readResultLines(join(dir, RESULTS_FILE)).results).values()) done[r.status]++;
    return { dir, argv: null, commits: [], planned: null, done };
  }
  const planned = new Set<string>();
  const lines = new Map<string, JobResult>();
  for (const { record, results } of records) {
    const stored = newestByKey(readResultLines(results).results);
    for (const key of shardJobs(record.keys, record.shard, record.units)) {
      planned.add(key);
      const line = stored.get(key);
      if (line && replaces(lines.get(key))) lines.set(key, line);
    }
  }
  for (const line of lines.values()) done[line.status]++;
  return {
    dir,
    argv: records[0].record.argv,
    commits: [...new Set(records.map((r) => r.record.commit?.replace(/^([0-9a-f]{7})[0-9a-f]*/, '$1') ?? 'unknown'))],
    planned: planned.size,
    done,
  };
}

/**
 * One line, e.g. "`results/a`: `pnpm bench --full ...` at f8e47f6: 1589 of 2160 planned jobs done (...); 571 to
 * run". `code` marks up the folder and the command (Markdown backticks by default), `text` what else was read
 * from the folder (the commits; escaped for HTML by the report).
 */
export function describeCoverage(c: RunCoverage, code = (s: string) => `\`${s}\``, text = (s: string) => s): string {
  const { ok, failed, unsupported } = c.done;
  const statuses = `${ok} ok, ${unsupported} unsupported, ${failed} failed`;
  if (c.planned === null)
    return (
      `${code(c.dir)}: no plan record (a copied or filtered ` +
      `folder): ${ok + failed + unsupported} results (${statuses})`
    );
  const finished = ok + unsupported;
  const left = c.planned - finished;
  return (
    `${code(c.dir)}: ${code(`pnpm bench ` + `${c.argv!.join(' ')}`)} at ` +
    `${text(c.commits.join(', '))}: ${finished} of ` +
    `${c.planned} planned ` +
    `jobs done (${statuses})${left ? `; ${left} to run (failed ones rerun on resume)` : ', complete'}`
  );
}
