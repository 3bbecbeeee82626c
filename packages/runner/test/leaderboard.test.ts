// The leaderboard's choice of budget per row and per column, on a sweep still running (synthetic results).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leaderboard } from '../src/leaderboard';
import type { LiveResult } from '../src/protocols';
import type { JobResult } from '../src/result';
import { bench, root, scratch, smallSweep, syntheticResult } from './helpers';

function result(
  protocol: JobResult['protocol'],
  budget: number,
  seed: number,
  skill: number,
  extra: Partial<JobResult> = {},
): JobResult {
  return syntheticResult({
    protocol,
    budget,
    seed,
    evaluation: { testEpisodes: 8, oodEpisodes: 8, horizon: 4 },
    key: `${protocol}/${budget}/${seed}`,
    metrics: { test: { mse: {}, skill: { '1': skill, '4': skill / 2 } }, ood: { mse: {}, skill: {} } },
    cost: { fitSeconds: budget / 1000, forecastStepsPerSecond: 1, params: 1, peakMemoryMB: 1 },
    ...extra,
  });
}

const live = (recovery: number | null): LiveResult => ({
  meanSkill: 0.5,
  movingSkill: [],
  shifts: [100],
  dips: [0.1],
  recoverable: [true],
  recovery: [recovery],
  updates: true,
});

describe('leaderboard', () => {
  it('takes the largest budget most seeds reached, and marks a column measured at another budget', () => {
    const seeds = [0, 1, 2];
    const results = [
      ...seeds.flatMap((s) => [result('offline', 1024, s, 0.5), result('offline', 4096, s, 0.7)]),
      result('offline', 16384, 0, 0.9), // one seed of a running sweep: not the row's budget
      ...seeds.map((s) => result('on-policy', 1024, s, 0.6, { onPolicyGainExplore: 0.1 * (s + 1) })),
      ...seeds.map((s) => result('live', 1024, s, 0.5, { live: live(10 + s) })),
    ];
    const row = leaderboard(results).trim().split('\n')[2].split(' | ');
    expect(row[3]).toBe('4096'); //                                  budget
    expect(row[4]).toBe('3'); //                                     seeds
    expect(row[5]).toBe('0.700 ± 0.000'); //                         skill h=1 at 4096
    expect(row[6]).toBe('0.350 ± 0.000 (h=4)');
    expect(row[7]).toBe('n/a'); //                                   accElement: a real view has none
    expect(row[8]).toBe('0.200 ± 0.058 (b=1024)'); //                on-policy gain where it was measured
    expect(row[9]).toBe('11 (0/3 never) (b=1024)'); //               live recovery likewise
    expect(row[10]).toBe('4.10 ± 0.00 |'); //                        fit s at the row's budget
  });

  it('leaves a column n/a when its protocol never ran, unmarked', () => {
    const row = leaderboard([result('offline', 256, 0, 0.3)])
      .trim()
      .split('\n')[2]
      .split(' | ');
    expect(row.slice(3, 10)).toEqual(['256', '1', '0.300', '0.150 (h=4)', 'n/a', 'n/a', 'n/a']);
  });

  it('gives accElement on an int view, where whole-step skill is 0 for every model', () => {
    // a large grid: no model gets a whole step right (accStep 0, so skill 0), but per-cell accuracy differs
    const grid = (model: string, seed: number, element: number) =>
      result('offline', 1024, seed, 0, {
        model,
        key: `${model}/${seed}`,
        view: 'grid',
        metrics: {
          test: { mse: {}, skill: { '1': 0, '4': 0 }, accStep: { '1': 0 }, accElement: { '1': element } },
          ood: { mse: {}, skill: {} },
        },
      });
    const rows = leaderboard([
      grid('jepa', 0, 0.96),
      grid('jepa', 1, 0.962),
      grid('persistence', 0, 0.948),
      grid('persistence', 1, 0.948),
    ])
      .trim()
      .split('\n');
    expect(rows[0]).toContain('| skill h=H | accElement h=1 |');
    const cells = (model: string) => rows.find((r) => r.includes(`| ${model} |`))!.split(' | ');
    expect([cells('jepa')[5], cells('jepa')[7]]).toEqual(['0.000 ± 0.000', '0.961 ± 0.001']);
    expect([cells('persistence')[5], cells('persistence')[7]]).toEqual(['0.000 ± 0.000', '0.948 ± 0.000']);
  });

  it("says why a model has no row on a view, in the model's words, and only where it has none", () => {
    const unsupported = (model: string, view: string, protocol: JobResult['protocol'], reason: string) =>
      result(protocol, 16, 0, 0, { model, view, status: 'unsupported', reason, metrics: undefined, cost: undefined });
    const board = leaderboard([
      result('offline', 16, 0, 0.3, { model: 'spatial', view: 'frame' }),
      unsupported('spatial', 'state', 'offline', 'spatial reads frames'),
      unsupported('spatial', 'state', 'offline-explore', 'spatial reads frames'),
      // a protocol the model cannot run on a view it reads: the row is there, with n/a in the column
      unsupported('spatial', 'frame', 'on-policy', 'spatial has no act()'),
      unsupported('possible-worlds', 'frame', 'offline', 'reads states only'),
    ]);
    const lines = board.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('| s-v1'))).toHaveLength(1);
    const note = lines.slice(
      lines.indexOf('Not read (no row: the model does not read these views, in its own words):'),
    );
    expect(note.slice(2)).toEqual([
      '- possible-worlds: s-v1 / frame (reads states only)',
      '- spatial: s-v1 / state (spatial reads frames)',
    ]);
  });
});

