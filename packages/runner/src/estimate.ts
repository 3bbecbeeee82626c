// How long a plan's jobs will take, from how long the same jobs took before: `--dry-run` says it, a sweep of
// many new jobs says it before it starts, and the progress display's ETA starts from it.
//
// A past line is "the same job" when it has the job's setup (model id and config, scenario, view, protocol,
// budget, evaluation settings), whatever its seed or code: seeds of one setup take about as long. Without
// one, the nearest budget of the same setup is scaled linearly in the budget (most models' fit grows at
// least that fast; persistence does not grow at all, so this over-estimates it). Otherwise the job is unknown,
// and said so: an estimate never pretends to cover jobs it knows nothing about.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { canonicalJson, type Job } from './jobs';
import { RESULTS_FILE } from './store';

/** What an estimate needs of a past line. */
export interface PastTiming {
  job: Omit<Job, 'model'>;
  /** Wall seconds of the whole job. */
  seconds: number;
}

export interface PlanEstimate {
  /** Wall seconds for all the known jobs with `workers` at once, or null when none is known. */
  seconds: number | null;
  /** Jobs with a timing of the same setup, jobs scaled from another budget, jobs with none. */
  known: number;
  scaled: number;
  unknown: number;
}

/** A setup: a job without its seed. */
const setupOf = (job: Omit<Job, 'model'>, budget = job.budget) =>
  canonicalJson({
    m: job.modelId,
    c: job.config,
    s: job.scenario,
    v: job.view,
    p: job.protocol,
    b: budget,
    e: job.evaluation,
  });

/**
 * The wall seconds of a past line: `cost.wallSeconds` (recorded since results format 2), else its fit and
 * forecast seconds (older lines; leaves out worker start and data, so it under-estimates a little).
 */
function secondsOf(line: Record<string, any>): number | null {
  const cost = line.cost;
  if (!cost || typeof cost !== 'object') return null;
  if (typeof cost.wallSeconds === 'number' && cost.wallSeconds >= 0) return cost.wallSeconds;
  if (typeof cost.fitSeconds !== 'number') return null;
  const e = line.evaluation ?? {};
  const windows = (Number(e.testEpisodes) || 0) + (Number(e.oodEpisodes) || 0);
  const forecast =
    typeof cost.forecastStepsPerSecond === 'number' && cost.forecastStepsPerSecond > 0
      ? (windows * (Number(e.horizon) || 1)) / cost.forecastStepsPerSecond
      : 0;
  return cost.fitSeconds + forecast;
}

/**
 * The timings in results files, read loosely (a line that is not JSON, or has no timing, is skipped: this
 * only estimates). `files` that do not exist are skipped.
 */
export function readTimings(files: readonly string[]): PastTiming[] {
  const out: PastTiming[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    for (const text of readFileSync(file, 'utf8').split('\n')) {
      if (!text.trim()) continue;
      let line: Record<string, any>;
      try {
        line = JSON.parse(text);
      } catch {
        continue;
      }
      if (line?.status !== 'ok' || typeof line.modelId !== 'string') continue;
      const seconds = secondsOf(line);
      if (seconds !== null) out.push({ job: line as Job, seconds });
    }
  }
  return out;
}

/** The results files of a run folder and of the run folders beside it (results/<run>/...): where past timings are. */
export function timingFiles(runDir: string): string[] {
  // a folder that cannot be read (permissions, a dangling link) has no timings to give: it is passed over
  const entries = (dir: string) => {
    try {
      return readdirSync(dir).map((name) => join(dir, name));
    } catch {
      return [];
    }
  };
  const isDir = (path: string) => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  };
  const dirs = [...new Set([runDir, ...entries(dirname(runDir)).filter(isDir)])];
  return dirs.flatMap((d) =>
    entries(d).filter((f) => /^results(\.shard-\d+-of-\d+)?\.jsonl$/.test(basename(f)) || basename(f) === RESULTS_FILE),
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The estimate of running `jobs` with `workers` at once (0: one after the other, as 1). */
export function estimatePlan(
  jobs: ReadonlyArray<Omit<Job, 'model'>>,
  past: readonly PastTiming[],
  workers: number,
): PlanEstimate {
  const bySetup = new Map<string, number[]>();
  const budgetsOf = new Map<string, Set<number>>(); // setup without budget -> budgets timed
  for (const t of past) {
    const k = setupOf(t.job);
    bySetup.set(k, [...(bySetup.get(k) ?? []), t.seconds]);
    if (typeof t.job.budget === 'number') {
      const loose = setupOf(t.job, null);
      budgetsOf.set(loose, (budgetsOf.get(loose) ?? new Set()).add(t.job.budget));
    }
  }
  let total = 0,
    known = 0,
    scaled = 0,
    unknown = 0;
  for (const job of jobs) {
    const same = bySetup.get(setupOf(job));
    if (same) {
      total += median(same);
      known++;
      continue;
    }
    const budgets = typeof job.budget === 'number' ? [...(budgetsOf.get(setupOf(job, null)) ?? [])] : [];
    if (budgets.length) {
      const b = budgets.reduce((best, x) =>
        Math.abs(Math.log(x / job.budget!)) < Math.abs(Math.log(best / job.budget!)) ? x : best,
      );
      total += median(bySetup.get(setupOf(job, b))!) * (job.budget! / b);
      scaled++;
    } else unknown++;
  }
  return { seconds: known + scaled ? total / Math.max(1, workers) : null, known, scaled, unknown };
}
