// The generalist protocols end to end (docs/protocols.md): one fit on two scenarios gives a row per scenario, keyed
// with the scenario set and --tell-world; a model without createGeneralist is n/a with its reason; a rerun resumes;
// sharding keeps a fit whole; the transfer gain is derived against the specialist's row.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '@worldbench/core';
import { parseCli } from '../src/cli';
import { withDerived } from '../src/summarize';
import { worldBudgets } from '../src/generalist';
import { planUnits, shardJobs } from '../src/shard';
import { transferMarkdown, transferRows } from '../src/transfer';
import { bench, readLines, scratch, smallSweep, syntheticResult } from './helpers';

const SCENARIOS = ['hidden-laws', 'bouncing-balls'];
const args = (out: string, ...more: string[]) => [
  ...smallSweep({
    model: 'persistence,linear',
    scenario: SCENARIOS.join(','),
    view: 'state',
    protocol: 'generalist,offline',
    budgets: '32',
    seeds: '1',
    out,
  }),
  ...more,
];

describe('the generalist protocol', () => {
  it('runs one fit over two scenarios, a row each; n/a without the opt-in; resumes; told is another job', {
    tags: ['slow'],
    timeout: 60_000,
  }, () => {
    const out = join(scratch(), 'gen');
    const first = bench([...args(out), '--workers', '1', '--json']);
    expect(first.stderr).not.toMatch(/failed: /);
    expect(first.code).toBe(0);
    const rows = (JSON.parse(first.stdout).results as ReturnType<typeof readLines>).filter(
      (r) => r.protocol === 'generalist',
    );
    const persistence = rows.filter((r) => r.model === 'persistence');
    expect(persistence.map((r) => r.scenario).sort()).toEqual(['bouncing-balls-v1', 'hidden-laws-v1']);
    for (const r of persistence) {
      expect(r.status).toBe('ok');
      expect(r.worlds).toEqual(['bouncing-balls-v1', 'hidden-laws-v1']);
      expect(r.tellWorld).toBe(false);
      // the same copy of the last observation as its specialist, scored on the same windows and scale
      expect(r.transferGain).toBe(0);
      expect(r.notes?.generalist).toMatchObject({ transitions: [32, 32], told: false });
    }
    expect(new Set(persistence.map((r) => r.key)).size).toBe(2);
    const linear = rows.filter((r) => r.model === 'linear');
    expect(linear).toHaveLength(2);
    for (const r of linear) {
      expect(r.status).toBe('unsupported');
      expect(r.reason).toMatch(/linear does not declare createGeneralist/);
    }

    // a rerun runs nothing: every row of the fit is stored
    const again = bench(args(out));
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/0 to run|8 already/);
    expect(readLines(join(out, 'results.jsonl'))).toHaveLength(8);

    // told the worlds: other jobs (keys), stored beside the untold ones
    const told = bench([...args(out), '--tell-world', '--json']);
    expect(told.code).toBe(0);
    const toldRows = (JSON.parse(told.stdout).results as ReturnType<typeof readLines>).filter(
      (r) => r.protocol === 'generalist' && r.model === 'persistence',
    );
    expect(toldRows.every((r) => r.tellWorld === true && r.status === 'ok')).toBe(true);
    expect(toldRows.some((r) => persistence.some((p) => p.key === r.key))).toBe(false);
  });

  it('fits the generalist jepa on two worlds, told and not told, a row each beside its specialist', {
    tags: ['slow'],
    timeout: 120_000,
  }, () => {
    const out = join(scratch(), 'jepa');
    const sweep = smallSweep({
      model: 'jepa',
      scenario: 'hidden-laws,code-trace',
      view: 'state',
      protocol: 'generalist,offline',
      budgets: '32',
      seeds: '1',
      out,
    });
    const untold = bench([...sweep, '--workers', '1', '--json']);
    expect(untold.stderr).not.toMatch(/failed: /);
    expect(untold.code).toBe(0);
    const told = bench([...sweep, '--workers', '1', '--json', '--tell-world']);
    expect(told.code).toBe(0);
    const rows = [untold, told].flatMap((r) =>
      (JSON.parse(r.stdout).results as ReturnType<typeof readLines>).filter((x) => x.protocol === 'generalist'),
    );
    for (const tell of [false, true]) {
      const fit = rows.filter((r) => r.tellWorld === tell);
      expect(fit.map((r) => r.scenario).sort()).toEqual(['code-trace-v1', 'hidden-laws-v1']);
      for (const r of fit) {
        expect(r.status).toBe('ok');
        expect(r.worlds).toEqual(['code-trace-v1', 'hidden-laws-v1']);
        expect(r.notes?.generalist).toMatchObject({ transitions: [32, 32], told: tell });
        // one trunk: the share of the parameters every world reads, counted by the model
        const share = (r.explain as { parameters: { share: number } }).parameters.share;
        expect(share).toBeGreaterThanOrEqual(0.9);
        // scored against its specialist (the offline row of the same seed and budget)
        expect(Number.isFinite(r.transferGain)).toBe(true);
      }
      // the two rows of one fit share its cost
      expect(fit[0].cost?.fitSeconds).toBe(fit[1].cost?.fitSeconds);
    }
  });

  it('refuses --tell-world without a generalist protocol (exit 2)', () => {
    expect(() => parseCli(['--model', 'persistence', '--tell-world'])).toThrow(UserError);
    expect(() => parseCli(['--model', 'persistence', '--tell-world'])).toThrow(/--protocol generalist/);
    expect(parseCli(['--protocol', 'generalist', '--tell-world']).plan.tellWorld).toBe(true);
    // `all` is every protocol of one world: the generalist ones are asked for by name
    expect(parseCli(['--protocol', 'all']).plan.protocols).not.toContain('generalist');
  });

  it('is n/a with a reason on fewer than two scenarios', { tags: ['slow'] }, () => {
    const out = join(scratch(), 'one');
    const r = bench([
      '--model',
      'persistence',
      '--scenario',
      'hidden-laws',
      '--view',
      'state',
      '--protocol',
      'generalist-equal',
      '--budgets',
      '16',
      '--seeds',
      '1',
      '--out',
      out,
      '--workers',
      '0',
    ]);
    expect(r.code).toBe(0);
    const [line] = readLines(join(out, 'results.jsonl'));
    expect(line.status).toBe('unsupported');
    expect(line.reason).toMatch(/two or more chosen scenarios/);
  });

  it('splits the budget of generalist-equal over the worlds, every transition used', () => {
    expect(worldBudgets('generalist', 256, 5)).toEqual([256, 256, 256, 256, 256]);
    expect(worldBudgets('generalist-equal', 256, 5)).toEqual([52, 51, 51, 51, 51]);
    expect(worldBudgets('generalist-equal', 1024, 2)).toEqual([512, 512]);
  });

  it('keeps the rows of one fit in one shard', () => {
    // a plan of 7 jobs: a, then a fit of 3 rows (f), b, a fit of 2 rows (g) interleaved with c
    const plan = [
      { key: 'a' },
      { key: 'f1', fit: 'f' },
      { key: 'b' },
      { key: 'f2', fit: 'f' },
      { key: 'f3', fit: 'f' },
    ];
    plan.push({ key: 'g1', fit: 'g' }, { key: 'c' }, { key: 'g2', fit: 'g' });
    const units = planUnits(plan)!;
    expect(units).toEqual([0, 1, 2, 1, 1, 3, 4, 3]);
    const shards = [0, 1].map((index) => shardJobs(plan, { index, count: 2 }, units).map((p) => p.key));
    expect(shards[0]).toEqual(['a', 'b', 'c']);
    expect(shards[1]).toEqual(['f1', 'f2', 'f3', 'g1', 'g2']);
    expect(planUnits([{}, {}])).toBeNull();
  });

  it('derives the transfer gain against the specialist of the same seed, and tabulates it with the cost', () => {
    const row = (scenario: string, protocol: 'offline' | 'generalist', seed: number, skill: number, fit: number) =>
      syntheticResult({
        key: `${scenario}-${protocol}-${seed}`,
        scenario,
        protocol,
        seed,
        ...(protocol === 'generalist' ? { worlds: ['a-v1', 'b-v1'], tellWorld: false } : {}),
        metrics: {
          test: { mse: { '1': 1 }, skill: { '1': skill } },
          ood: { mse: { '1': 1 }, skill: { '1': skill } },
        },
        cost: { fitSeconds: fit, forecastStepsPerSecond: 1, params: 1, peakMemoryMB: 1 },
      });
    const results = withDerived([
      row('a-v1', 'offline', 0, 0.5, 1),
      row('b-v1', 'offline', 0, 0.2, 2),
      row('a-v1', 'generalist', 0, 0.6, 4),
      row('b-v1', 'generalist', 0, 0.1, 4),
      row('a-v1', 'offline', 1, 0.4, 1),
      row('b-v1', 'offline', 1, 0.3, 3),
      row('a-v1', 'generalist', 1, 0.4, 6),
      row('b-v1', 'generalist', 1, 0.1, 6),
    ]);
    const gains = results.filter((r) => r.protocol === 'generalist').map((r) => r.transferGain);
    expect(gains.map((g) => Number(g!.toFixed(6)))).toEqual([0.1, -0.1, 0, -0.2]);
    const [t] = transferRows(results);
    expect(t.worlds.map((w) => Number(w.gain!.mean.toFixed(6)))).toEqual([0.05, -0.15]);
    // per seed the mean over worlds (0, then -0.1), then over seeds
    expect(t.mean!.mean).toBeCloseTo(-0.05, 9);
    // the one fit (median of 4 and 6) against the specialists' sum per seed (3 and 4)
    expect(t.fitSeconds).toBe(5);
    expect(t.specialistFitSeconds).toBe(3.5);
    expect(transferMarkdown([t])).toMatch(/\| generalist \| 64 \| 0\.050 ± 0\.050 .* \| 5\.00 \| 3\.50 \|/);
  });
});