describe('scripts/leaderboard-pack.ts', () => {
  it('copies each run folder without filmstrips, with its plan and the wall times; a missing folder exits 2', () => {
    const from = join(scratch(), 'sweep'),
      to = join(scratch(), 'packed');
    mkdirSync(join(from, 'jepa-offline'), { recursive: true });
    const line = syntheticResult({ filmstrip: ['data:image/png;base64,AAAA'] });
    const failed = syntheticResult({
      key: 'f',
      status: 'failed',
      metrics: null,
      error: { message: 'boom', phase: 'fit', stack: 'Error: boom\n    at fit (/home/someone/worldbench/x.ts:1:1)' },
    });
    writeFileSync(join(from, 'jepa-offline', 'results.jsonl'), `${JSON.stringify(line)}\n${JSON.stringify(failed)}\n`);
    writeFileSync(join(from, 'jepa-offline', 'plan.json'), '{"keys":["k"]}');
    writeFileSync(
      join(from, 'wall-times.tsv'),
      'part\tfolder\tcommit\tstarted\tseconds\njepa\tjepa-offline\tc\tt\t7\n',
    );
    const pack = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/leaderboard-pack.ts', ...args], {
        cwd: root,
        encoding: 'utf8',
      });
    const r = pack([from, to]);
    expect(r.status, r.stderr).toBe(0);
    const { filmstrip: _strips, ...kept } = line;
    const [first, second] = readFileSync(join(to, 'jepa-offline', 'results.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(JSON.parse(first)).toEqual(kept);
    // a failed job keeps why (message, phase), not the stack with the machine's paths
    expect(JSON.parse(second).error).toEqual({ message: 'boom', phase: 'fit' });
    expect(readFileSync(join(to, 'jepa-offline', 'plan.json'), 'utf8')).toBe('{"keys":["k"]}');
    expect(readFileSync(join(to, 'wall-times.tsv'), 'utf8')).toContain('jepa\tjepa-offline\tc\tt\t7');
    const missing = pack([join(scratch(), 'nope'), to]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/is not a folder; give the sweep's folder/);
  });
});

describe('scripts/leaderboard-publish.ts', () => {
  it("writes the README's table and the wall times from the packed results; --check says when they are stale", () => {
    const at = scratch();
    const results = join(at, 'docs', 'leaderboard', 'results');
    const sweep = bench(
      smallSweep({ model: 'persistence', scenario: 'hidden-laws', view: 'state', out: join(results, 'persistence') }),
    );
    expect(sweep.code, sweep.stderr).toBe(0);
    // a part run in two invocations (resumed at another commit): its seconds add up
    writeFileSync(
      join(results, 'wall-times.tsv'),
      [
        'part\tfolder\tcommit\tstarted\tseconds',
        'persistence\tpersistence\tc1\tt\t3725',
        'persistence\tpersistence\tc2\tt\t7',
        '',
      ].join('\n'),
    );
    const report = bench(['report', 'docs/leaderboard/results/persistence', '--out', 'docs/leaderboard'], { cwd: at });
    expect(report.code, report.stderr).toBe(0);
    const marked = (name: string) => `# t\n<!-- generated: ${name} (x) -->\nold\n<!-- end: ${name} -->\nafter\n`;
    writeFileSync(join(at, 'README.md'), marked('leaderboard'));
    writeFileSync(join(at, 'docs', 'leaderboard', 'README.md'), marked('wall-times') + marked('job-times'));
    const publish = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/leaderboard-publish.ts', '--root', at, ...args], {
        cwd: root,
        encoding: 'utf8',
      });

    const stale = publish('--check');
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/README\.md: the leaderboard block is not what the committed results give/);
    expect(readFileSync(join(at, 'README.md'), 'utf8')).toContain('\nold\n'); // --check writes nothing
    expect(publish().status).toBe(0);
    expect(publish('--check').status).toBe(0);

    const readme = readFileSync(join(at, 'README.md'), 'utf8');
    const table = readFileSync(join(at, 'docs', 'leaderboard', 'leaderboard.md'), 'utf8');
    expect(readme).toMatch(/: 1 of 1 planned jobs done \(1 ok, 0 unsupported\) in 1 run folders, every one complete/);
    expect(readme).toContain(table.slice(table.indexOf('| scenario / view |')));
    expect(readme.endsWith('<!-- end: leaderboard -->\nafter\n')).toBe(true);
    const times = readFileSync(join(at, 'docs', 'leaderboard', 'README.md'), 'utf8');
    expect(times).toContain('| persistence | 1h 02m 12s | 3732 | 2 | c1, c2 |\n| all | 1h 02m 12s | 3732 | 2 | |\n');
    // the job's own seconds, in minutes, under its budget
    const [line] = readFileSync(join(results, 'persistence', 'results.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const job = JSON.parse(line) as { budget: number; cost: { wallSeconds: number } };
    const minutes = (job.cost.wallSeconds / 60).toFixed(1);
    expect(times).toContain(`| run folder | b=${job.budget} | all |\n| --- | ---: | ---: |\n`);
    expect(times).toContain(`| \`persistence\` | ${minutes} | ${minutes} |\n| all | ${minutes} | ${minutes} |\n`);

    writeFileSync(join(at, 'README.md'), '# no markers\n');
    const unmarked = publish();
    expect(unmarked.status).toBe(2);
    expect(unmarked.stderr).toMatch(/README\.md has no "<!-- generated: leaderboard \.\.\. -->"/);
  });
});

// The complete sweep's packed results, once committed (docs/leaderboard/README.md): the report regenerates its
// leaderboard.md byte for byte on any checkout, and the README's table and wall times are what they give.
const committed = join(root, 'docs', 'leaderboard', 'results');
describe.skipIf(!existsSync(committed))('the committed leaderboard (docs/leaderboard)', () => {
  it('regenerates byte for byte from the committed results; the README shows what they give', () => {
    const folders = readdirSync(committed, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `docs/leaderboard/results/${entry.name}/`)
      .sort();
    const out = scratch();
    const report = bench(['report', ...folders, '--out', out]);
    expect(report.code, report.stderr).toBe(0);
    const board = (dir: string) => readFileSync(join(dir, 'leaderboard.md'), 'utf8');
    expect(board(out)).toBe(board(join(root, 'docs', 'leaderboard')));
    const check = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/leaderboard-publish.ts', '--check'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(check.status, check.stderr).toBe(0);
  }, 600_000);
});
