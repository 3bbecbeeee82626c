// Sweeps at scale, through `pnpm bench` as a subprocess: a run killed with SIGKILL loses and duplicates
// nothing; a plan run as shards merges to the same results as one run; the worker count changes nothing.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@worldbench/core';
import { bench, benchInBackground, byKey, readLines, root, scratch, joined } from './helpers';

// persistence and linear on the state view of bouncing-balls: 2 models x 3 budgets x 3 seeds = 18 quick jobs
const PLAN = [
  '--model',
  'persistence,linear',
  '--scenario',
  'bouncing-balls',
  '--view',
  'state',
  '--budgets',
  '16,32,64',
  '--seeds',
  '3',
  '--test-episodes',
  '8',
  '--ood-episodes',
  '8',
];
const JOBS = 18;

const dir = scratch();
let expected: Map<string, unknown>;

beforeAll(() => {
  const reference = bench([...PLAN, '--workers', '2', '--out', join(dir, 'reference')]);
  expect(reference.code, reference.stderr).toBe(0);
  expected = byKey(readLines(join(dir, 'reference', 'results.jsonl')));
  expect(expected.size).toBe(JOBS);
});

const wholeLines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0);

describe('crash safety', () => {
  it('a sweep killed with SIGKILL (its whole process group) twice at seeded random points, then rerun, equals an ' +
    'uninterrupted run', {
    tags: ['slow'],
  }, async () => {
    const out = join(dir, 'killed');
    const file = join(out, 'results.jsonl');
    const rng = createRng('crash-safety');
    let stored = 0;
    for (let round = 0; round < 2; round++) {
      const target = stored + 1 + rng.int(5); // kill after the target-th line appears ...
      const delayMs = rng.int(400); // ... and a little later, mid-job or mid-write
      const run = benchInBackground([...PLAN, '--workers', '2', '--out', out]);
      let finished = false;
      void run.exited.then(() => (finished = true));
      while (!finished && wholeLines(file) < target) await sleep(5);
      await sleep(delayMs);
      expect(finished, 'the sweep ended before it could be killed').toBe(false);
      process.kill(-run.child.pid!, 'SIGKILL');
      expect((await run.exited).signal).toBe('SIGKILL');
      stored = wholeLines(file);
      expect(stored).toBeGreaterThanOrEqual(target);
      expect(stored).toBeLessThan(JOBS);
    }
    const rerun = bench([...PLAN, '--workers', '2', '--out', out]);
    expect(rerun.code, rerun.stderr).toBe(0);
    const lines = readLines(file);
    const okKeys = lines.filter((r) => r.status === 'ok').map((r) => r.key);
    expect(new Set(okKeys).size, 'a job finished twice').toBe(okKeys.length);
    expect(okKeys).toHaveLength(JOBS);
    expect(byKey(lines)).toEqual(expected);
  });

  it('gives the same lines with --workers 0 (in this process) and --workers 1 as with 2 workers', () => {
    for (const workers of ['0', '1']) {
      const out = join(dir, `workers-${workers}`);
      const r = bench([...PLAN.slice(0, 6), '--budgets', '32', ...PLAN.slice(8), '--workers', workers, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      const lines = byKey(readLines(join(out, 'results.jsonl')));
      expect(lines.size).toBe(6);
      for (const [key, line] of lines) expect(line, `${key} with --workers ${workers}`).toEqual(expected.get(key));
    }
  });
});

describe('shards', () => {
  const shared = join(dir, 'shards-shared');
  const own = join(dir, 'shard-own');

  it('the plan as 3 shards (two sharing a folder) merges to the results of one run', { tags: ['slow'] }, () => {
    for (const [shard, out] of [
      ['0/3', shared],
      ['1/3', shared],
      ['2/3', own],
    ]) {
      const r = bench([...PLAN, '--shard', shard, '--workers', '2', '--out', out]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(readdirSync(shared).sort()).toEqual([
      'plan.shard-0-of-3.json',
      'plan.shard-1-of-3.json',
      'results.shard-0-of-3.jsonl',
      'results.shard-1-of-3.jsonl',
    ]);
    const parts = [
      join(shared, 'results.shard-0-of-3.jsonl'),
      join(shared, 'results.shard-1-of-3.jsonl'),
      join(own, 'results.shard-2-of-3.jsonl'),
    ].map(readLines);
    expect(parts.map((p) => p.length)).toEqual([6, 6, 6]);
    expect(new Set(parts.flat().map((r) => r.key)).size).toBe(JOBS); // a partition: every job in one shard

    const merged = join(dir, 'merged');
    const r = bench(['merge', shared, own, '--out', merged]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/merged 3 shard\(s\): 18 jobs \(18 ok, 0 failed, 0 unsupported\)/);
    const lines = readLines(join(merged, 'results.jsonl'));
    expect(lines).toHaveLength(JOBS);
    expect(byKey(lines)).toEqual(expected);
    // the merged folder is a whole run of the plan: the same command finds every job done
    const again = bench([...PLAN, '--out', merged]);
    expect(again.code).toBe(0);
    expect(again.stderr.match(/\(cached\)/g)).toHaveLength(JOBS);
  });

  it('merge refuses shards of another plan or of other code, and says which shard is missing', {
    tags: ['slow'],
  }, () => {
    const otherPlan = join(dir, 'other-plan');
    expect(
      bench([...PLAN.slice(0, 6), '--budgets', '16', ...PLAN.slice(8), '--shard', '2/3', '--out', otherPlan]).code,
    ).toBe(0);
    const mixed = bench(['merge', shared, otherPlan, '--out', join(dir, 'not-written')]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(
      joined(
        /these shards come from different plans: shard 0\/3 .* ran plan \w+ \(18 jobs: .*\), shard 2\/3 /,
        /.* ran plan \w+ \(6 jobs: .*\)\. Merge only the shards of one command\./,
      ),
    );

    // the same plan, but the model's file changed between its two shards
    const model = join(dir, 'persistence-copy.ts');
    const writeModel = (version: number) =>
      writeFileSync(
        model,
        `// version ${version}\nimport ` +
          `persistence from ${JSON.stringify(join(root, 'packages/baselines/src/persistence.ts'))};\n` +
          `export default { ...persistence, card: { ...persistence.card, id: 'persistence-copy' } };\n`,
      );
    const copyPlan = (shard: string, out: string) => [
      '--model',
      model,
      '--scenario',
      'bouncing-balls',
      '--view',
      'state',
      '--budgets',
      '16',
      '--seeds',
      '2',
      '--test-episodes',
      '8',
      '--ood-episodes',
      '8',
      '--shard',
      shard,
      '--out',
      out,
    ];
    writeModel(1);
    expect(bench(copyPlan('0/2', join(dir, 'code-1'))).code).toBe(0);
    writeModel(2);
    expect(bench(copyPlan('1/2', join(dir, 'code-2'))).code).toBe(0);
    const stale = bench(['merge', join(dir, 'code-1'), join(dir, 'code-2'), '--out', join(dir, 'not-written')]);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toMatch(
      joined(
        /these shards ran different code: shard 0\/2 .* code \w+ \(commit .*\), shard 1\/2 .* code \w+ /,
        /.*rerun the stale shards on the same checkout/,
      ),
    );
    expect(existsSync(join(dir, 'not-written'))).toBe(false);

    const partial = bench(['merge', shared, '--out', join(dir, 'partial')]);
    expect(partial.code).toBe(1);
    expect(partial.stderr).toMatch(/shard 2\/3: 6 job\(s\) missing .*--shard 2\/3, then merge again/);
    expect(readLines(join(dir, 'partial', 'results.jsonl'))).toHaveLength(12);
  });

  it.each([
    ['3/3', /--shard takes i\/n with n >= 1 and 0 <= i < n .*got "3\/3"/],
    ['0/0', /--shard takes i\/n/],
    ['1', /--shard takes i\/n/],
    ['a/b', /--shard takes i\/n/],
  ])('rejects --shard %s with exit code 2 and writes nothing', (shard, message) => {
    const out = join(dir, 'bad-shard');
    const r = bench([...PLAN, '--shard', shard, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});
