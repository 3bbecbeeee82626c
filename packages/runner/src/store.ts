// The append-only results store: results/<run>/results.jsonl, one line per finished job, fsynced.
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { JobResult } from './result';

export class ResultsStore {
  readonly file: string;
  private readonly byKey = new Map<string, JobResult>();
  /** Lines dropped on open (a torn last line from a crash). */
  readonly dropped: number;

  private constructor(
    readonly dir: string,
    dropped: number,
  ) {
    this.file = join(dir, 'results.jsonl');
    this.dropped = dropped;
  }

  /** Opens (creating) a run directory; cuts the file back to its last newline, dropping a torn line. */
  static open(dir: string): ResultsStore {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'results.jsonl');
    let dropped = 0;
    const lines: string[] = [];
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      const end = text.lastIndexOf('\n') + 1;
      if (end < text.length) {
        const fd = openSync(file, 'r+');
        ftruncateSync(fd, Buffer.byteLength(text.slice(0, end)));
        fsyncSync(fd);
        closeSync(fd);
        dropped++;
      }
      lines.push(...text.slice(0, end).split('\n').filter(Boolean));
    }
    const store = new ResultsStore(dir, dropped);
    for (const line of lines) {
      try {
        const r = JSON.parse(line) as JobResult;
        store.byKey.set(r.key, r); // the newest line of a key wins
      } catch {
        (store as { dropped: number }).dropped++;
      }
    }
    return store;
  }

  get(key: string): JobResult | undefined {
    return this.byKey.get(key);
  }

  all(): JobResult[] {
    return [...this.byKey.values()];
  }

  /** Appends one whole line and fsyncs it before returning. */
  append(result: JobResult): void {
    const fd = openSync(this.file, 'a');
    try {
      writeSync(fd, JSON.stringify(result) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.byKey.set(result.key, result);
  }
}
