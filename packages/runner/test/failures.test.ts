// Planted models (test/fixtures, loaded with --model <path>) that throw, hang, forecast NaN and crash:
// each is recorded as failed with its reason, every other job is ok, and a rerun retries only them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelModule, UserError } from '@worldbench/core';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../src/report';
import { describeFailure, failureOf, resultProblem } from '../src/result';
import { bench, fixture, readLines, root, scratch, smallSweep, syntheticResult, joined } from './helpers';

describe('failing jobs', () => {
  it('records a throw, a hang (killed by --job-timeout), a NaN forecast and a crash as failed with their reasons; ' +
    'the rest is ok', {
    tags: ['slow'],
    timeout: 240_000,
  }, () => {
    const out = join(scratch(), 'planted');
    const planted = ['throwing-model.ts', 'hanging-model.ts', 'nan-model.ts', 'crashing-model.ts'].map(fixture);
    const run = [
      ...smallSweep({
        model: ['persistence', 'linear', ...planted].join(','),
        scenario: 'bouncing-balls',
        view: 'state',
        seeds: '1',
        out,
      }),
      // long enough that a model which does finish (persistence, linear: a worker's start-up under a CI machine's
      // load) is never cut; the hang still is
      '--job-timeout',
      '10',
      '--workers',
      '2',
    ];
    const t0 = performance.now();
    const r = bench([...run, '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect((performance.now() - t0) / 1000, 'the hang is cut at 10 s').toBeLessThan(90);
    const { results } = JSON.parse(r.stdout); // what models print goes to stderr
    expect(r.stderr).toMatch(/planted-throws .*: planted: a model printing on stdout/);
    const by = Object.fromEntries(results.map((x: { model: string }) => [x.model, x]));
    expect(Object.keys(by).sort()).toEqual([
      'linear',
      'persistence',
      'planted-crashes',
      'planted-hangs',
      'planted-nan',
      'planted-throws',
    ]);
    expect(by['planted-throws']).toMatchObject({
      format: 2,
      status: 'failed',
      error: { message: 'planted failure: fit throws', phase: 'fit' },
      metrics: null,
    });
    // the phase a killed worker was in, as it last reported it: the hang was in fit
    expect(by['planted-hangs']).toMatchObject({
      status: 'failed',
      error: {
        message: 'timed out after 10 s (--job-timeout): the worker process was killed with SIGKILL',
        phase: 'fit',
      },
    });
    expect(by['planted-hangs'].error.stack).toBeUndefined();
    // a NaN names its [b, h, ...] index: the planted model's forecast is NaN everywhere, 8 windows x 16 steps x 4 x 4
    expect(by['planted-nan'].error).toMatchObject({
      phase: 'forecast',
      message:
        'test forecast: forecast holds NaN or infinity: mean[0, 0, 0, 0] = NaN (2048 values are bad; mean is [B, H, ' +
        '...viewShape] = [8, 16, 4, 4])',
    });
    expect(by['planted-crashes'].error.message).toMatch(
      /^the worker process was killed by SIGSEGV before reporting a result/,
    );
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
    // the summary lists each failed job with its phase and reason
    expect(rerun.stderr).toContain(
      'planted-throws bouncing-balls-v1/state offline b=16 seed=0: in fit: planted failure: fit throws',
    );
    expect(readLines(join(out, 'results.jsonl'))).toHaveLength(10);
  });
});

describe('a failed job says where it failed', () => {
  it(
    'records a TypeError thrown inside a plug-in\'s fit with phase "fit" and a stack naming the plug-in\'s file, ' +
      'in a worker and with --workers 0',
    () => {
      for (const workers of ['1', '0']) {
        const out = join(scratch(), `type-error-${workers}`);
        const r = bench([
          ...smallSweep({ model: fixture('type-error-model.ts'), scenario: 'bouncing-balls', view: 'state', out }),
          '--workers',
          workers,
          '--verbose',
        ]);
        expect(r.code, r.stderr).toBe(1);
        const [line] = readLines(join(out, 'results.jsonl'));
        expect(line).toMatchObject({
          format: 2,
          status: 'failed',
          error: { message: "Cannot read properties of undefined (reading 'shape')", phase: 'fit' },
        });
        const stack = (line.error as { stack: string }).stack;
        expect(stack.split('\n')[0]).toBe("TypeError: Cannot read properties of undefined (reading 'shape')");
        // the frame of the bug: the function in the plug-in's file that read .shape, at its line
        expect(stack).toMatch(/at countSteps \(.*test\/fixtures\/type-error-model\.ts:8:\d+\)/);
        // --verbose prints it under the failed job in the summary
        expect(r.stderr).toContain(
          'planted-type-error bouncing-balls-v1/state offline b=16 seed=0: in fit: Cannot read properties of ' +
            "undefined (reading 'shape')",
        );
        expect(r.stderr).toMatch(/\n\s+at countSteps \(.*type-error-model\.ts:8:\d+\)/);
      }
    },
  );

  it(
    'reads the failures of results lines of format 1 (error: a string) and 2 (error: { message, phase, stack ' +
      '}) alike',
    () => {
      const v1 = syntheticResult({ status: 'failed', metrics: null, error: 'old message' });
      const v2 = syntheticResult({
        format: 2,
        status: 'failed',
        metrics: null,
        error: { message: 'new message', phase: 'act', stack: 'Error: new message\n    at act (m.ts:1:1)' },
      });
      expect(resultProblem(v1)).toBeNull();
      expect(resultProblem(v2)).toBeNull();
      expect(resultProblem({ ...v2, error: { phase: 'fit' } })).toMatch(/^error: /); // no message: not a result
      expect(failureOf(v1)).toEqual({ message: 'old message', phase: null, stack: null });
      expect(failureOf(v2)).toEqual({
        message: 'new message',
        phase: 'act',
        stack: 'Error: new message\n    at act (m.ts:1:1)',
      });
      expect(describeFailure(v1)).toBe('old message');
      expect(describeFailure(v2)).toBe('in act: new message');
      // a line of a newer format may have changed a field's shape: it is not read as this one (a store sets it aside)
      expect(resultProblem({ ...v2, format: 3 })).toBe(
        'format: a line of a newer results format than this checkout reads (it reads up to 2): update worldbench to ' +
          'read it',
      );
    },
  );

  it(
    'shows in the report each failed job with its phase, message and folded stack; a format-1 line with its ' +
      'message alone',
    async () => {
      const v1 = syntheticResult({
        key: 'old',
        model: 'old-model',
        status: 'failed',
        metrics: null,
        cost: null,
        error: 'old <message>',
      });
      const v2 = syntheticResult({
        key: 'new',
        model: 'new-model',
        seed: 3,
        format: 2,
        status: 'failed',
        metrics: null,
        cost: null,
        error: {
          message: "Cannot read properties of undefined (reading 'shape')",
          phase: 'fit',
          stack:
            "TypeError: Cannot read properties of undefined (reading 'shape')\n    at countSteps (my-model.ts:8:3)",
        },
      });
      const html = await renderReport([syntheticResult(), v1, v2], 'r');
      const failed = html.slice(html.indexOf('<h2>failed jobs</h2>'));
      expect(failed).toContain('<li>old-model s-v1/state offline b=64 seed=0: old &lt;message&gt;</li>');
      expect(failed).toContain(
        '<li>new-model s-v1/state offline b=64 seed=3: in fit: Cannot read properties of undefined (reading ' +
          '&#39;shape&#39;)<details><summary>stack</summary><pre>TypeError: Cannot read properties of undefined ' +
          '(reading &#39;shape&#39;)\n    at countSteps (my-model.ts:8:3)</pre></details></li>',
      );
    },
  );
});

describe('--model <path>', () => {
  it.each([
    [join(root, 'no-such-model.ts'), /--model .*no-such-model\.ts: no such file/],
    [fixture('not-a-model.ts'), /is not a WorldModelModule \(missing or wrong: defaults, supports, create, load\)/],
    [fixture('no-default-export.ts'), /no-default-export\.ts has no default export; export default the plug-in object/],
    [
      fixture('throws-on-import.ts'),
      /importing .*throws-on-import\.ts threw: planted: cannot read weights\.bin at import time/,
    ],
    [
      fixture('refuses-everything.ts'),
      joined(
        /refuses-everything supports none of the chosen scenarios \(bouncing-balls-v1: needs a view /,
        /named "lidar"\); choose a scenario it reads/,
      ),
    ],
    [
      join(root, 'packages/onnx/fixtures/hidden-laws-mlp.onnx'),
      joined(
        /hidden-laws-mlp\.onnx: a \.onnx file is not a module; run it through its scheme: --model /,
        /onnx:.*hidden-laws-mlp\.onnx$/m,
      ),
    ],
    [
      join(root, 'packages/baselines/src/persistence.ts'),
      /its card\.id "persistence" is already the id of the registered model of @worldbench\/baselines/,
    ],
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
    const r = bench([
      ...smallSweep({ model: fixture('wrong-shape.ts'), scenario: 'bouncing-balls', view: 'state', out }),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(1);
    const [line] = JSON.parse(r.stdout).results;
    expect(line.status).toBe('failed');
    expect(line.error).toMatchObject({
      phase: 'forecast',
      message: 'test forecast: forecast mean has shape [8,15,4,4], expected [8,16,4,4] ([B, H, ...viewShape])',
    });
  });

  it(
    'records a forecast whose data is shorter than its shape as failed (never ok with null metrics), and ' +
      'retries it',
    () => {
      const out = join(scratch(), 'short-data');
      const args = smallSweep({ model: fixture('short-data.ts'), scenario: 'bouncing-balls', view: 'state', out });
      const r = bench([...args, '--json']);
      expect(r.code, r.stderr).toBe(1);
      const [line] = JSON.parse(r.stdout).results;
      expect(line).toMatchObject({
        status: 'failed',
        metrics: null,
        error: {
          phase: 'forecast',
          message: 'test forecast: forecast mean holds 10 values, but its shape [8,16,4,4] needs 2048',
        },
      });
      const rerun = bench(args);
      expect(rerun.code).toBe(1);
      expect(rerun.stderr).not.toMatch(/\(cached\)/);
      expect(readLines(join(out, 'results.jsonl')).map((l) => l.status)).toEqual(['failed', 'failed']);
    },
  );
});
