// The lock of a results file, in this process: who may take it over, and when (lock.ts).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { lockResultsFile } from '../src/lock';
import { scratch } from './helpers';

const me = { takeOver: false, command: 'pnpm bench (test)' };
const holder = (pid: number, host = hostname()) =>
  JSON.stringify({ pid, host, startedAt: '2026-12-01T00:00:00.000Z', command: 'pnpm bench --full' });

describe('lockResultsFile', () => {
  it('names itself in the lock, refuses a second taker, and releases only its own lock', () => {
    const file = join(scratch(), 'results.jsonl');
    const release = lockResultsFile(file, me);
    expect(JSON.parse(readFileSync(`${file}.lock`, 'utf8'))).toMatchObject({
      pid: process.pid,
      host: hostname(),
      command: 'pnpm bench (test)',
    });
    expect(() => lockResultsFile(file, me)).toThrow(
      `${file} is being written by another run (pid ${process.pid} on this host`,
    );
    release();
    expect(existsSync(`${file}.lock`)).toBe(false);
    const again = lockResultsFile(file, me);
    writeFileSync(`${file}.lock`, holder(1)); // taken over meanwhile (--take-lock elsewhere): not ours to remove
    again();
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(holder(1));
  });

  it('takes over the lock of a process that is gone, or killed and not yet reaped (a zombie)', async () => {
    const file = join(scratch(), 'results.jsonl');
    const gone = Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());
    writeFileSync(`${file}.lock`, holder(gone));
    lockResultsFile(file, me)();
    if (!existsSync('/proc/self/stat')) return; // zombies are read from /proc (Linux)
    // `sh` starts a sleep, then becomes a sleep itself, which never reaps its child: kill the child, a zombie stays
    const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const child = Number(
      await new Promise<string>((resolve) => parent.stdout.once('data', (d) => resolve(String(d).trim()))),
    );
    try {
      process.kill(child, 'SIGKILL');
      for (let i = 0; i < 100 && !/\) Z/.test(readFileSync(`/proc/${child}/stat`, 'utf8')); i++) await sleep(10);
      expect(() => process.kill(child, 0)).not.toThrow(); // it still answers
      writeFileSync(`${file}.lock`, holder(child));
      lockResultsFile(file, me)();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it("honours a live process's lock, another host's, and one that names no one; --take-lock takes any", () => {
    const file = join(scratch(), 'results.jsonl');
    const live = spawn('sleep', ['30']);
    try {
      writeFileSync(`${file}.lock`, holder(live.pid!));
      expect(() => lockResultsFile(file, me)).toThrow(
        `is being written by another run (pid ${live.pid} on this host, started 2026-12-01T00:00:00.000Z: pnpm ` +
          `bench --full); two runs on one results file`,
      );
    } finally {
      live.kill('SIGKILL');
    }
    writeFileSync(`${file}.lock`, holder(process.pid, 'elsewhere'));
    expect(() => lockResultsFile(file, me)).toThrow(
      `(pid ${process.pid} on host elsewhere, started 2026-12-01T00:00:00.000Z: pnpm bench --full); its host is not ` +
        `this one`,
    );
    writeFileSync(`${file}.lock`, 'garbage');
    expect(() => lockResultsFile(file, me)).toThrow(
      `${file} is locked by ${file}.lock, which does not say who holds it; if no other pnpm bench writes this file, ` +
        `rerun with --take-lock`,
    );
    lockResultsFile(file, { ...me, takeOver: true })();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});
