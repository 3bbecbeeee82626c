// The smoke test of the project: `pnpm bench` as a subprocess, as a user runs it.
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverPlugins, findModel, loadModelModule } from '@worldbench/core';
import { bench, root, scratch, joined } from './helpers';

describe('pnpm bench', () => {
  const out = join(scratch(), 'run');
  const command = [
    '--model',
    'linear,persistence',
    '--scenario',
    'bouncing-balls',
    '--budgets',
    '256,1024',
    '--seeds',
    '2',
    '--out',
    out,
  ];

  it('prints a table per view; linear beats persistence on state at both budgets; a rerun fits nothing', {
    tags: ['slow'],
    timeout: 600_000,
  }, () => {
    const first = bench(command);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('bouncing-balls-v1 / state');
    expect(first.stdout).toContain('bouncing-balls-v1 / frame');

    const json = bench([...command, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const { results } = JSON.parse(json.stdout);
    expect(results).toHaveLength(2 * 2 * 2 * 2); // models x views x budgets x seeds
    for (const r of results) {
      for (const field of [
        'key',
        'model',
        'config',
        'scenario',
        'view',
        'protocol',
        'budget',
        'seed',
        'status',
        'metrics',
        'cost',
        'env',
      ])
        expect(r).toHaveProperty(field);
      expect(r.status).toBe('ok');
      expect(Object.keys(r.metrics.test.skill)).toEqual(Array.from({ length: 16 }, (_, i) => String(i + 1)));
      expect(r.metrics.ood.mse['1']).toEqual(expect.any(Number));
      for (const c of ['fitSeconds', 'forecastStepsPerSecond', 'params', 'peakMemoryMB'])
        expect(r.cost[c]).toEqual(expect.any(Number));
      for (const e of ['backend', 'ort', 'node', 'cpu', 'commit']) expect(r.env).toHaveProperty(e);
      if (r.view === 'frame') expect(r.metrics.test.psnr['1']).toEqual(expect.any(Number));
    }
    for (const budget of [256, 1024]) {
      const skills = results
        .filter((r: any) => r.model === 'linear' && r.view === 'state' && r.budget === budget)
        .map((r: any) => r.metrics.test.skill['1']);
      const mean = skills.reduce((a: number, b: number) => a + b, 0) / skills.length;
      expect(mean, `linear skill at h = 1, budget ${budget}`).toBeGreaterThan(0.2);
    }

    const second = bench(command);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).not.toMatch(/ok in /); // every job came from the store
    expect(second.stderr.match(/\(cached\)/g)).toHaveLength(16);
    // linear on 32x32 frames at budget 1024 is a 1024 x 1024 ridge solve in JS: seconds per job, more on a busy machine
  });

  it('drops a torn last line and completes the run', { tags: ['slow'] }, () => {
    const dir = join(scratch(), 'torn');
    const small = [
      '--model',
      'persistence',
      '--scenario',
      'bouncing-balls',
      '--view',
      'state',
      '--budgets',
      '64',
      '--seeds',
      '2',
      '--out',
      dir,
    ];
    expect(bench(small).code).toBe(0);
    const file = join(dir, 'results.jsonl');
    const whole = readFileSync(file, 'utf8');
    const lines = whole.trim().split('\n');
    // as if a crash tore the second line mid-write
    const torn = lines[0] + '\n' + lines[1].slice(0, 40);
    writeFileSync(file, torn);
    const rerun = bench(small);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/dropped 1 torn/);
    const after = readFileSync(file, 'utf8');
    expect(after.endsWith('\n')).toBe(true);
    const parsed = after
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(new Set(parsed.map((r) => r.key)).size).toBe(2);
    appendFileSync(file, ''); // still writable
  });

  it.each([
    [['--model', 'nope'], /unknown model "nope"; valid: .*linear/],
    [['--budgets', 'abc'], /--budgets takes positive integers up to 1,048,576, got "abc"/],
    [['--seeds', '-1'], /seeds/],
    [['--seeds', '0'], /--seeds 0 asks for no seeds .* for seed 0 alone write --seeds 0-0/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--scenario', 'nope'], /unknown scenario "nope"; valid: .*bouncing-balls-v1/],
    [['--protocol', 'sideways'], /unknown protocol "sideways"; valid: offline, offline-explore/],
    [['--model', 'linear[nope=1]'], /model linear has no config key "nope"; valid: ridge/],
    [['--model', 'linear[ridge=abc]'], /ridge is a number/],
    // values of the right type outside the model's config table, at plan time (not as a failed job), every model
    [['--model', 'linear[ridge=-1]'], /linear\[ridge=-1\]: linear config: ridge is a number >= 0, got -1/],
    [
      ['--model', 'possible-worlds[library=mine]', '--scenario', 'hidden-laws'],
      joined(
        /possible-worlds\[library=mine\]: possible-worlds config: library is 'search' or 'scenario' or /,
        /'generic', got "mine"/,
      ),
    ],
    [
      ['--model', 'jepa[forecastBackend=gpu]', '--scenario', 'code-trace'],
      /jepa\[forecastBackend=gpu\]: jepa config: forecastBackend is 'onnx' or 'tfjs', got "gpu"/,
    ],
    [
      ['--model', 'jepa[heads=0]', '--scenario', 'code-trace'],
      /jepa\[heads=0\]: jepa config: heads is an integer >= 1, got 0/,
    ],
    [
      ['--model', 'spatial[teacherShare=2]', '--scenario', 'sprite-world'],
      /spatial\[teacherShare=2\]: spatial config: teacherShare is a number in \[0, 1\], got 2/,
    ],
    [
      ['--model', 'possible-worlds[searchEffort=0.5]', '--scenario', 'hidden-laws'],
      /possible-worlds config: searchEffort is an integer >= 1, got 0\.5/,
    ],
    [['--model', 'persistence[k=1]'], /model persistence has no config key "k"; valid: \(none\)/],
    // only a config's own keys, not what every object inherits
    [['--model', 'linear[__proto__=1]'], /model linear has no config key "__proto__"; valid: ridge/],
    [['--model', 'linear[constructor=1]'], /model linear has no config key "constructor"; valid: ridge/],
    [['--model', 'linear[toString=1]'], /model linear has no config key "toString"; valid: ridge/],
    // bounds, stated in --help: refused at once, before anything is planned
    [
      ['--seeds', '0-9999999'],
      /--seeds 0-9999999 asks for 10,000,000 seeds; seeds are 0\.\.1,000,000, at most 10,000 in one run/,
    ],
    [['--seeds', '99999999999'], /--seeds 99999999999 asks for 99,999,999,999 seeds; seeds are 0\.\.1,000,000/],
    [['--seeds', '2000000-2000004'], /--seeds 2000000-2000004 goes beyond seed 1,000,000/],
    [['--budgets', '1000000000'], /--budgets takes positive integers up to 1,048,576, got "1000000000"/],
    [
      [
        '--model',
        'persistence,linear',
        '--scenario',
        'bouncing-balls',
        '--seeds',
        '0-9999',
        '--budgets',
        '16,32,64,128,256,512',
      ],
      joined(
        /this plan has 240,000 jobs \(2 model x scenario pair\(s\) over their views, x 1 protocol\(s\), /,
        /x 6 budget\(s\), x 10,000 seed\(s\)\); a run takes at most 100,000/,
      ),
    ],
    // a single-valued flag twice (the --out given by the test makes it twice too)
    [['--out', 'elsewhere'], /--out is given 2 times \("elsewhere", ".*bad"\); give it once/],
    [['--horizon', '4', '--horizon', '5'], /--horizon is given 2 times \("4", "5"\)/],
    [['--workers', '1', '--workers', '2'], /--workers is given 2 times/],
    [['--job-timeout', '10', '--job-timeout', '20'], /--job-timeout is given 2 times/],
    [['--shard', '0/2', '--shard', '1/2'], /--shard is given 2 times/],
  ])('rejects %j with exit code 2 and writes nothing', (args, message) => {
    const dir = join(scratch(), 'bad');
    const r = bench([...args, '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses an empty --out, writing nothing (it used to write into the repository root)', () => {
    const before = readdirSync(root).sort();
    const r = bench(['--model', 'persistence', '--scenario', 'bouncing-balls', '--out', '']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: --out is empty; give the folder results go to/);
    expect(readdirSync(root).sort()).toEqual(before);
  });

  describe('an --out that cannot be a results folder exits 2 before anything runs, and loses nothing', () => {
    const small = [
      '--model',
      'persistence',
      '--scenario',
      'bouncing-balls',
      '--view',
      'state',
      '--budgets',
      '16',
      '--test-episodes',
      '8',
      '--ood-episodes',
      '8',
    ];

    it('an existing file, or a path under a file (for runs and for report --out)', () => {
      const file = join(scratch(), 'notes.txt');
      writeFileSync(file, 'my notes\n');
      for (const args of [
        [...small, '--out', file],
        ['report', dirname(file), '--out', file],
      ]) {
        const r = bench(args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`error: --out ${file} is a file, not a folder; give a folder`);
        expect(r.stderr).not.toMatch(/EEXIST|ENOTDIR|\n\s+at /);
      }
      const under = join(file, 'run');
      const r = bench([...small, '--out', under]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error: --out ${under} lies under ${file}, which is a file, not a folder`);
      expect(readFileSync(file, 'utf8')).toBe('my notes\n');
    });

    it('a folder that cannot be written', () => {
      const locked = join(scratch(), 'locked');
      mkdirSync(locked);
      chmodSync(locked, 0o555);
      const out = join(locked, 'run');
      for (const args of [
        [...small, '--out', out],
        ['merge', locked, '--out', out],
      ]) {
        const r = bench(args, { unprivileged: true });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(
          `error: --out ${out}: cannot write in ${locked} (permission denied); give a folder you can write`,
        );
      }
      expect(readdirSync(locked)).toEqual([]);
    });

    it('a read-only results.jsonl, found before the first job runs', () => {
      const out = join(scratch(), 'read-only');
      expect(bench([...small, '--seeds', '1', '--out', out]).code).toBe(0);
      const file = join(out, 'results.jsonl');
      const before = readFileSync(file, 'utf8');
      chmodSync(file, 0o444);
      const r = bench([...small, '--seeds', '2', '--out', out], { unprivileged: true }); // seed 1 is a new job
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(
        `error: cannot write ${file}: permission denied; make it writable, or write elsewhere with --out`,
      );
      expect(r.stderr).not.toMatch(/\] persistence/); // no job ran (nor was taken from the store)
      expect(readFileSync(file, 'utf8')).toBe(before);
      expect(readdirSync(out).sort()).toEqual(['plan.json', 'results.jsonl']); // no lock left behind
    });
  });

  it('reads a relative --out from where the user stands, for runs and reports alike', () => {
    mkdirSync(join(root, 'results'), { recursive: true }); // git ignores results/
    const here = mkdtempSync(join(root, 'results', 'cwd-'));
    try {
      const r = bench(
        [
          '--model',
          'persistence',
          '--scenario',
          'bouncing-balls',
          '--view',
          'state',
          '--budgets',
          '16',
          '--test-episodes',
          '8',
          '--ood-episodes',
          '8',
          '--out',
          'mine',
        ],
        { cwd: here, viaPnpm: true },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`results: ${join(here, 'mine', 'results.jsonl')}`);
      const report = bench(['report', 'mine'], { cwd: here, viaPnpm: true });
      expect(report.code, report.stderr).toBe(0);
      expect(report.stdout).toBe(`report: ${join(here, 'mine', 'report.html')}\n`);
      expect(existsSync(join(root, 'mine'))).toBe(false);
    } finally {
      rmSync(here, { recursive: true, force: true });
    }
  });

  it('lists models, scenarios and which model reads which view', () => {
    const r = bench(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/linear\s+baseline/);
    expect(r.stdout).toMatch(/bouncing-balls-v1/);
    expect(r.stdout).toMatch(/persistence\s+bouncing-balls-v1\s+state, frame/);
  });

  it("lists a model's config table: every key with its default, what it takes and its doc", async () => {
    const r = bench(['list', '--config', 'jepa']);
    expect(r.code).toBe(0);
    const jepa = await loadModelModule(findModel(discoverPlugins(root), 'jepa').entry);
    for (const [key, value] of Object.entries(jepa.defaults))
      expect(r.stdout).toContain(`${key.padEnd(19)} = ${JSON.stringify(value)}   (`);
    expect(r.stdout).toMatch(/width += 64 +\(an integer >= 1\)\n +Width D of every token/);
    expect(r.stdout).toMatch(/forecastBackend += "onnx" +\('onnx' or 'tfjs'\)/);
    expect(r.stdout).toMatch(/retired keys .*: contextRead, pointerInit, realActions/);
    expect(bench(['list', '--config', 'linear']).stdout).toMatch(/ridge += 0\.001 +\(a number >= 0\)/);
    const bad = bench(['list', '--config', 'nope']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/unknown model "nope"; valid: jepa, linear/)]);
  });
});
