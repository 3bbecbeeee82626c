// The worker pool: up to N child processes at once, one job each (a fresh process per job), killed on
// timeout. Plain child_process.fork rather than a pool library: see the README ("Worker pool").
// Threads cannot be stopped inside native tfjs or ONNX Runtime code, and a native crash or an
// out-of-memory kill must not take the sweep down: a process can be killed, and its death is observed.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { JobPhase, JobResult } from './result';
import { failedResults, type PlannedJob } from './run-job';
import type { RunJobMessage, WorkerMessage } from './worker-messages';

export type { JobRunContext } from './worker-messages';

/** Intra-op threads per job. */
export const JOB_THREADS = 1;

/** Set in every worker's environment: what native libraries read to size their thread pools. */
export const SINGLE_THREAD_ENV: Readonly<Record<string, string>> = {
  OMP_NUM_THREADS: String(JOB_THREADS),
  TF_NUM_INTRAOP_THREADS: String(JOB_THREADS),
  TF_NUM_INTEROP_THREADS: String(JOB_THREADS),
  OPENBLAS_NUM_THREADS: String(JOB_THREADS),
  MKL_NUM_THREADS: String(JOB_THREADS),
  WORLDBENCH_THREADS: String(JOB_THREADS),
};

export interface PoolOptions {
  /** Child processes at once (>= 1). */
  workers: number;
  /** A job still running after this long is killed with SIGKILL and recorded as failed. */
  jobTimeoutSeconds: number;
  /** Workspace root: the workers' cwd, recorded in results (git commit). */
  root: string;
}

/** What the pool tells the sweep. All calls happen on the parent's one thread, one at a time. */
export interface PoolListener {
  started(planned: PlannedJob): void;
  log(planned: PlannedJob, message: string): void;
  progress(planned: PlannedJob, done: number, total: number, note?: string): void;
  /** The job entered a phase (load, fit, forecast, ...). */
  phase(planned: PlannedJob, phase: JobPhase): void;
  /**
   * The job's line (ok, or failed with its reason), or the lines of a generalist fit (one per row of `fitRows`):
   * the parent stores them here, synchronously.
   */
  finished(planned: PlannedJob, results: JobResult[], seconds: number): void;
}

const WORKER_ENTRY = fileURLToPath(new URL('./job-worker.ts', import.meta.url));
/**
 * After a worker sent its result it exits by itself; one that lingers longer than this is killed (its result stands).
 */
const LINGER_MS = 10_000;
// V8's native stack after a fatal error is a few KB: keep enough to still hold the error line
const STDERR_TAIL_CHARS = 32_000;

/** The tsx loader, so that workers run the TypeScript sources as the parent does. */
function tsxLoader(): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch (err) {
    throw new Error(
      'the worker pool runs TypeScript through tsx, which is not installed next to @worldbench/runner: run pnpm ' +
        'install (or use --workers 0)',
      { cause: err },
    );
  }
}

/** Splits a stream into lines, calling `line` for each whole one (and the rest at the end). */
function lineSplitter(line: (text: string) => void): { push(chunk: Buffer | string): void; end(): void } {
  let buffered = '';
  return {
    push(chunk) {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl).trimEnd();
        buffered = buffered.slice(nl + 1);
        if (text) line(text);
      }
    },
    end() {
      if (buffered.trim()) line(buffered.trimEnd());
      buffered = '';
    },
  };
}

/** The line of a dying process's stderr that says why: V8's fatal error, a thrown error; else its last lines. */
export function lastWords(stderrTail: string): string {
  const lines = stderrTail
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Node\.js v\d/.test(l));
  const fatal =
    lines.find((l) => /FATAL ERROR|out of memory/i.test(l)) ?? lines.findLast((l) => /^[A-Za-z]*Error\b/.test(l));
  return (fatal ?? lines.slice(-3).join(' | ')).slice(0, 600);
}

/** Why a worker died without a result: the timeout (with the signal that ended it), a signal, an exit code. */
export function workerDeathReason(death: {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOutAfter: number | null;
  stderrTail: string;
}): string {
  const words = lastWords(death.stderrTail);
  const said = words ? `; its stderr said: ${words}` : '';
  if (death.timedOutAfter !== null)
    return (
      `timed ` +
      `out after ${death.timedOutAfter} s (--job-timeout): the worker process was ` +
      `killed with ${death.signal ?? 'SIGKILL'}`
    );
  if (death.signal)
    return (
      `the worker process was ` +
      `killed by ${death.signal} before reporting ` +
      `a result${death.signal === 'SIGKILL' ? ' (out of memory? the kernel OOM killer sends SIGKILL)' : ''}${said}`
    );
  return `the worker process exited with code ${death.code} before reporting a result${said}`;
}

