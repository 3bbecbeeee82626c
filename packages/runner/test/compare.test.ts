// Reading results side by side: paired differences to a --compare model with 95% intervals (tables and the
// report), intervals beside ± SE, skill plots on a readable range with far-out points marked, accElement beside
// accStep on int/token views.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interval95, pairedDifferences } from '../src/intervals';
import { clip, readableRange } from '../src/readable-range';
import { renderReport } from '../src/report';
import type { JobResult } from '../src/result';
import { formatTables } from '../src/table';
import { bench, scratch, syntheticResult } from './helpers';

/** A job of `model` at `seed` whose skill at h = 1 and h = 2 is `skill` (and, on an int view, its accuracies). */
const job = (model: string, seed: number, skill: number, extra: Partial<JobResult> = {}) =>
  syntheticResult({
    key: `${model}-${seed}`,
    model,
    modelId: model,
    seed,
    metrics: {
      test: { mse: { '1': 1 - skill, '2': 1 - skill }, skill: { '1': skill, '2': skill } },
      ood: { mse: { '1': 1, '2': 1 }, skill: { '1': 0, '2': 0 } },
    },
    ...extra,
  });

describe('intervals', () => {
  it("gives the 95% interval of a mean with Student's t, and pairs differences by seed", () => {
    const s = interval95([1, 2, 3, 4, 5])!; // mean 3, sd 1.581, se 0.7071, t(0.975, 4) = 2.7764
    expect(s.mean).toBe(3);
    expect(s.se).toBeCloseTo(0.70711, 5);
    expect(s.lo).toBeCloseTo(3 - 2.77645 * 0.70711, 4);
    expect(s.hi).toBeCloseTo(3 + 2.77645 * 0.70711, 4);
    expect(interval95([0.4])).toEqual({ mean: 0.4, se: 0, n: 1, lo: null, hi: null });
    const a = [
      { seed: 0, v: 0.5 },
      { seed: 1, v: 0.7 },
      { seed: 2, v: 0.6 },
    ];
    const b = [
      { seed: 2, v: 0.1 },
      { seed: 0, v: 0.2 },
      { seed: 9, v: 0 },
    ];
    // seeds 0 and 2 only
    expect(pairedDifferences(a, b, (r) => r.v).map((x) => Number(x.toFixed(6)))).toEqual([0.3, 0.5]);
  });
});

