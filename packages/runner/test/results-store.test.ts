// The results file's rules and its lock, through `pnpm bench` as a subprocess: lines that are not results
// are set aside and their jobs rerun; a whole last line without its newline is kept; one run per results file
// at a time, while shards sharing a folder run side by side.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { readResultLines } from '../src/store';
import { bench, benchInBackground, fixture, jsonl, readLines, scratch, syntheticResult } from './helpers';

// persistence on bouncing-balls state, budget 16: jobs of about half a second each
const small = (seeds: string) => [
  '--model',
  'persistence',
  '--scenario',
  'bouncing-balls',
  '--view',
  'state',
  '--budgets',
  '16',
  '--seeds',
  seeds,
  '--test-episodes',
  '8',
  '--ood-episodes',
  '8',
];
// the same plan with a model whose fit waits for a gate file (fixtures/gated-model.ts): a run holds its lock
// until the test opens the gate, however slow the machine, so a second run meets the lock for certain
const GATED = fixture('gated-model.ts');
const gated = (seeds: string) => small(seeds).map((a) => (a === 'persistence' ? GATED : a));

/** A fresh gate (not yet open) that every run started from now on waits for; open it with `writeFileSync`. */
function closedGate(dir: string): string {
  const gate = join(dir, 'gate');
  process.env.WORLDBENCH_TEST_GATE = gate;
  return gate;
}

