// The sweep: skip what the store already holds, run the rest (in worker processes, or in this process
// with --workers 0), store each line as it finishes. This process is the results file's only writer.
import { jobLabel } from './jobs';
import { runInWorkers, JOB_THREADS, type JobRunContext } from './pool';
import type { SweepProgress } from './progress';
import type { JobResult } from './result';
import { runJob, type PlannedJob } from './run-job';
import type { ResultsStore } from './store';

export interface SweepOptions {
  /** Worker processes at once; 0 runs the jobs one by one in this process (debugging: no timeout, no isolation). */
  workers: number;
  jobTimeoutSeconds: number;
  root: string;
}

const label = (p: PlannedJob) => jobLabel(p.job);

/** Runs the jobs the store does not hold as ok (or unsupported); returns every job's line, in plan order. */
export async function runSweep(planned: readonly PlannedJob[], store: ResultsStore, options: SweepOptions, progress: SweepProgress): Promise<JobResult[]> {
  const results = new Map<PlannedJob, JobResult>();
  const finish = (p: PlannedJob, result: JobResult, seconds: number) => {
    store.append(result);
    results.set(p, result);
    progress.jobFinished(label(p), result.status === 'failed' ? `failed: ${result.error}` : result.status, seconds, false);
  };
  const context = (p: PlannedJob): JobRunContext => ({
    seed: p.job.seed,
    signal: new AbortController().signal,
    threads: JOB_THREADS,
    log: (m) => progress.log(`${label(p)}: ${m}`),
    progress: (d, t, note) => progress.inner(d, t, note),
  });

  const todo: PlannedJob[] = [];
  for (const p of planned) {
    const stored = store.get(p.key);
    if (stored && stored.status !== 'failed') {
      results.set(p, stored);
      progress.jobFinished(label(p), stored.status, 0, true);
    } else todo.push(p);
  }

  // unsupported jobs load nothing: their line is written here, at once
  const runnable: PlannedJob[] = [];
  for (const p of todo) {
    if (!p.unsupported) runnable.push(p);
    else finish(p, await runJob(p, options.root, context(p)), 0);
  }

  if (options.workers === 0) {
    for (const p of runnable) {
      // a job in this process may never wait for I/O: let a pending signal (Ctrl-C) be handled between jobs
      await new Promise((resolve) => setImmediate(resolve));
      progress.jobStarted(label(p));
      const t0 = performance.now();
      finish(p, await runJob(p, options.root, context(p)), (performance.now() - t0) / 1000);
    }
  } else {
    await runInWorkers(runnable, { workers: options.workers, jobTimeoutSeconds: options.jobTimeoutSeconds, root: options.root }, {
      started: (p) => progress.jobStarted(label(p)),
      log: (p, m) => progress.log(`${label(p)}: ${m}`),
      progress: (_p, d, t, note) => progress.inner(d, t, note),
      finished: finish,
    });
  }
  return planned.map((p) => results.get(p)!);
}
