// `pnpm bench export`: a fixture run (ok jobs of two models with different configs, a failed and an unsupported
// one) becomes one row per (job, split, metric, horizon) of the ok jobs, config flattened into columns; the
// failed and unsupported jobs go to a second file, or into the same one with --all. CSV and parquet alike.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { bench, jsonl, scratch, syntheticResult } from './helpers';

/** Two horizons, two metrics, two splits: 8 rows per ok job. */
const metrics = (skill: number) => ({
  test: { mse: { '1': 1 - skill, '2': 1.2 - skill }, skill: { '1': skill, '2': skill / 2 } },
  ood: { mse: { '1': 1, '2': 1.5 }, skill: { '1': 0, '2': -0.1 } },
});

function fixtureRun(): string {
  const dir = join(scratch(), 'run');
  const lines = [
    syntheticResult({
      key: 'a',
      model: 'linear[ridge=0.1]',
      modelId: 'linear',
      config: { ridge: 0.1 },
      seed: 0,
      metrics: metrics(0.3),
    }),
    syntheticResult({
      key: 'b',
      model: 'knn',
      modelId: 'knn',
      config: { k: 8, distance: { metric: 'l2', weights: [1, 2] } },
      seed: 1,
      metrics: metrics(0.5),
    }),
    syntheticResult({
      key: 'c',
      model: 'knn',
      modelId: 'knn',
      config: { k: 8, distance: { metric: 'l2', weights: [1, 2] } },
      seed: 2,
      status: 'failed',
      metrics: null,
      cost: null,
      error: { message: 'boom, in fit', phase: 'fit', stack: 'Error: boom' },
    }),
    syntheticResult({
      key: 'd',
      model: 'linear[ridge=0.1]',
      modelId: 'linear',
      config: { ridge: 0.1 },
      protocol: 'on-policy',
      status: 'unsupported',
      metrics: null,
      cost: null,
      reason: 'linear has no act()',
    }),
  ];
  mkdirSync(dir);
  writeFileSync(join(dir, 'results.jsonl'), jsonl(lines));
  return dir;
}

/** A CSV text as rows of cells (RFC 4180 quoting, as csv-stringify writes it). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [],
    cell = '',
    quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\n') row.push(cell), rows.push(row), (row = []), (cell = '');
    else cell += c;
  }
  return rows;
}

const JOB_COLUMNS = [
  'key',
  'model',
  'modelId',
  'scenario',
  'view',
  'protocol',
  'budget',
  'seed',
  'status',
  'evaluation.testEpisodes',
  'evaluation.oodEpisodes',
  'evaluation.horizon',
  'privileged',
  'cost.fitSeconds',
  'cost.forecastStepsPerSecond',
  'cost.params',
  'cost.peakMemoryMB',
  'cost.wallSeconds',
  'env.backend',
  'env.commit',
  'fingerprint',
  'finishedAt',
  'auc',
  'onPolicyGain',
  'onPolicyGainExplore',
  'onPolicyGainRandom',
  'selfForcingGain',
  'worlds',
  'tellWorld',
  'transferGain',
];
const CONFIG_COLUMNS = ['config.distance.metric', 'config.distance.weights', 'config.k', 'config.ridge'];

describe('pnpm bench export', () => {
  it(
    'writes one CSV row per (ok job, split, metric, horizon) with the job and its flattened config, and the failed ' +
      'and unsupported jobs beside it',
    () => {
      const dir = fixtureRun();
      const r = bench(['export', dir]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        `export: ${join(dir, 'results.csv')} (16 rows: one per job, split, metric and horizon of 2 ok job(s))`,
      );
      const [header, ...rows] = parseCsv(readFileSync(join(dir, 'results.csv'), 'utf8'));
      expect(header).toEqual([...JOB_COLUMNS, ...CONFIG_COLUMNS, 'split', 'metric', 'h', 'value']);
      expect(rows).toHaveLength(2 * 2 * 2 * 2); // ok jobs x splits x metrics x horizons
      const cell = (row: string[], column: string) => row[header.indexOf(column)];
      const one = rows.find(
        (x) =>
          cell(x, 'key') === 'b' &&
          cell(x, 'split') === 'test' &&
          cell(x, 'metric') === 'skill' &&
          cell(x, 'h') === '2',
      )!;
      expect(Number(cell(one, 'value'))).toBe(0.25);
      expect([
        cell(one, 'config.k'),
        cell(one, 'config.distance.metric'),
        cell(one, 'config.distance.weights'),
        cell(one, 'config.ridge'),
      ]).toEqual(['8', 'l2', '[1,2]', '']);
      expect([cell(one, 'model'), cell(one, 'seed'), cell(one, 'privileged'), cell(one, 'evaluation.horizon')]).toEqual(
        ['knn', '1', 'false', '2'],
      );
      // the jobs that have no metrics: one row each, with why
      const [failedHeader, ...failed] = parseCsv(readFileSync(join(dir, 'results.failed.csv'), 'utf8'));
      expect(failedHeader).toEqual([...JOB_COLUMNS, ...CONFIG_COLUMNS, 'phase', 'reason']);
      expect(
        failed.map((x) => [
          cell(x, 'key'),
          x[failedHeader.indexOf('status')],
          x[failedHeader.indexOf('phase')],
          x[failedHeader.indexOf('reason')],
        ]),
      ).toEqual([
        ['c', 'failed', 'fit', 'boom, in fit'],
        ['d', 'unsupported', '', 'linear has no act()'],
      ]);
    },
  );

  it('writes parquet with typed columns, and with --all the failed and unsupported jobs in the same file', async () => {
    const dir = fixtureRun();
    const file = join(scratch(), 'all.parquet');
    const r = bench(['export', dir, '--format', 'parquet', '--all', '--out', file]);
    expect(r.code, r.stderr).toBe(0);
    const buffer = readFileSync(file);
    const rows = (await parquetReadObjects({
      file: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength),
    })) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(16 + 2);
    expect(Object.keys(rows[0])).toEqual([
      ...JOB_COLUMNS,
      ...CONFIG_COLUMNS,
      'split',
      'metric',
      'h',
      'value',
      'phase',
      'reason',
    ]);
    const skill = rows.find((x) => x.key === 'a' && x.split === 'ood' && x.metric === 'skill' && x.h === 2)!;
    expect(skill).toMatchObject({
      value: -0.1,
      'config.ridge': 0.1,
      'config.k': null,
      seed: 0,
      privileged: false,
      status: 'ok',
    });
    expect(rows.filter((x) => x.status !== 'ok').map((x) => [x.key, x.status, x.phase, x.reason, x.value])).toEqual([
      ['c', 'failed', 'fit', 'boom, in fit', null],
      ['d', 'unsupported', null, 'linear has no act()', null],
    ]);
  });

  it('refuses bad input with exit code 2', () => {
    const dir = fixtureRun();
    for (const [args, message] of [
      [['export', dir, '--format', 'xlsx'], /--format xlsx: export writes csv or parquet/],
      [['export', dir, scratch()], /export of 2 runs: say where it goes with --out FILE/],
      [['export', dir, '--out', dir], /is a folder; export writes a file/],
      [['export', scratch()], /no results in .* \(no results\.jsonl\)/],
      [['export', dir, '--model', 'x'], /export takes run folders, --out, --format and --all, not --model/],
    ] as const) {
      const r = bench([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
