// The sweep: skip what the store already holds, run the rest (in worker processes, or in this process
// with --workers 0), store each line as it finishes. This process is the results file's only writer.
import { jobLabel } from './jobs';
import { runInWorkers, JOB_THREADS, type JobRunContext } from './pool';
import type { SweepProgress } from './progress';
import { describeFailure, type JobResult } from './result';
import { runJob, type PlannedJob } from './run-job';
import { runUnit } from './unit';
import type { ResultsStore } from './store';

export interface SweepOptions {
  /** Worker processes at once; 0 runs the jobs one by one in this process (debugging: no timeout, no isolation). */
  workers: number;
  jobTimeoutSeconds: number;
  root: string;
  /** What past results say the jobs to run will take (wall seconds with these workers), or null: unknown. */
  estimateSeconds?: number | null;
}

const label = (p: PlannedJob) => jobLabel(p.job);
/** A unit as progress shows it: a generalist fit names its worlds, not its first row's scenario. */
const unitLabel = (p: PlannedJob) =>
  p.fitRows ? jobLabel({ ...p.job, scenario: `{${p.fitRows.map((r) => r.job.scenario).join(',')}}` }) : label(p);

/** Whether a stored line stands (a rerun skips its job): ok or unsupported; a failed one is retried. */
export const isDone = (stored: JobResult | undefined): stored is JobResult =>
  stored !== undefined && stored.status !== 'failed';

/**
 * The units of work of the jobs to run, in plan order: a job alone, or a generalist fit, whose unit is its first row
 * with every row of the fit in `fitRows` (taken from `planned`: a fit with one row left to run reruns whole).
 */
export function workUnits(todo: readonly PlannedJob[], planned: readonly PlannedJob[]): PlannedJob[] {
  const rowsOf = new Map<string, PlannedJob[]>();
  for (const p of planned) if (p.fit) rowsOf.set(p.fit, [...(rowsOf.get(p.fit) ?? []), p]);
  const units: PlannedJob[] = [];
  const seen = new Set<string>();
  for (const p of todo) {
    if (!p.fit) units.push(p);
    else if (!seen.has(p.fit)) {
      seen.add(p.fit);
      const rows = rowsOf.get(p.fit)!;
      units.push({ ...rows[0], fitRows: rows });
    }
  }
  return units;
}

/** Runs the jobs the store does not hold as ok (or unsupported); returns every job's line, in plan order. */
export async function runSweep(
  planned: readonly PlannedJob[],
  store: ResultsStore,
  options: SweepOptions,
  progress: SweepProgress,
): Promise<JobResult[]> {
  const results = new Map<PlannedJob, JobResult>();
  const finish = (p: PlannedJob, lines: readonly JobResult[], seconds: number) => {
    // a unit's rows: one job's line, or every row of a generalist fit, each with its share of the wall time (the
    // job's whole wall time: worker start, data, fit, evaluation; what a later --dry-run estimates from)
    const rows = p.fitRows ?? [p];
    const share = seconds / rows.length;
    const stored = lines.map((r) => (r.cost ? { ...r, cost: { ...r.cost, wallSeconds: share } } : r));
    store.appendAll(stored);
    for (const line of stored) {
      const row = rows.find((x) => x.key === line.key);
      if (!row) continue;
      results.set(row, line);
      progress.jobFinished(row.key, label(row), {
        status: line.status,
        cached: false,
        seconds: share,
        failure: line.status === 'failed' ? describeFailure(line) : undefined,
      });
    }
  };
  const context = (p: PlannedJob): JobRunContext => ({
    seed: p.job.seed,
    signal: new AbortController().signal,
    threads: JOB_THREADS,
    log: (m) => progress.log(unitLabel(p), m),
    progress: (d, t, note) => progress.jobProgress(p.key, d, t, note),
  });

  const todo = planned.filter((p) => !isDone(store.get(p.key)));
  progress.start(planned.length, {
    workers: Math.max(1, options.workers),
    cached: planned.length - todo.length,
    estimateSeconds: options.estimateSeconds ?? null,
  });
  for (const p of planned) {
    const stored = store.get(p.key);
    if (isDone(stored)) {
      results.set(p, stored);
      progress.jobFinished(p.key, label(p), { status: stored.status, cached: true, seconds: 0 });
    }
  }

  // unsupported jobs load nothing: their line is written here, at once
  const runnable: PlannedJob[] = [];
  for (const p of todo) {
    if (!p.unsupported) runnable.push(p);
    else finish(p, [await runJob(p, options.root, context(p))], 0);
  }
  const units = workUnits(runnable, planned);

  if (options.workers === 0) {
    for (const p of units) {
      // a job in this process may never wait for I/O: let a pending signal (Ctrl-C) be handled between jobs
      await new Promise((resolve) => setImmediate(resolve));
      progress.jobStarted(p.key, unitLabel(p));
      const t0 = performance.now();
      finish(
        p,
        await runUnit(p, options.root, context(p), (phase) => progress.jobPhase(p.key, phase)),
        (performance.now() - t0) / 1000,
      );
    }
  } else {
    await runInWorkers(
      units,
      { workers: options.workers, jobTimeoutSeconds: options.jobTimeoutSeconds, root: options.root },
      {
        started: (p) => progress.jobStarted(p.key, unitLabel(p)),
        log: (p, m) => progress.log(unitLabel(p), m),
        progress: (p, d, t, note) => progress.jobProgress(p.key, d, t, note),
        phase: (p, phase) => progress.jobPhase(p.key, phase),
        finished: finish,
      },
    );
  }
  return planned.map((p) => results.get(p)!);
}