describe('--compare in the tables', () => {
  // model a beats b by 0.10, 0.20, 0.30 on seeds 0-2 (a paired mean of 0.2); the seeds themselves vary a lot more
  const results = [0, 1, 2].flatMap((seed) => [
    job('b', seed, [0.1, 0.5, 0.2][seed]),
    job('a', seed, [0.2, 0.7, 0.5][seed]),
  ]);

  it(
    "adds each row's paired difference in skill to the model with its 95% interval; the model itself " + 'reads "-"',
    () => {
      const table = formatTables(results, { compare: 'b' });
      const [title, header, , ...rows] = table.split('\n');
      expect(title).toBe('s-v1 / state');
      expect(header).toMatch(/vs b h=1 \[95%\]\s+vs b h=2 \[95%\]$/);
      const half = 4.30265 * Math.sqrt(0.01 / 3); // t(0.975, 2) x se of the differences (sd 0.1)
      const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
      // [-0.048, +0.448]: 3 seeds do not tell a from b at 95%
      const expected = `+0.200 [${sign(0.2 - half)}, ${sign(0.2 + half)}]`;
      expect(rows.find((r) => r.startsWith('a '))).toContain(expected);
      expect(rows.find((r) => r.startsWith('b '))).toMatch(/\s-\s+-$/);
    },
  );

  it('refuses a model that is not in the results, naming those that are', async () => {
    const r = bench([
      '--model',
      'persistence',
      '--scenario',
      'bouncing-balls',
      '--view',
      'state',
      '--budgets',
      '16',
      '--compare',
      'linear',
      '--out',
      join(scratch(), 'x'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --compare linear: no results of that model here; the models are: persistence');
  });

  it('and in the report, with the 95% interval beside every ± SE', async () => {
    const html = await renderReport(results, 'r', [], { compare: 'b' });
    expect(html).toContain('<th>vs b h=1 [95%]</th><th>vs b h=2 [95%]</th>');
    expect(html).toContain('<td>+0.200 [-0.048, +0.448]</td>');
    // a's skill: mean 0.467 over its three seeds
    expect(html).toMatch(/<td>0\.467 ± 0\.145 \[-0\.\d{3}, 1\.\d{3}\]<\/td>/);
  });
});

describe('int and token views', () => {
  it(
    'show accElement beside accStep in the table and the report (accStep alone was 0 for every model on a ' +
      'large grid)',
    async () => {
      const acc = (step: number, element: number) => ({ accStep: { '1': step }, accElement: { '1': element } });
      const results = [
        job('persistence', 0, 0, {
          view: 'grid',
          metrics: {
            test: { mse: { '1': 1 }, skill: { '1': 0 }, ...acc(0, 0.948) },
            ood: { mse: { '1': 1 }, skill: { '1': 0 } },
          },
        }),
        job('jepa', 0, 0, {
          view: 'grid',
          metrics: {
            test: { mse: { '1': 1 }, skill: { '1': 0 }, ...acc(0, 0.961) },
            ood: { mse: { '1': 1 }, skill: { '1': 0 } },
          },
        }),
      ];
      const table = formatTables(results);
      expect(table).toMatch(/accStep h=1\s+accElement h=1/);
      expect(table).toMatch(/jepa .* 0\.000\s+0\.961/);
      const html = await renderReport(results, 'r');
      expect(html).toContain('<th>accStep h=1</th><th>accElement h=1</th>');
      expect(html).toContain('<td>0.961</td>');
    },
  );
});

describe('skill plots', () => {
  it('span a readable range that holds 0; a far-out value is drawn at the edge', () => {
    const values = [0.1, 0.26, 0.3, 0.45, 0.5, 0.6, 0.7, 0.8, -7.7];
    const range = readableRange(values)!;
    expect(range.lo).toBeGreaterThan(-3);
    expect(range.lo).toBeLessThan(0);
    expect(range.hi).toBe(0.8);
    expect(clip(-7.7, range)).toEqual({ shown: range.lo, clipped: true });
    expect(clip(0.3, range)).toEqual({ shown: 0.3, clipped: false });
    expect(readableRange([0.2, 0.4, 0.9])).toEqual({ lo: 0, hi: 0.9 }); // nothing far out: the values and 0
    expect(readableRange([])).toBeNull();
  });

  it('mark a clipped point with its true value in the report (one outlier no longer squashes the others)', async () => {
    const budgets = [64, 256, 1024];
    const results = budgets.flatMap((budget, i) => [
      job('persistence', 0, 0, { key: `p${budget}`, budget }),
      job('good', 0, [0.3, 0.5, 0.7][i], { key: `g${budget}`, budget }),
      job('bad', 0, [0.1, -7.7, 0.2][i], { key: `b${budget}`, budget }),
    ]);
    const html = await renderReport(results, 'r');
    const curve = html.split('</svg>').find((svg) => svg.includes('against training budget'))!;
    const texts = [...curve.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(texts).toContain(
      'skill at h = 1 against training budget (95% intervals; ▼ beyond the axis, with its value)',
    );
    expect(texts).toContain('-7.7'); // the clipped point's true value, beside its mark
    const ticks = texts.filter((t) => /^[−-]?\d+\.\d$/.test(t) && t !== '-7.7').map((t) => Number(t.replace('−', '-')));
    // the axis ends near -1, not at -8: the other curves keep their room
    expect(Math.min(...ticks)).toBeGreaterThan(-2);
    expect(Math.max(...ticks)).toBeGreaterThanOrEqual(0.6);
  });
});