function runInChild(
  planned: PlannedJob,
  options: PoolOptions,
  listener: PoolListener,
  live: Set<ChildProcess>,
  loader: string,
): Promise<JobResult[]> {
  return new Promise((resolve) => {
    const child = fork(WORKER_ENTRY, [], {
      cwd: options.root,
      execArgv: ['--import', loader],
      env: { ...process.env, ...SINGLE_THREAD_ENV },
      // a model's console output must not reach stdout (where --json goes): it is logged on stderr
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    live.add(child);
    let result: JobResult[] | null = null;
    let phase: JobPhase = 'start'; // the last phase the worker reported: where it was if it dies
    let timedOut = false;
    let stderrTail = '';
    let settled = false;
    const out = lineSplitter((l) => listener.log(planned, l));
    const err = lineSplitter((l) => listener.log(planned, l));
    child.stdout!.on('data', (c) => out.push(c));
    child.stderr!.on('data', (c) => {
      stderrTail = (stderrTail + c.toString()).slice(-STDERR_TAIL_CHARS);
      err.push(c);
    });
    const timeout = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.jobTimeoutSeconds * 1000);
    let linger: NodeJS.Timeout | undefined;
    let streamsGrace: NodeJS.Timeout | undefined;

    const settle = (lines: JobResult[]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      clearTimeout(linger);
      clearTimeout(streamsGrace);
      live.delete(child);
      out.end();
      err.end();
      resolve(lines);
    };

    child.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'ready':
          child.send({ type: 'run', planned, root: options.root, threads: JOB_THREADS } satisfies RunJobMessage);
          break;
        case 'log':
          listener.log(planned, message.message);
          break;
        case 'progress':
          listener.progress(planned, message.done, message.total, message.note);
          break;
        case 'phase':
          phase = message.phase;
          listener.phase(planned, message.phase);
          break;
        case 'result':
          if (timedOut) break; // too late: the kill is on its way
          result = message.results;
          clearTimeout(timeout);
          linger = setTimeout(() => child.kill('SIGKILL'), LINGER_MS);
          break;
      }
    });
    child.on('error', (e) => {
      // could not be started (or signalled); 'exit' may never come
      if (child.exitCode === null && child.signalCode === null && child.pid === undefined)
        settle(
          failedResults(planned, options.root, {
            message: `could not start a worker process: ${e.message}`,
            phase: 'start',
          }),
        );
    });
    child.on('exit', (code, signal) => {
      // stderr may still hold the last words of a crash: wait for the streams, but not for ever
      const done = () =>
        settle(
          result ??
            failedResults(planned, options.root, {
              message: workerDeathReason({
                code,
                signal,
                timedOutAfter: timedOut ? options.jobTimeoutSeconds : null,
                stderrTail,
              }),
              phase,
            }),
        );
      child.once('close', done);
      streamsGrace = setTimeout(done, 1000);
    });
  });
}

/**
 * How many worker processes a run starts: --workers, but never more than the jobs planned; above the
 * number of cores they share cores, which the warning says (each job slower, its fit seconds inflated).
 */
export function poolSize(requested: number, jobs: number, cores: number): { workers: number; warning: string | null } {
  const workers = Math.min(requested, jobs);
  const warning =
    workers > cores
      ? `warning: --workers ${requested} starts ${workers} worker processes on ${cores} core(s): they will share ` +
        `the cores, so each job runs slower and its fit seconds grow`
      : null;
  return { workers, warning };
}

/**
 * Runs the jobs in child processes, at most `workers` at once, in the given order. Every job ends in
 * exactly one `finished` call, whatever happens to its process.
 */
export async function runInWorkers(
  jobs: readonly PlannedJob[],
  options: PoolOptions,
  listener: PoolListener,
): Promise<void> {
  if (jobs.length === 0) return;
  const loader = tsxLoader();
  const live = new Set<ChildProcess>();
  // Ctrl-C, scancel, a pod's termination: take the workers down too (a worker also exits by itself when
  // its parent's IPC channel closes, but not while it is stuck in native code)
  const onSignal = (signal: NodeJS.Signals) => {
    for (const child of live) child.kill('SIGKILL');
    process.exit(128 + (constants.signals[signal] ?? 1));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const planned = jobs[next++];
      listener.started(planned);
      const t0 = performance.now();
      const result = await runInChild(planned, options, listener, live, loader);
      listener.finished(planned, result, (performance.now() - t0) / 1000);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.workers, jobs.length) }, lane));
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}