describe('readResultLines: the rules of a results file', () => {
  it(
    'reads results; sets apart what is not one (with why), a torn last line, and a whole last line without its ' +
      'newline',
    () => {
      const dir = scratch();
      const file = join(dir, 'results.jsonl');
      const good = syntheticResult({ key: 'a' });
      const nullMetrics = syntheticResult({
        key: 'b',
        metrics: {
          test: { mse: { '1': null }, skill: { '1': null } },
          ood: { mse: { '1': null }, skill: { '1': null } },
        },
      });
      const wrongTypes = syntheticResult({
        key: 'c',
        budget: '<script>' as never,
        filmstrip: ['data:image/svg+xml,<svg onload=alert(1)>'],
      });
      writeFileSync(
        file,
        jsonl([good, null, nullMetrics, wrongTypes]) +
          '{"key": "d", "sta\n' +
          JSON.stringify(syntheticResult({ key: 'e' })).slice(0, 30),
      );
      const read = readResultLines(file);
      expect(read.results.map((r) => r.key)).toEqual(['a']);
      expect(read.rejected.map((r) => r.problem)).toEqual([
        'not a JSON object: null',
        'an ok result needs metrics with a number for mse on test and ood (all null: its forecast was never scored)',
        'budget: Invalid input: expected number, received string',
        expect.stringMatching(/^not JSON \(/),
      ]);
      expect(read.torn).toBe(JSON.stringify(syntheticResult({ key: 'e' })).slice(0, 30));
      writeFileSync(file, jsonl([good]) + JSON.stringify(syntheticResult({ key: 'e' })));
      expect(readResultLines(file)).toMatchObject({ torn: null, unterminated: true, rejected: [] });
      expect(readResultLines(file).results.map((r) => r.key)).toEqual(['a', 'e']);
    },
  );
});

describe('lines of a results file', () => {
  it('sets aside a line that parses but is not a result (verbatim, said once) and reruns its job; bench report ' +
    'skips it', {
    tags: ['slow'],
  }, () => {
    const out = join(scratch(), 'rejected');
    expect(bench([...small('2'), '--out', out]).code).toBe(0);
    const file = join(out, 'results.jsonl');
    const [first, second] = readFileSync(file, 'utf8').trim().split('\n');
    const key = JSON.parse(second).key;
    const impostor = JSON.stringify({ key, status: 'ok' }); // the second job's key, but not a result
    writeFileSync(file, [first, 'null', impostor].join('\n') + '\n');

    const report = bench(['report', out]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).toContain(
      `skipped 2 line(s) of ${file} that are not results (e.g. not a JSON object: null); a pnpm bench run into that ` +
        `folder sets them aside`,
    );
    expect(report.stderr).not.toMatch(/TypeError|\n\s+at /);

    const rerun = bench([...small('2'), '--out', out]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(
      `set aside 2 ` +
        `line(s) of ${file} that are not ` +
        `results into ${join(out, 'results.rejected.jsonl')} (kept verbatim); a job left without a result runs again`,
    );
    expect(rerun.stderr.match(/\(cached\)/g)).toHaveLength(1);
    expect(rerun.stderr.match(/: ok in /g)).toHaveLength(1); // the impostor's job ran again
    expect(readFileSync(join(out, 'results.rejected.jsonl'), 'utf8')).toBe(`null\n${impostor}\n`);
    const lines = readLines(file);
    expect(lines.map((l) => l.key)).toEqual([JSON.parse(first).key, key]);
    expect(lines[1].metrics?.test.mse['1']).toEqual(expect.any(Number));

    const third = bench([...small('2'), '--out', out]);
    expect(third.code).toBe(0);
    expect(third.stderr).not.toMatch(/set aside/); // said once
    expect(third.stderr.match(/\(cached\)/g)).toHaveLength(2);
  });

  it('keeps a whole, valid last line that lacks its newline (it used to be cut as torn and recomputed)', () => {
    const out = join(scratch(), 'unterminated');
    expect(bench([...small('2'), '--out', out]).code).toBe(0);
    const file = join(out, 'results.jsonl');
    const whole = readFileSync(file, 'utf8');
    writeFileSync(file, whole.slice(0, -1)); // no newline after the last line
    const rerun = bench([...small('2'), '--out', out]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).not.toMatch(/dropped|set aside/);
    expect(rerun.stderr.match(/\(cached\)/g)).toHaveLength(2); // nothing recomputed
    expect(readFileSync(file, 'utf8')).toBe(whole); // the newline is back, nothing else changed
  });
});

/** Waits until a file exists (a run's lock), or fails after `ms`. */
async function until(file: string, ms = 60_000): Promise<void> {
  for (const t0 = Date.now(); !existsSync(file); await sleep(20))
    if (Date.now() - t0 > ms) throw new Error(`${file} never appeared`);
}

/** The pid of a process that has exited: no process has it now. */
function deadPid(): number {
  return Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());
}

describe('one run per results file', () => {
  it(
    'a second pnpm bench on the same --out exits 2 naming the first; the first completes with no ' + 'key twice',
    async () => {
      const dir = scratch();
      const out = join(dir, 'two-runs');
      const gate = closedGate(dir);
      const plan = [...gated('6'), '--workers', '1', '--out', out];
      const first = benchInBackground(plan);
      await until(join(out, 'results.jsonl.lock'));
      const second = bench(plan);
      writeFileSync(gate, '');
      expect(second.code, second.stderr).toBe(2);
      expect(second.stderr).toMatch(
        new RegExp(
          `error: ${join(out, 'results.jsonl')} is being written by another run \\(pid \\d+ on this host, started ` +
            `\\S+: pnpm bench --model \\S*gated-model\\.ts .*\\); two runs on one results file would compute ` +
            `the same ` +
            `jobs twice\\. Wait for it to finish, or write elsewhere with --out`,
        ),
      );
      expect((await first.exited).code).toBe(0);
      const lines = readLines(join(out, 'results.jsonl'));
      expect(lines).toHaveLength(6);
      expect(new Set(lines.map((l) => l.key)).size).toBe(6);
      expect(existsSync(join(out, 'results.jsonl.lock'))).toBe(false); // released
    },
  );

  it('shards sharing a folder run at once, each locking only its own file', async () => {
    const dir = scratch();
    const out = join(dir, 'shared');
    const gate = closedGate(dir);
    const plan = (shard: string) => [...gated('6'), '--workers', '1', '--shard', shard, '--out', out];
    const zero = benchInBackground(plan('0/2'));
    await until(join(out, 'results.shard-0-of-2.jsonl.lock'));
    const again = bench(plan('0/2'));
    writeFileSync(gate, '');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`error: ${join(out, 'results.shard-0-of-2.jsonl')} is being written by another run`);
    const one = bench(plan('1/2'));
    expect(one.code, one.stderr).toBe(0);
    expect((await zero.exited).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'plan.shard-0-of-2.json',
      'plan.shard-1-of-2.json',
      'results.shard-0-of-2.jsonl',
      'results.shard-1-of-2.jsonl',
    ]);
    expect([0, 1].map((i) => readLines(join(out, `results.shard-${i}-of-2.jsonl`)).length)).toEqual([3, 3]);
  });

  it('takes over the lock of a dead process on this host (a run killed with kill -9)', () => {
    const out = join(scratch(), 'dead-holder');
    expect(bench([...small('1'), '--out', out]).code).toBe(0);
    const lock = join(out, 'results.jsonl.lock');
    writeFileSync(
      lock,
      JSON.stringify({
        pid: deadPid(),
        host: hostname(),
        startedAt: '2026-12-01T00:00:00.000Z',
        command: 'pnpm bench (killed)',
      }),
    );
    const r = bench([...small('2'), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readLines(join(out, 'results.jsonl'))).toHaveLength(2);
    expect(existsSync(lock)).toBe(false);
  });

  it("honours another host's lock, naming it, until --take-lock", () => {
    const out = join(scratch(), 'other-host');
    expect(bench([...small('1'), '--out', out]).code).toBe(0);
    const file = join(out, 'results.jsonl');
    const before = readFileSync(file, 'utf8');
    const lock = join(out, 'results.jsonl.lock');
    const holder = JSON.stringify({
      pid: process.pid,
      host: 'node-17.cluster.example',
      startedAt: '2026-12-01T00:00:00.000Z',
      command: 'pnpm bench --full --shard 0/1',
    });
    writeFileSync(lock, holder);
    const refused = bench([...small('2'), '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `error: ${file} is being written by another run (pid ${process.pid} on host node-17.cluster.example, started ` +
        `2026-12-01T00:00:00.000Z: pnpm bench --full --shard 0/1); ` +
        'its host is not this one, so whether it still runs cannot be checked from here. Wait for it to finish, ' +
        'write elsewhere with --out, or, if that run is gone (its machine lost or stopped), take the lock over ' +
        'with --take-lock',
    );
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readFileSync(lock, 'utf8')).toBe(holder);

    const taken = bench([...small('2'), '--take-lock', '--out', out]);
    expect(taken.code, taken.stderr).toBe(0);
    expect(readLines(file)).toHaveLength(2);
    expect(existsSync(lock)).toBe(false);
  });
});
