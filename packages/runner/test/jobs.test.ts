import { describe, expect, it } from 'vitest';
import { UserError } from '@worldbench/core';
import { jobKey, modelLabel, parseCli, parseModelChoice, parseSeeds, resolveConfig, splitList } from '../src/index';

describe('CLI parsing', () => {
  it('splits lists on commas outside brackets', () => {
    expect(splitList('a,b[x=1,y=2],c')).toEqual(['a', 'b[x=1,y=2]', 'c']);
  });

  it('reads model overrides with their types, rejecting unknown keys', () => {
    const choice = parseModelChoice('m[steps=3,name=x,on=false]');
    expect(choice).toEqual({ id: 'm', overrides: [['steps', '3'], ['name', 'x'], ['on', 'false']] });
    expect(resolveConfig('m', { steps: 1, name: 'a', on: true, rate: 0.1 }, choice.overrides)).toEqual({ steps: 3, name: 'x', on: false, rate: 0.1 });
    expect(() => resolveConfig('m', { steps: 1 }, [['stpes', '3']])).toThrow(/no config key "stpes"; valid: steps/);
    expect(modelLabel(parseModelChoice('m[b=2,a=1]'))).toBe('m[a=1,b=2]');
  });

  it('reads seeds as a count, a range or a list', () => {
    expect(parseSeeds('3')).toEqual([0, 1, 2]);
    expect(parseSeeds('1000-1004')).toEqual([1000, 1001, 1002, 1003, 1004]);
    expect(parseSeeds('5,7')).toEqual([5, 7]);
    for (const bad of ['-1', '0', 'x', '4-2', '1,x']) expect(() => parseSeeds(bad), bad).toThrow(UserError);
  });

  it('defaults to the quick grid, and --full to the full one', () => {
    expect(parseCli([]).plan).toMatchObject({ budgets: [64, 256, 1024], seeds: [0], protocols: ['offline'] });
    expect(parseCli(['--full']).plan).toMatchObject({ budgets: [16, 64, 256, 1024, 4096, 16384], seeds: [0, 1, 2, 3, 4] });
  });
});

describe('jobKey', () => {
  const job = { model: 'linear', modelId: 'linear', config: { ridge: 1 }, scenario: 's-v1', view: 'state', protocol: 'offline' as const, budget: 64, seed: 0, evaluation: { testEpisodes: 64, oodEpisodes: 64, horizon: 16 } };
  it('changes with the job and with the code fingerprint, not with key order', () => {
    const k = jobKey(job, 'f1');
    expect(jobKey({ ...job, config: { ridge: 1 } }, 'f1')).toBe(k);
    expect(jobKey({ ...job, seed: 1 }, 'f1')).not.toBe(k);
    expect(jobKey(job, 'f2')).not.toBe(k);
  });
});
