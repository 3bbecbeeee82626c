// --dry-run: the plan's count (new, already done, to retry) and its estimated time, with nothing run or
// written; and a sweep of more than 500 new jobs says its count and estimate before it starts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimatePlan, type PastTiming } from '../src/estimate';
import { bench, fixture, readLines, root, scratch, joined } from './helpers';

const small = [
  '--scenario',
  'bouncing-balls',
  '--view',
  'state',
  '--budgets',
  '16,32',
  '--test-episodes',
  '8',
  '--ood-episodes',
  '8',
];

describe('pnpm bench --dry-run', () => {
  it('prints the count of new, done and failed jobs and writes nothing, not even the run folder', () => {
    const out = join(scratch(), 'dry');
    const r = bench(['--model', 'persistence', ...small, '--seeds', '3', '--out', out, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`dry run of ${join(out, 'results.jsonl')}: nothing was run or written`);
    expect(r.stdout).toContain(
      '6 job(s) planned: 6 new, 0 already done (ok or unsupported), 0 to retry (failed); to run by model: ' +
        'persistence 6',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('counts what a folder already holds, estimates from its timings, and still writes nothing', {
    tags: ['slow'],
  }, () => {
    const out = join(scratch(), 'resumed');
    const planted = fixture('type-error-model.ts');
    // the planted model fails
    expect(bench(['--model', `persistence,${planted}`, ...small, '--seeds', '1', '--out', out]).code).toBe(1);
    const before = readdirSync(out).sort();
    const lines = readLines(join(out, 'results.jsonl'));
    expect(lines.map((l) => l.status).sort()).toEqual(['failed', 'failed', 'ok', 'ok']);
    const r = bench(['--model', `persistence,${planted}`, ...small, '--seeds', '3', '--out', out, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('12 job(s) planned: 8 new, 2 already done (ok or unsupported), 2 to retry (failed)');
    // persistence's 4 new seeds have the timings of seed 0 (the same setup); the planted model's failed lines have none
    expect(r.stdout).toMatch(
      joined(
        /estimated wall time with \d+ worker\(s\): about \d+\.\ds \(past timings of 4 from the same /,
        /setup, 6 with no timing, not counted\)/,
      ),
    );
    expect(readdirSync(out).sort()).toEqual(before);
    expect(readLines(join(out, 'results.jsonl'))).toEqual(lines);
  });

  it('says the count and estimate of a sweep of more than 500 new jobs before it starts', () => {
    const out = join(scratch(), 'large');
    mkdirSync(out);
    // another live run holds the results file: this one stops at the lock, after it said what it would run
    writeFileSync(
      join(out, 'results.jsonl.lock'),
      JSON.stringify({
        pid: process.pid,
        host: hostname(),
        startedAt: new Date().toISOString(),
        command: 'pnpm bench (the test)',
      }),
    );
    const r = bench(['--model', 'persistence', ...small, '--seeds', '0-300', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^this sweep runs 602 new job\(s\): 602 job\(s\) planned: 602 new, 0 already done/m);
    expect(r.stderr).toMatch(/estimated wall time: unknown|estimated wall time with \d+ worker\(s\)/);
    expect(r.stderr.indexOf('this sweep runs 602')).toBeLessThan(r.stderr.indexOf('is being written by another run'));
    expect(existsSync(join(out, 'results.jsonl'))).toBe(false);
  });
});

describe('estimatePlan', () => {
  const job = (budget: number, seed: number, modelId = 'linear') => ({
    modelId,
    config: {},
    scenario: 's-v1',
    view: 'state',
    protocol: 'offline' as const,
    budget,
    seed,
    evaluation: { testEpisodes: 8, oodEpisodes: 8, horizon: 4 },
  });
  const past: PastTiming[] = [
    { job: job(256, 0), seconds: 10 },
    { job: job(256, 1), seconds: 14 },
    { job: job(256, 2), seconds: 12 },
  ];

  it(
    'takes the median of the same setup over seeds, scales the nearest budget of the setup, and counts what it ' +
      'cannot know',
    () => {
      expect(estimatePlan([job(256, 7), job(256, 8)], past, 1)).toEqual({
        seconds: 24,
        known: 2,
        scaled: 0,
        unknown: 0,
      });
      expect(estimatePlan([job(256, 7), job(256, 8)], past, 2)).toEqual({
        seconds: 12,
        known: 2,
        scaled: 0,
        unknown: 0,
      });
      // 12 s x 1024 / 256
      expect(estimatePlan([job(1024, 0)], past, 1)).toEqual({ seconds: 48, known: 0, scaled: 1, unknown: 0 });
      expect(estimatePlan([job(256, 0, 'jepa')], past, 1)).toEqual({ seconds: null, known: 0, scaled: 0, unknown: 1 });
    },
  );
});

describe('scripts/leaderboard.sh (docs/leaderboard/README.md)', () => {
  it('plans both grids of a part on a dry run and writes nothing; an unknown part exits 2', () => {
    const out = join(scratch(), 'leaderboard');
    const run = (args: string[]) =>
      spawnSync('bash', ['scripts/leaderboard.sh', ...args], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, OUT: out, FORCE_COLOR: '0' },
      });
    const dry = run(['--dry-run', 'persistence']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`dry run of ${join(out, 'persistence-offline', 'results.jsonl')}`);
    expect(dry.stdout).toContain(`dry run of ${join(out, 'persistence-online', 'results.jsonl')}`);
    // each grid is 12 (protocol, budget) cells x 5 seeds x the 11 views persistence reads
    expect(dry.stdout.match(/660 job\(s\) planned: 660 new/g)).toHaveLength(2);
    expect(existsSync(out)).toBe(false);
    const bad = run(['nope']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown part 'nope'; the parts are: persistence linear possible-worlds/);
    expect(existsSync(out)).toBe(false);
  });
});
