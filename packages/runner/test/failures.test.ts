// Planted models (test/fixtures, loaded with --model <path>) that throw, hang, forecast NaN and crash:
// each is recorded as failed with its reason, every other job is ok, and a rerun retries only them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelModule, UserError } from '@worldbench/core';
import { describe, expect, it } from 'vitest';
import { bench, fixture, readLines, root, scratch } from './helpers';

describe('failing jobs', () => {
  it('records a throw, a hang (killed by --job-timeout), a NaN forecast and a crash as failed with their reasons; the rest is ok', () => {
    const out = join(scratch(), 'planted');
    const planted = ['throwing-model.ts', 'hanging-model.ts', 'nan-model.ts', 'crashing-model.ts'].map(fixture);
    const args = ['--model', ['persistence', 'linear', ...planted].join(','), '--scenario', 'bouncing-balls', '--view', 'state', '--budgets', '16', '--seeds', '1'];
    const run = [...args, '--test-episodes', '8', '--ood-episodes', '8', '--job-timeout', '5', '--workers', '2', '--out', out];
    const t0 = performance.now();
    const r = bench([...run, '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect((performance.now() - t0) / 1000, 'the hang is cut at 5 s').toBeLessThan(60);
    const { results } = JSON.parse(r.stdout); // what models print goes to stderr
    expect(r.stderr).toMatch(/planted-throws .*: planted: a model printing on stdout/);
    const by = Object.fromEntries(results.map((x: { model: string }) => [x.model, x]));
    expect(Object.keys(by).sort()).toEqual(['linear', 'persistence', 'planted-crashes', 'planted-hangs', 'planted-nan', 'planted-throws']);
    expect(by['planted-throws']).toMatchObject({ status: 'failed', error: 'planted failure: fit throws', metrics: null });
    expect(by['planted-hangs']).toMatchObject({ status: 'failed', error: 'timed out after 5 s (--job-timeout): the worker process was killed with SIGKILL' });
    expect(by['planted-nan'].error).toMatch(/^test forecast: forecast holds NaN or infinity/);
    expect(by['planted-crashes'].error).toMatch(/^the worker process was killed by SIGSEGV before reporting a result/);
    for (const m of ['persistence', 'linear']) {
      expect(by[m].status).toBe('ok');
      expect(by[m].cost.peakMemoryMB).toBeGreaterThan(10); // the worker's own peak
    }
    expect(readLines(join(out, 'results.jsonl'))).toHaveLength(6);

    // a rerun runs the failed keys again (and only them); the exit code still says that jobs failed
    const rerun = bench(run);
    expect(rerun.code).toBe(1);
    expect(rerun.stderr.match(/\(cached\)/g)).toHaveLength(2);
    expect(rerun.stderr).toMatch(/4 job\(s\) failed; rerun the same command to retry them/);
    expect(readLines(join(out, 'results.jsonl'))).toHaveLength(10);
  });
});

describe('--model <path>', () => {
  it.each([
    [join(root, 'no-such-model.ts'), /--model .*no-such-model\.ts: no such file/],
    [fixture('not-a-model.ts'), /is not a WorldModelModule \(missing or wrong: defaults, supports, create, load\)/],
    [fixture('no-default-export.ts'), /no-default-export\.ts has no default export; export default the plug-in object/],
    [fixture('throws-on-import.ts'), /importing .*throws-on-import\.ts threw: planted: cannot read weights\.bin at import time/],
    [fixture('refuses-everything.ts'), /refuses-everything supports none of the chosen scenarios \(bouncing-balls-v1: needs a view named "lidar"\); choose a scenario it reads/],
    [join(root, 'packages/onnx/fixtures/hidden-laws-mlp.onnx'), /hidden-laws-mlp\.onnx: a \.onnx file is not a module; run it through its scheme: --model onnx:.*hidden-laws-mlp\.onnx$/m],
    [join(root, 'packages/baselines/src/persistence.ts'), /its card\.id "persistence" is already the id of the registered model of @worldbench\/baselines/],
  ])('rejects %s with exit code 2 and writes nothing', (model, message) => {
    const out = join(scratch(), 'bad');
    const r = bench(['--model', model, '--scenario', 'bouncing-balls', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  it('keeps the error a plug-in threw on import as the cause', async () => {
    const err = await loadModelModule(fixture('throws-on-import.ts')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(((err as Error).cause as Error).message).toBe('planted: cannot read weights.bin at import time');
  });

  it('records forecasts of the wrong shape as failed jobs, naming the expected and the found shape', () => {
    const out = join(scratch(), 'wrong-shape');
    const r = bench(['--model', fixture('wrong-shape.ts'), '--scenario', 'bouncing-balls', '--view', 'state', '--budgets', '16', '--test-episodes', '8', '--ood-episodes', '8', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const [line] = JSON.parse(r.stdout).results;
    expect(line.status).toBe('failed');
    expect(line.error).toBe('test forecast: forecast mean has shape [8,15,4,4], expected [8,16,4,4] ([B, H, ...viewShape])');
  });

  it('records a forecast whose data is shorter than its shape as failed (never ok with null metrics), and retries it', () => {
    const out = join(scratch(), 'short-data');
    const args = ['--model', fixture('short-data.ts'), '--scenario', 'bouncing-balls', '--view', 'state', '--budgets', '16', '--test-episodes', '8', '--ood-episodes', '8', '--out', out];
    const r = bench([...args, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const [line] = JSON.parse(r.stdout).results;
    expect(line).toMatchObject({ status: 'failed', metrics: null, error: 'test forecast: forecast mean holds 10 values, but its shape [8,16,4,4] needs 2048' });
    const rerun = bench(args);
    expect(rerun.code).toBe(1);
    expect(rerun.stderr).not.toMatch(/\(cached\)/);
    expect(readLines(join(out, 'results.jsonl')).map((l) => l.status)).toEqual(['failed', 'failed']);
  });
});
