// What a sweep shows on stderr while it runs, and its summary at the end.
// - On a terminal: a live display (cli-progress's MultiBar) with a totals line (jobs done, elapsed, ETA, ok,
//   failed, unsupported, cached) and a line per worker (its job, phase, in-job progress and note).
// - In a log (CI, Slurm, a pipe): a timestamped line when a job starts and when it ends, and a heartbeat per
//   running job every `heartbeatSeconds` (default a minute), so a job of 30 minutes still shows it is alive.
// Either way, an environment notice (a line a job prints that starts with "worldbench: ", such as the tfjs
// backend chosen, which every worker process prints once) is shown once per sweep, not once per job.
import cliProgress from 'cli-progress';
import { describeFailure, failureOf, type JobResult, type JobStatus } from './result';

/** A job's line, as the display needs it. */
export interface JobOutcome {
  status: JobStatus;
  /** Taken from the results file: nothing ran. */
  cached: boolean;
  /** Wall seconds (0 when cached). */
  seconds: number;
  /** For a failed job: "in fit: <message>". */
  failure?: string;
}

export interface SweepProgress {
  /**
   * `total` jobs, `cached` of them already in the store; `estimateSeconds`: the dry-run estimate of the rest, when
   * known.
   */
  start(total: number, options: { workers: number; cached: number; estimateSeconds: number | null }): void;
  jobStarted(id: string, label: string): void;
  jobPhase(id: string, phase: string): void;
  /** In-job progress from a model's RunContext. */
  jobProgress(id: string, done: number, total: number, note?: string): void;
  jobFinished(id: string, label: string, outcome: JobOutcome): void;
  /** A line a job printed (label: which job), or the sweep's own (label null). */
  log(label: string | null, message: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Seconds between heartbeats of a running job in a log (non-TTY). */
  heartbeatSeconds?: number;
  /** The clock, in ms (tests pass a fake one). */
  now?: () => number;
}

/** The heartbeat period when nothing else is said: about once a minute. */
export const HEARTBEAT_SECONDS = 60;

/** A line a job prints that starts with this is an environment notice: the sweep shows each one once. */
export const NOTICE_PREFIX = 'worldbench: ';

/** 12.3 -> "12.3s", 245 -> "4m05s", 3725 -> "1h02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Seconds left: the mean wall time of the jobs run so far in this sweep times the jobs left, over the workers;
 * before any has finished, the estimate from past results (or null: unknown).
 */
export function etaSeconds(
  finished: readonly number[],
  left: number,
  workers: number,
  estimate: number | null,
): number | null {
  if (left === 0) return 0;
  if (!finished.length) return estimate;
  const mean = finished.reduce((a, b) => a + b, 0) / finished.length;
  return (mean * left) / Math.max(1, workers);
}

/**
 * Whether a job's time says how long the jobs left take: not when it came from the store or never ran (unsupported).
 */
const ran = (outcome: JobOutcome) => !outcome.cached && outcome.status !== 'unsupported';

const timestamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Running {
  label: string;
  since: number;
  phase: string;
  done: number;
  total: number;
  note: string;
  /** TTY: the worker line it holds. */
  slot?: number;
}

/** The counts the totals line shows. */
class Tally {
  ok = 0;
  failed = 0;
  unsupported = 0;
  cached = 0;
  get done() {
    return this.ok + this.failed + this.unsupported;
  }
  add(outcome: JobOutcome) {
    this[outcome.status]++;
    if (outcome.cached) this.cached++;
  }
  toString() {
    return `ok ${this.ok}, failed ${this.failed}, unsupported ${this.unsupported}, cached ${this.cached}`;
  }
}

function inJob(r: Running): string {
  const count = r.total > 0 ? ` ${r.done}/${r.total}` : '';
  return `${r.phase}${r.note || count ? ':' : ''}${r.note ? ` ${r.note}` : ''}${count}`;
}

export function sweepProgress(
  stream: NodeJS.WriteStream = process.stderr,
  options: ProgressOptions = {},
): SweepProgress {
  const now = options.now ?? Date.now;
  const heartbeatMs = (options.heartbeatSeconds ?? HEARTBEAT_SECONDS) * 1000;
  const running = new Map<string, Running>();
  const tally = new Tally();
  const durations: number[] = [];
  const notices = new Set<string>();
  let total = 0,
    workers = 1,
    estimate: number | null = null,
    started = now();

  /** True when the line is an environment notice already shown (then it is not shown again). */
  const seenNotice = (message: string) => {
    if (!message.startsWith(NOTICE_PREFIX)) return false;
    if (notices.has(message)) return true;
    notices.add(message);
    return false;
  };
  const lineOf = (label: string | null, message: string) =>
    label === null || message.startsWith(NOTICE_PREFIX) ? message : `${label}: ${message}`;
  const etaText = () => {
    const eta = etaSeconds(durations, total - tally.done, workers, estimate);
    return eta === null ? '?' : formatDuration(eta);
  };

  if (stream.isTTY) {
    const multibar = new cliProgress.MultiBar(
      {
        stream,
        hideCursor: true,
        clearOnComplete: true,
        linewrap: false,
        autopadding: true,
        barsize: 20,
        format: '{name} {bar} {text}',
      },
      cliProgress.Presets.shades_classic,
    );
    let totals: cliProgress.SingleBar | null = null;
    const slots: Array<{ bar: cliProgress.SingleBar; job: string | null }> = [];
    let tick: NodeJS.Timeout | undefined;
    const totalsText = () =>
      `${tally.done}/${total} | ${formatDuration((now() - started) / 1000)} elapsed, ETA ${etaText()} | ${tally}`;
    const refresh = () => totals?.update(tally.done, { text: totalsText() });
    const showSlot = (r: Running) => {
      const slot = slots[r.slot!];
      slot.bar.setTotal(Math.max(1, r.total));
      slot.bar.update(Math.min(r.done, Math.max(1, r.total)), {
        text: `${r.label} | ${formatDuration((now() - r.since) / 1000)} | ${inJob(r)}`,
      });
    };
    return {
      start(n, o) {
        total = n;
        workers = Math.max(1, o.workers);
        estimate = o.estimateSeconds;
        started = now();
        totals = multibar.create(Math.max(1, n), 0, { name: 'jobs', text: totalsText() });
        for (let i = 0; i < workers; i++)
          slots.push({ bar: multibar.create(1, 0, { name: `w${i + 1}`.padStart(4), text: 'idle' }), job: null });
        tick = setInterval(() => {
          refresh();
          for (const r of running.values()) showSlot(r);
        }, 1000);
        tick.unref();
      },
      jobStarted(id, label) {
        const free = slots.findIndex((s) => s.job === null);
        const r: Running = {
          label,
          since: now(),
          phase: 'start',
          done: 0,
          total: 0,
          note: '',
          slot: free < 0 ? undefined : free,
        };
        running.set(id, r);
        if (r.slot !== undefined) {
          slots[r.slot].job = id;
          showSlot(r);
        }
      },
      jobPhase(id, phase) {
        const r = running.get(id);
        if (!r) return;
        // a new phase starts its own count
        Object.assign(r, { phase, done: 0, total: 0, note: '' });
        if (r.slot !== undefined) showSlot(r);
      },
      jobProgress(id, done, t, note) {
        const r = running.get(id);
        if (!r) return;
        Object.assign(r, { done, total: t, note: note ?? '' });
        if (r.slot !== undefined) showSlot(r);
      },
      jobFinished(id, label, outcome) {
        tally.add(outcome);
        if (ran(outcome)) durations.push(outcome.seconds);
        const r = running.get(id);
        running.delete(id);
        if (r?.slot !== undefined) {
          slots[r.slot].job = null;
          slots[r.slot].bar.update(0, { text: 'idle' });
        }
        if (outcome.status === 'failed') multibar.log(`failed: ${label}: ${outcome.failure}\n`);
        refresh();
      },
      log(label, message) {
        if (!seenNotice(message)) multibar.log(lineOf(label, message) + '\n');
      },
      stop() {
        clearInterval(tick);
        refresh();
        multibar.stop();
      },
    };
  }

  let heartbeat: NodeJS.Timeout | undefined;
  const say = (text: string) => stream.write(`[${timestamp(now())}] ${text}\n`);
  return {
    start(n, o) {
      total = n;
      workers = Math.max(1, o.workers);
      estimate = o.estimateSeconds;
      started = now();
      const rest = n - o.cached;
      say(
        `sweep: ${n} job(s), ${o.cached} already in the ` +
          `results file, ` +
          `${rest} to run on ` +
          `${workers} worker(s)` +
          `${rest && estimate !== null ? `, about ${formatDuration(estimate)} by past timings` : ''}`,
      );
      heartbeat = setInterval(() => {
        for (const r of running.values())
          if (now() - r.since >= heartbeatMs)
            say(`running ${r.label}: ${formatDuration((now() - r.since) / 1000)} so far, in ${inJob(r)}`);
      }, heartbeatMs);
      heartbeat.unref();
    },
    jobStarted(id, label) {
      running.set(id, { label, since: now(), phase: 'start', done: 0, total: 0, note: '' });
      say(`start ${label}`);
    },
    jobPhase(id, phase) {
      const r = running.get(id);
      if (r) Object.assign(r, { phase, done: 0, total: 0, note: '' });
    },
    jobProgress(id, done, t, note) {
      const r = running.get(id);
      if (r) Object.assign(r, { done, total: t, note: note ?? '' });
    },
    jobFinished(id, label, outcome) {
      running.delete(id);
      tally.add(outcome);
      if (ran(outcome)) durations.push(outcome.seconds);
      const what = outcome.status === 'failed' ? `failed ${outcome.failure}` : outcome.status;
      const left = total - tally.done;
      const how = outcome.cached ? `${what} (cached)` : `${what} in ${outcome.seconds.toFixed(1)}s`;
      say(`[${tally.done}/${total}] ${label}: ${how}${!outcome.cached && left ? ` | ${tally}, ETA ${etaText()}` : ''}`);
    },
    log(label, message) {
      if (!seenNotice(message)) stream.write(lineOf(label, message) + '\n');
    },
    stop() {
      clearInterval(heartbeat);
    },
  };
}

/**
 * The lines that close a sweep: how long it took and its counts, each failed job with its phase and reason
 * (and, with `verbose`, its stack), and where the results are.
 */
export function sweepSummary(
  results: readonly JobResult[],
  info: { seconds: number; cached: number; file: string; verbose: boolean },
): string {
  const count = (s: JobStatus) => results.filter((r) => r.status === s).length;
  const lines = [
    `done in ` +
      `${formatDuration(info.seconds)}: ${results.length} job(s), ` +
      `${count('ok')} ok, ` +
      `${count('failed')} failed, ${count('unsupported')} unsupported; ${info.cached} from the results file`,
  ];
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length) {
    lines.push(
      `${failed.length} job(s) failed; rerun the same command to ` +
        `retry them${info.verbose ? '' : ' (--verbose shows their stacks)'}:`,
    );
    for (const r of failed) {
      lines.push(
        `  ${r.model} ${r.scenario}/${r.view} ${r.protocol} b=${r.budget} seed=${r.seed}: ${describeFailure(r)}`,
      );
      const stack = failureOf(r)?.stack;
      if (info.verbose && stack) lines.push(...stack.split('\n').map((l) => `      ${l.trim()}`));
    }
  }
  lines.push(`results: ${info.file}`);
  return lines.join('\n');
}
