// Progress on stderr: a bar on a terminal, one line per job otherwise (CI logs, pipes).
import cliProgress from 'cli-progress';

export interface SweepProgress {
  start(total: number): void;
  jobStarted(label: string): void;
  jobFinished(label: string, status: string, seconds: number, cached: boolean): void;
  /** Within-job progress from a model's RunContext. */
  inner(done: number, total: number, note?: string): void;
  log(message: string): void;
  stop(): void;
}

export function sweepProgress(stream: NodeJS.WriteStream = process.stderr): SweepProgress {
  let done = 0, total = 0;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: 'jobs {bar} {value}/{total} | {job} {note}', hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    return {
      start: (n) => ((total = n), bar.start(n, 0, { job: '', note: '' })),
      jobStarted: (label) => bar.update(done, { job: label, note: '' }),
      jobFinished: (_label, _status, _s, _cached) => bar.update(++done, { note: '' }),
      inner: (d, t, note) => bar.update(done, { note: `${note ?? ''} ${d}/${t}` }),
      log: (m) => stream.write('\r\x1b[K' + m + '\n'),
      stop: () => bar.stop(),
    };
  }
  return {
    start: (n) => (total = n),
    jobStarted: () => {},
    jobFinished: (label, status, seconds, cached) => stream.write(`[${++done}/${total}] ${label}: ${cached ? `${status} (cached)` : `${status} in ${seconds.toFixed(1)}s`}\n`),
    inner: () => {},
    log: (m) => stream.write(m + '\n'),
    stop: () => {},
  };
}
