// What the pool (pool.ts) and a worker process (job-worker.ts) say to each other, and the RunContext a job gets
// from the runner: in a file of their own, so that neither of the two imports the other.
import type { RunContext } from '@worldbench/core';
import type { JobPhase, JobResult } from './result';
import type { PlannedJob } from './run-job';

/**
 * The RunContext a job gets from the runner. `threads` is a hint for models that size a thread pool
 * themselves (ONNX Runtime's intraOpNumThreads, a tfjs-node session): each job runs on one thread, so that
 * results do not depend on the worker count and N workers use N cores.
 */
export interface JobRunContext extends RunContext {
  threads: number;
}

/** Parent -> worker. */
export interface RunJobMessage {
  type: 'run';
  planned: PlannedJob;
  root: string;
  threads: number;
}

/** Worker -> parent. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'log'; message: string }
  | { type: 'progress'; done: number; total: number; note?: string }
  | { type: 'phase'; phase: JobPhase }
  | { type: 'result'; results: JobResult[] };
