import { describe, expect, it } from 'vitest';
import { defineConfig, UserError, z } from '@worldbench/core';
import { availableParallelism } from 'node:os';
import {
  isModelPath,
  jobKey,
  modelLabel,
  parseCli,
  parseModelChoice,
  parseSeeds,
  parseShard,
  poolSize,
  resolveConfig,
  resultsFileName,
  shardJobs,
  splitList,
  workerDeathReason,
} from '../src/index';

describe('CLI parsing', () => {
  it('splits lists on commas outside brackets', () => {
    expect(splitList('a,b[x=1,y=2],c')).toEqual(['a', 'b[x=1,y=2]', 'c']);
  });

  it('reads model overrides with their types, rejecting unknown keys', () => {
    const choice = parseModelChoice('m[steps=3,name=x,on=false]');
    expect(choice).toEqual({
      id: 'm',
      overrides: [
        ['steps', '3'],
        ['name', 'x'],
        ['on', 'false'],
      ],
    });
    // a module that states only defaults: each field takes the type of its default
    expect(resolveConfig('m', { defaults: { steps: 1, name: 'a', on: true, rate: 0.1 } }, choice.overrides)).toEqual({
      steps: 3,
      name: 'x',
      on: false,
      rate: 0.1,
    });
    expect(() => resolveConfig('m', { defaults: { steps: 1 } }, [['stpes', '3']])).toThrow(
      /no config key "stpes"; valid: steps/,
    );
    expect(() => resolveConfig('m', { defaults: { steps: 1 } }, [['steps', 'many']])).toThrow(
      'm[steps=many]: steps is a number',
    );
    // only the config's own keys: not what every object inherits
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty'])
      expect(() => resolveConfig('m', { defaults: { steps: 1 } }, [[key, '{}']]), key).toThrow(
        `model m has no config key "${key}"; valid: steps`,
      );
    // a retired design's key says what became of it; a key the config still holds is never taken for a retired one
    expect(() =>
      resolveConfig('m', { defaults: { steps: 1 }, retiredKeys: { mode: 'the new mode is the design' } }, [
        ['mode', 'old'],
      ]),
    ).toThrow('model m: config key "mode" was retired (the new mode is the design); drop it from --model');
    expect(resolveConfig('m', { defaults: { steps: 1 }, retiredKeys: { steps: 'never' } }, [['steps', '2']])).toEqual({
      steps: 2,
    });
    // a module with a config table: coerced by the table, validated whole (range and cross-field rules), exit 2
    const config = defineConfig(
      't',
      { k: z.number().int().min(1).default(8).describe('k'), mode: z.enum(['a', 'b']).default('a').describe('mode') },
      { check: (c) => (c.k === 3 && c.mode === 'b' ? ['k 3 cannot go with mode b'] : []) },
    );
    const t = { defaults: config.defaults, config };
    expect(resolveConfig('t', t, [['k', '4']])).toEqual({ k: 4, mode: 'a' });
    expect(() => resolveConfig('t', t, [['k', '0']])).toThrow(
      new UserError('t[k=0]: t config: k is an integer >= 1, got 0'),
    );
    expect(() => resolveConfig('t', t, [['k', '2.5']])).toThrow('t config: k is an integer >= 1, got 2.5');
    expect(() => resolveConfig('t', t, [['mode', 'c']])).toThrow(`t[mode=c]: t config: mode is 'a' or 'b', got "c"`);
    expect(() =>
      resolveConfig('t', t, [
        ['mode', 'b'],
        ['k', '3'],
      ]),
    ).toThrow('t[k=3,mode=b]: t config: k 3 cannot go with mode b');
    expect(modelLabel(parseModelChoice('m[b=2,a=1]'))).toBe('m[a=1,b=2]');
  });

  it('reads seeds as a count, a range or a list', () => {
    expect(parseSeeds('3')).toEqual([0, 1, 2]);
    expect(parseSeeds('1000-1004')).toEqual([1000, 1001, 1002, 1003, 1004]);
    expect(parseSeeds('5,7')).toEqual([5, 7]);
    for (const bad of ['-1', '0', 'x', '4-2', '1,x']) expect(() => parseSeeds(bad), bad).toThrow(UserError);
  });

  it('bounds seeds to 0..1,000,000 and 10,000 per run, judged before any list is made', () => {
    expect(parseSeeds('10000')).toHaveLength(10_000);
    expect(parseSeeds('990000-999999')).toHaveLength(10_000);
    expect(parseSeeds('1000000-1000000')).toEqual([1_000_000]);
    const bounds = 'seeds are 0..1,000,000, at most 10,000 in one run';
    expect(() => parseSeeds('10001')).toThrow(
      `--seeds 10001 asks for 10,001 seeds; ${bounds}: split the sweep into several runs`,
    );
    expect(() => parseSeeds('0-9999999')).toThrow(`--seeds 0-9999999 asks for 10,000,000 seeds; ${bounds}`);
    expect(() => parseSeeds('99999999999')).toThrow(`--seeds 99999999999 asks for 99,999,999,999 seeds; ${bounds}`);
    expect(() => parseSeeds('99999999999999999999999')).toThrow(`asks for more than 10^15 seeds`);
    expect(() => parseSeeds('1000001-1000002')).toThrow(
      `--seeds 1000001-1000002 goes beyond seed 1,000,000; ${bounds}`,
    );
    expect(() => parseSeeds('5,2000000')).toThrow(`--seeds 5,2000000 goes beyond seed 1,000,000`);
  });

  it('bounds budgets (1,048,576) and evaluation episodes (10,000)', () => {
    expect(parseCli(['--budgets', '1048576']).plan.budgets).toEqual([1_048_576]);
    expect(() => parseCli(['--budgets', '64,1048577'])).toThrow(
      '--budgets takes positive integers up to 1,048,576, got "1048577"',
    );
    expect(() => parseCli(['--budgets', '1000000000'])).toThrow(
      '--budgets takes positive integers up to 1,048,576, got "1000000000"',
    );
    expect(() => parseCli(['--test-episodes', '10001'])).toThrow(
      '--test-episodes takes positive integers up to 10,000, got "10001"',
    );
    expect(() => parseCli(['--ood-episodes', '1e9'])).toThrow('--ood-episodes takes positive integers up to 10,000');
  });

  it('refuses a single-valued flag given twice and an empty --out; list flags take several', () => {
    for (const flag of ['--out', '--horizon', '--workers', '--job-timeout', '--shard', '--budgets', '--seeds'])
      expect(() => parseCli([flag, '1/2', flag, '2']), flag).toThrow(
        `${flag} is given 2 times ("1/2", "2"); give it once (only --model, --scenario, --view, --protocol take ` +
          `several)`,
      );
    expect(() => parseCli(['--out=a', '--out', 'b'])).toThrow('--out is given 2 times ("a", "b")');
    expect(() => parseCli(['report', 'a', '--out', 'x', '--out', 'y'])).toThrow('--out is given 2 times');
    expect(
      parseCli([
        '--model',
        'a',
        '--model',
        'b,c',
        '--scenario',
        'x',
        '--scenario',
        'y',
        '--view',
        'v',
        '--view',
        'w',
        '--protocol',
        'offline',
        '--protocol',
        'live',
      ]).plan,
    ).toMatchObject({
      models: ['a', 'b', 'c'],
      scenarios: ['x', 'y'],
      views: ['v', 'w'],
      protocols: ['offline', 'live'],
    });
    for (const empty of ['', '  '])
      expect(() => parseCli(['--out', empty])).toThrow('--out is empty; give the folder results go to');
    expect(() => parseCli(['merge', 'a', '--out='])).toThrow('--out is empty');
  });

  it('defaults to the quick grid, and --full to the full one', () => {
    expect(parseCli([]).plan).toMatchObject({ budgets: [64, 256, 1024], seeds: [0], protocols: ['offline'] });
    expect(parseCli(['--full']).plan).toMatchObject({
      budgets: [16, 64, 256, 1024, 4096, 16384],
      seeds: [0, 1, 2, 3, 4],
    });
  });
});

