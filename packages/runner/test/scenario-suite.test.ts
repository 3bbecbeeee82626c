// Every registered scenario runs through the bench: linear and persistence at budget 64, every job ok.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bench, scratch } from './helpers';

describe('the scenario suite through pnpm bench', () => {
  it('lists all six scenarios and runs linear,persistence on each at budget 64 with every job ok', {
    tags: ['slow'],
  }, () => {
    const list = bench(['list']);
    for (const id of [
      'bouncing-balls-v1',
      'sprite-world-v1',
      'code-trace-v1',
      'hidden-laws-v1',
      'life-like-v1',
      'resonance-v1',
    ])
      expect(list.stdout).toContain(id);
    const r = bench([
      '--model',
      'linear,persistence',
      '--budgets',
      '64',
      '--json',
      '--test-episodes',
      '16',
      '--ood-episodes',
      '16',
      '--out',
      join(scratch(), 'suite'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { results } = JSON.parse(r.stdout);
    const scenarios = new Set(results.map((x: { scenario: string }) => x.scenario));
    expect(scenarios.size).toBeGreaterThanOrEqual(6);
    for (const x of results) expect(x.status, `${x.model} ${x.scenario}/${x.view}: ${x.error}`).toBe('ok');
  });
});
