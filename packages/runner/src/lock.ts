// One writer per results file: a lock file beside it (results.jsonl.lock) naming its holder. Two runs on
// one file would each run the jobs the other has not finished yet; shards write files of their own, each
// with its own lock, so they share a folder (on one machine or on a shared file system) as before.
//
// A lock names a process (pid, host, start time, command). It is taken over without asking when its holder
// is provably gone: a pid that no longer exists on this host (a run killed with kill -9). A lock held from
// another host cannot be checked from here: it is honoured until the user says that run is gone
// (--take-lock). Why not proper-lockfile: its locks go stale by age (a holder must touch them every few
// seconds), which takes over a lock from a live run on a machine under load, and names no holder.
import { constants, hostname } from 'node:os';
import { existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { UserError } from '@worldbench/core';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  startedAt: string;
  /** The holder's command line, for a human deciding whether it still runs. */
  command: string;
}

export interface LockOptions {
  /** Take the lock whoever holds it (--take-lock): for a run on a machine that is gone. */
  takeOver: boolean;
  /** What this process runs, recorded in the lock. */
  command: string;
}

export const lockFileOf = (file: string) => `${file}.lock`;

/** Signals on which a holder releases its lock before it ends. */
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Whether a process with this pid runs on this host (EPERM: it does, owned by someone else). */
function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * A killed process whose parent has not reaped it yet (a zombie: state Z in /proc/<pid>/stat, Linux) still
 * answers kill(pid, 0), though it runs no more: a run killed with its process group leaves one for a moment,
 * and in a container whose first process reaps nothing, for good.
 */
function isZombie(pid: number): boolean {
  if (!existsSync('/proc/self/stat')) return false; // no /proc (macOS): not known to be one
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); // "pid (command) state ..."; the command may hold ") "
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'; // gone meanwhile
  }
}

function readHolder(lockFile: string): { text: string; holder: LockHolder | null } | null {
  let text: string;
  try {
    text = readFileSync(lockFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null; // released meanwhile
    throw err;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return { text, holder: Number.isInteger(h.pid) && typeof h.host === 'string' ? h : null };
  } catch {
    return { text, holder: null };
  }
}

/** Why this process may not take the lock, or null when it may (its holder is gone, or the user said so). */
function refusal(file: string, lockFile: string, holder: LockHolder | null, takeOver: boolean): string | null {
  if (takeOver) return null;
  if (!holder)
    return (
      `${file} is locked by ${lockFile}, which does not say who holds it; if no other pnpm bench writes this ` +
      `file, rerun with --take-lock`
    );
  const who =
    `pid ` +
    `${holder.pid} on ` +
    `${holder.host === hostname() ? 'this host' : `host ${holder.host}`}, started ` +
    `${holder.startedAt}: ${holder.command}`;
  if (holder.host !== hostname())
    return (
      `${file} is being written by another run (${who}); its host is not this one, so whether it still runs ` +
      `cannot be checked from here. Wait for it to finish, write elsewhere with --out, or, if that run is gone (its ` +
      `machine lost or stopped), take the lock over with --take-lock`
    );
  if (processRuns(holder.pid))
    return (
      `${file} is being written by another run (${who}); two runs on one results file would compute the same ` +
      `jobs twice. Wait for it to finish, or write elsewhere with --out`
    );
  return null; // a dead pid on this host: a run killed without releasing its lock
}

/**
 * Takes the lock of a results file, or throws a UserError naming its holder. The lock file is written whole
 * before it appears (a temporary file hard-linked into place, which fails if the lock exists), so a lock is
 * never seen half-written. Returns the function that releases it.
 */
export function lockResultsFile(file: string, options: LockOptions): () => void {
  const lockFile = lockFileOf(file);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: options.command,
  };
  const text = JSON.stringify(me) + '\n';
  const tmp = `${lockFile}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, lockFile);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw err;
      }
      const found = readHolder(lockFile);
      if (!found) continue;
      const why = refusal(file, lockFile, found.holder, options.takeOver);
      if (why) throw new UserError(why);
      // remove the stale lock only if it is still the one judged (another process may have taken it over meanwhile)
      if (readHolder(lockFile)?.text === found.text) unlinkSync(lockFile);
    }
  } finally {
    unlinkSync(tmp);
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    for (const s of SIGNALS) process.off(s, onSignal);
    if (readHolder(lockFile)?.text === text) unlinkSync(lockFile); // only our own lock (it may have been taken over)
  };
  // Ctrl-C, scancel, a pod's termination: release, then end as the signal would have, unless another
  // handler (the worker pool's, which kills its workers first) ends the process
  const onSignal = (signal: NodeJS.Signals) => {
    release();
    if (process.listenerCount(signal) === 0) process.exit(128 + (constants.signals[signal] ?? 1));
  };
  process.on('exit', release); // also on process.exit and an uncaught error
  for (const s of SIGNALS) process.on(s, onSignal);
  return release;
}
