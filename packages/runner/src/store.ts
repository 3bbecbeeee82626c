// The append-only results store: results/<run>/results.jsonl, one line per finished job, fsynced.
// The parent process is its only writer: workers send their results to it (pool.ts).
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { JobResult } from './result';

export const RESULTS_FILE = 'results.jsonl';

/** The whole lines of a results file and the byte length they take; a torn last line (no newline) is left out. */
export function readResultLines(file: string): { results: JobResult[]; wholeBytes: number; torn: boolean; unreadable: number } {
  if (!existsSync(file)) return { results: [], wholeBytes: 0, torn: false, unreadable: 0 };
  const text = readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  const results: JobResult[] = [];
  let unreadable = 0;
  for (const line of text.slice(0, end).split('\n')) {
    if (!line) continue;
    try {
      results.push(JSON.parse(line) as JobResult);
    } catch {
      unreadable++;
    }
  }
  return { results, wholeBytes: Buffer.byteLength(text.slice(0, end)), torn: end < text.length, unreadable };
}

/** The newest line of each key (a rerun appends a new line for a retried key: it wins). */
export function newestByKey(results: readonly JobResult[]): Map<string, JobResult> {
  const byKey = new Map<string, JobResult>();
  for (const r of results) byKey.set(r.key, r);
  return byKey;
}

/** Writes the whole buffer: write(2) may write less than asked (a full disk, a signal). */
export function writeFully(fd: number, data: Buffer): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
}

export class ResultsStore {
  readonly file: string;
  private readonly byKey: Map<string, JobResult>;
  /** Lines dropped on open (a torn last line from a crash, unreadable lines). */
  readonly dropped: number;

  private constructor(
    readonly dir: string,
    fileName: string,
    byKey: Map<string, JobResult>,
    dropped: number,
  ) {
    this.file = join(dir, fileName);
    this.byKey = byKey;
    this.dropped = dropped;
  }

  /**
   * Opens (creating) a run directory; cuts the file back to its last newline, dropping a torn line.
   * `fileName` is results.jsonl, or results.shard-i-of-n.jsonl for a shard (shard.ts).
   */
  static open(dir: string, fileName = RESULTS_FILE): ResultsStore {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, fileName);
    const read = readResultLines(file);
    if (read.torn) {
      const fd = openSync(file, 'r+');
      try {
        ftruncateSync(fd, read.wholeBytes);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    return new ResultsStore(dir, fileName, newestByKey(read.results), (read.torn ? 1 : 0) + read.unreadable);
  }

  get(key: string): JobResult | undefined {
    return this.byKey.get(key);
  }

  all(): JobResult[] {
    return [...this.byKey.values()];
  }

  /**
   * Appends one whole line and fsyncs it before returning. Synchronous on purpose: the parent's one
   * JavaScript thread writes each line whole before it handles the next worker's message, so lines from
   * concurrent jobs cannot interleave; a crash mid-write leaves at most one torn last line, cut on open.
   */
  append(result: JobResult): void {
    const fd = openSync(this.file, 'a');
    try {
      writeFully(fd, Buffer.from(JSON.stringify(result) + '\n'));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.byKey.set(result.key, result);
  }
}