describe('jobKey', () => {
  const job = {
    model: 'linear',
    modelId: 'linear',
    config: { ridge: 1 },
    scenario: 's-v1',
    view: 'state',
    protocol: 'offline' as const,
    budget: 64,
    seed: 0,
    evaluation: { testEpisodes: 64, oodEpisodes: 64, horizon: 16 },
  };
  it('changes with the job and with the code fingerprint, not with key order', () => {
    const k = jobKey(job, 'f1');
    expect(jobKey({ ...job, config: { ridge: 1 } }, 'f1')).toBe(k);
    expect(jobKey({ ...job, seed: 1 }, 'f1')).not.toBe(k);
    expect(jobKey(job, 'f2')).not.toBe(k);
  });
});

describe('scale flags', () => {
  it('defaults to one worker per core, an hour of job timeout and no shard', () => {
    expect(parseCli([])).toMatchObject({ workers: availableParallelism(), jobTimeoutSeconds: 3600, shard: null });
    expect(parseCli(['--workers', '0', '--job-timeout', '2.5', '--shard', '1/4'])).toMatchObject({
      workers: 0,
      jobTimeoutSeconds: 2.5,
      shard: { index: 1, count: 4 },
    });
    // a value starting with a dash: the message keeps node's hint on how to pass it
    expect(() => parseCli(['--workers', '-1'])).toThrow(/'--workers' argument is ambiguous\. .*use '--workers=-XYZ'/);
    for (const bad of [
      ['--workers', 'x'],
      ['--workers', '1.5'],
      ['--job-timeout', '0'],
      ['--job-timeout', 'soon'],
      ['--job-timeout', '3000000'],
    ])
      expect(() => parseCli(bad), bad.join(' ')).toThrow(UserError);
  });

  it('caps the worker processes at the jobs planned, and warns above the number of cores', () => {
    expect(poolSize(2, 18, 2)).toEqual({ workers: 2, warning: null });
    expect(poolSize(1_000_000, 3, 2)).toEqual({
      workers: 3,
      warning:
        'warning: --workers 1000000 starts 3 worker processes on 2 core(s): they will share the cores, so each job ' +
        'runs slower and its fit seconds grow',
    });
    // capped to the jobs: no more processes than cores
    expect(poolSize(64, 2, 2)).toEqual({ workers: 2, warning: null });
    expect(poolSize(0, 10, 2)).toEqual({ workers: 0, warning: null }); // in this process
  });

  it('reads merge with its folders and --out only', () => {
    expect(parseCli(['merge', 'a', 'b', '--out', 'c'])).toMatchObject({
      command: 'merge',
      mergeDirs: ['a', 'b'],
      out: 'c',
    });
    expect(() => parseCli(['merge', 'a'])).toThrow(/merge needs --out DIR/);
    expect(() => parseCli(['merge', '--out', 'c'])).toThrow(/merge needs the folders of the shards/);
    expect(() => parseCli(['merge', 'a', '--out', 'c', '--model', 'linear'])).toThrow(
      /merge takes shard folders, --out, --json and --take-lock, not --model/,
    );
  });

  it('partitions the sorted plan round robin: every job in exactly one shard', () => {
    const jobs = Array.from({ length: 10 }, (_, i) => i);
    const shards = [0, 1, 2].map((index) => shardJobs(jobs, { index, count: 3 }));
    expect(shards).toEqual([
      [0, 3, 6, 9],
      [1, 4, 7],
      [2, 5, 8],
    ]);
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['3/3', '0/0', '1', '-1/2', 'a/b', '1/2/3'])
      expect(() => parseShard(bad), bad).toThrow(UserError);
    expect(resultsFileName({ index: 2, count: 3 })).toBe('results.shard-2-of-3.jsonl');
    expect(resultsFileName({ index: 0, count: 1 })).toBe('results.jsonl');
    expect(resultsFileName(null)).toBe('results.jsonl');
  });

  it('tells module paths from registered ids', () => {
    for (const p of ['./m.ts', '../x/src/index.ts', '/abs/m.mts', 'dir/m.js']) expect(isModelPath(p), p).toBe(true);
    for (const id of ['linear', 'possible-worlds', 'onnx:./model.onnx']) expect(isModelPath(id), id).toBe(false);
  });

  it("says why a worker died: the timeout's signal, a signal, an exit code with its last words", () => {
    expect(workerDeathReason({ code: null, signal: 'SIGKILL', timedOutAfter: 60, stderrTail: '' })).toBe(
      'timed out after 60 s (--job-timeout): the worker process was killed with SIGKILL',
    );
    expect(workerDeathReason({ code: null, signal: 'SIGKILL', timedOutAfter: null, stderrTail: '' })).toMatch(
      /killed by SIGKILL .*OOM killer/,
    );
    const v8OutOfMemory = [
      '<--- Last few GCs --->',
      '[12:0x6f0]  1000 ms: Mark-Compact 30.1 (33.5) -> 29.9 (34.0) MB',
      '',
      'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      '----- Native stack trace -----',
      '',
      ' 1: 0xb8d0a3 node::OOMErrorHandler [/usr/bin/node]',
      ' 2: 0xf06e1b v8::Utils::ReportOOMFailure [/usr/bin/node]',
    ].join('\n');
    expect(workerDeathReason({ code: null, signal: 'SIGABRT', timedOutAfter: null, stderrTail: v8OutOfMemory })).toBe(
      'the worker process was killed by SIGABRT before reporting a result; its stderr said: FATAL ERROR: Reached ' +
        'heap limit Allocation failed - JavaScript heap out of memory',
    );
    const uncaught = [
      'file:///m.ts:3',
      "  setTimeout(() => { throw new Error('late'); });",
      '                      ^',
      '',
      'Error: late',
      '    at Timeout._onTimeout (file:///m.ts:3:28)',
      '',
      'Node.js v20.20.2',
    ].join('\n');
    expect(workerDeathReason({ code: 1, signal: null, timedOutAfter: null, stderrTail: uncaught })).toBe(
      'the worker process exited with code 1 before reporting a result; its stderr said: Error: late',
    );
    expect(workerDeathReason({ code: 3, signal: null, timedOutAfter: null, stderrTail: 'a\nb\nc\nd\n' })).toBe(
      'the worker process exited with code 3 before reporting a result; its stderr said: b | c | d',
    );
  });
});
