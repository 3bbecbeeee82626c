// The append-only results store: results/<run>/results.jsonl, one line per finished job, fsynced.
// The parent process is its only writer (workers send their results to it, pool.ts), and it holds the
// file's lock (lock.ts) while it writes.
//
// The rules of a results file, for every reader and for the writer (docs/scaling.md, "Crash safety"):
// 1. A line is one JSON result (result.ts says what that is), ended by a newline.
// 2. A last line without its newline is kept when it is a whole result (the writer adds the newline);
//    otherwise it is a write torn by a crash: the writer cuts it, readers skip it.
// 3. Any other line that is not a result (not JSON, or JSON of another shape) is set aside by the writer,
//    verbatim, into results.rejected.jsonl beside the file (results.shard-i-of-n.rejected.jsonl for a shard);
//    readers skip it. Its job has no result, so it is run again.
// 4. Of several lines of one key, the newest (the last) wins: a rerun appends a retried job's new line.
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@worldbench/core';
import { writeFileAtomic, writeFully } from './atomic';
import { lockResultsFile, type LockOptions } from './lock';
import { resultProblem, type JobResult } from './result';

export const RESULTS_FILE = 'results.jsonl';

/** Where the lines of `file` that are not results are set aside: results.jsonl -> results.rejected.jsonl. */
export const rejectedFileOf = (file: string) => file.replace(/(\.jsonl)?$/, '.rejected.jsonl');

export interface ResultLines {
  /** The results, in file order, each with its line's text. */
  results: JobResult[];
  texts: string[];
  /** Lines that are not results (rule 3), verbatim, with why. */
  rejected: Array<{ text: string; problem: string }>;
  /** A torn last line (rule 2), or null. */
  torn: string | null;
  /** The last line is a whole result without its newline (rule 2). */
  unterminated: boolean;
}

/** Reads a results file by the rules above; never changes it. A missing file has no lines. */
export function readResultLines(file: string): ResultLines {
  const out: ResultLines = { results: [], texts: [], rejected: [], torn: null, unterminated: false };
  if (!existsSync(file)) return out;
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const last = lines.pop()!; // '' when the file ends with a newline
  for (const line of lines) if (line.trim()) classify(line, out);
  if (last.trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(last);
    } catch {
      out.torn = last;
      return out;
    }
    out.unterminated = true;
    classify(last, out, parsed);
  }
  return out;
}

function classify(line: string, out: ResultLines, parsed?: unknown): void {
  if (parsed === undefined) {
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      out.rejected.push({ text: line, problem: `not JSON (${(err as Error).message})` });
      return;
    }
  }
  const problem = resultProblem(parsed);
  if (problem) out.rejected.push({ text: line, problem });
  else {
    out.results.push(parsed as JobResult);
    out.texts.push(line);
  }
}

/** The newest line of each key (rule 4). */
export function newestByKey(results: readonly JobResult[]): Map<string, JobResult> {
  const byKey = new Map<string, JobResult>();
  for (const r of results) byKey.set(r.key, r);
  return byKey;
}

/** A file-system error a user can fix (a read-only file or folder, a full disk) as a message saying so. */
export function diskError(err: unknown, what: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EISDIR: 'it is a folder',
  };
  return code && why[code]
    ? new UserError(`cannot write ${what}: ${why[code]}; make it writable, or write elsewhere with --out`, {
        cause: err,
      })
    : err;
}

/** What opening a store did to its file, for the user to be told once. */
export interface StoreRepairs {
  /** Lines that were not results, now in the rejected file. */
  setAside: number;
  rejectedFile: string;
  /** A torn last line was cut. */
  cutTorn: boolean;
}

export class ResultsStore {
  readonly file: string;
  private readonly byKey: Map<string, JobResult>;

  private constructor(
    file: string,
    byKey: Map<string, JobResult>,
    readonly repairs: StoreRepairs,
    private readonly unlock: () => void,
  ) {
    this.file = file;
    this.byKey = byKey;
  }

  /**
   * Opens (creating) a run folder's results file for writing: takes its lock (or throws a UserError naming the
   * holder), checks that the file can be appended to before any job runs, and applies rules 2 and 3 to it.
   * `fileName` is results.jsonl, or results.shard-i-of-n.jsonl for a shard (shard.ts). Close it when done.
   */
  static open(dir: string, fileName: string, lock: LockOptions): ResultsStore {
    const file = join(dir, fileName);
    let unlock: () => void;
    try {
      mkdirSync(dir, { recursive: true });
      unlock = lockResultsFile(file, lock);
    } catch (err) {
      throw diskError(err, `the run folder ${dir}`);
    }
    try {
      closeSync(openSync(file, 'a')); // writable? (a read-only results file would fail only after the first job)
    } catch (err) {
      unlock();
      throw diskError(err, file);
    }
    try {
      const read = readResultLines(file);
      const repairs = {
        setAside: read.rejected.length,
        rejectedFile: rejectedFileOf(file),
        cutTorn: read.torn !== null,
      };
      if (read.rejected.length || read.torn !== null || read.unterminated) {
        // set aside first: a crash in between leaves a line in both files, never in neither
        if (read.rejected.length)
          appendFileSync(repairs.rejectedFile, read.rejected.map((r) => r.text + '\n').join(''), { flush: true });
        writeFileAtomic(file, read.texts.map((t) => t + '\n').join(''));
      }
      return new ResultsStore(file, newestByKey(read.results), repairs, unlock);
    } catch (err) {
      unlock();
      throw diskError(err, file);
    }
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
   * concurrent jobs cannot interleave; a crash mid-write leaves at most one torn last line (rule 2).
   */
  append(result: JobResult): void {
    this.appendAll([result]);
  }

  /** Appends the lines of one unit of work (the rows of a generalist fit) in one write, then fsyncs. */
  appendAll(results: readonly JobResult[]): void {
    const fd = openSync(this.file, 'a');
    try {
      writeFully(fd, Buffer.from(results.map((r) => JSON.stringify(r) + '\n').join('')));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    for (const r of results) this.byKey.set(r.key, r);
  }

  /** Releases the file's lock. */
  close(): void {
    this.unlock();
  }
}

/** The message of what opening a results file repaired (to be said once), or null when it was sound. */
export function describeRepairs({ setAside, rejectedFile, cutTorn }: StoreRepairs, file: string): string | null {
  const said: string[] = [];
  if (cutTorn) said.push(`dropped 1 torn last line (a write cut short by a crash) from ${file}`);
  if (setAside)
    said.push(
      `set aside ${setAside} line(s) of ${file} that are not results into ${rejectedFile} (kept verbatim); a job ` +
        `left without a result runs again`,
    );
  return said.length ? said.join('\n') : null;
}
