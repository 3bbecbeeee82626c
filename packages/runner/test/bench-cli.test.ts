// The smoke test of the project: `pnpm bench` as a subprocess, as a user runs it.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bench, scratch } from './helpers';

describe('pnpm bench', () => {
  const out = join(scratch(), 'run');
  const command = ['--model', 'linear,persistence', '--scenario', 'bouncing-balls', '--budgets', '256,1024', '--seeds', '2', '--out', out];

  it('prints a table per view; linear beats persistence on state at both budgets; a rerun fits nothing', () => {
    const first = bench(command);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('bouncing-balls-v1 / state');
    expect(first.stdout).toContain('bouncing-balls-v1 / frame');

    const json = bench([...command, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const { results } = JSON.parse(json.stdout);
    expect(results).toHaveLength(2 * 2 * 2 * 2); // models x views x budgets x seeds
    for (const r of results) {
      for (const field of ['key', 'model', 'config', 'scenario', 'view', 'protocol', 'budget', 'seed', 'status', 'metrics', 'cost', 'env']) expect(r).toHaveProperty(field);
      expect(r.status).toBe('ok');
      expect(Object.keys(r.metrics.test.skill)).toEqual(Array.from({ length: 16 }, (_, i) => String(i + 1)));
      expect(r.metrics.ood.mse['1']).toEqual(expect.any(Number));
      for (const c of ['fitSeconds', 'forecastStepsPerSecond', 'params', 'peakMemoryMB']) expect(r.cost[c]).toEqual(expect.any(Number));
      for (const e of ['backend', 'ort', 'node', 'cpu', 'commit']) expect(r.env).toHaveProperty(e);
      if (r.view === 'frame') expect(r.metrics.test.psnr['1']).toEqual(expect.any(Number));
    }
    for (const budget of [256, 1024]) {
      const skills = results.filter((r: any) => r.model === 'linear' && r.view === 'state' && r.budget === budget).map((r: any) => r.metrics.test.skill['1']);
      const mean = skills.reduce((a: number, b: number) => a + b, 0) / skills.length;
      expect(mean, `linear skill at h = 1, budget ${budget}`).toBeGreaterThan(0.2);
    }

    const second = bench(command);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).not.toMatch(/ok in /); // every job came from the store
    expect(second.stderr.match(/\(cached\)/g)).toHaveLength(16);
  }, 600_000); // linear on 32x32 frames at budget 1024 is a 1024 x 1024 ridge solve in JS: seconds per job, more on a busy machine

  it('drops a torn last line and completes the run', () => {
    const dir = join(scratch(), 'torn');
    const small = ['--model', 'persistence', '--scenario', 'bouncing-balls', '--view', 'state', '--budgets', '64', '--seeds', '2', '--out', dir];
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
    const parsed = after.trim().split('\n').map((l) => JSON.parse(l));
    expect(new Set(parsed.map((r) => r.key)).size).toBe(2);
    appendFileSync(file, ''); // still writable
  });

  it.each([
    [['--model', 'nope'], /unknown model "nope"; valid: .*linear/],
    [['--budgets', 'abc'], /--budgets takes positive integers, got "abc"/],
    [['--seeds', '-1'], /seeds/],
    [['--seeds', '0'], /--seeds 0 asks for no seeds .* for seed 0 alone write --seeds 0-0/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--scenario', 'nope'], /unknown scenario "nope"; valid: .*bouncing-balls-v1/],
    [['--protocol', 'sideways'], /unknown protocol "sideways"; valid: offline, offline-explore/],
    [['--model', 'linear[nope=1]'], /model linear has no config key "nope"; valid: ridge/],
    [['--model', 'linear[ridge=abc]'], /ridge is a number/],
    // values of the right type that the model's own checkConfig refuses, at plan time (not as a failed job)
    [['--model', 'linear[ridge=-1]'], /linear\[ridge=-1\]: linear config: ridge is a finite number >= 0, got -1/],
    [['--model', 'possible-worlds[library=mine]', '--scenario', 'hidden-laws'], /library is 'search' or 'scenario' or 'generic', got "mine"/],
    [['--model', 'jepa[forecastBackend=gpu]', '--scenario', 'code-trace'], /jepa\[forecastBackend=gpu\]: jepa config: forecastBackend is 'onnx' or 'tfjs', got gpu/],
  ])('rejects %j with exit code 2 and writes nothing', (args, message) => {
    const dir = join(scratch(), 'bad');
    const r = bench([...args, '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(existsSync(dir)).toBe(false);
  });

  it('lists models, scenarios and which model reads which view', () => {
    const r = bench(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/linear\s+baseline/);
    expect(r.stdout).toMatch(/bouncing-balls-v1/);
    expect(r.stdout).toMatch(/persistence\s+bouncing-balls-v1\s+state, frame/);
  });
});
