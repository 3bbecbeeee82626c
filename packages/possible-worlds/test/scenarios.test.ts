// possible-worlds on its home scenarios, dev seeds, small budgets, stated margins.
import { describe, expect, it } from 'vitest';
import { checkWorldModel, createRng } from '@worldbench/core';
import lifeLike from '@worldbench/life-like';
import possibleWorlds from '../src/index';
import { scoreJob } from './harness';

describe('life-like-v1, budget 16 (scenario library: exact factored search)', () => {
  it.each([0, 1])('seed %i: identifies the rule and forecasts every step exactly up to h = 32', async (seed) => {
    const { metrics, explain } = await scoreJob(possibleWorlds, lifeLike, { view: 'state', budget: 16, seed });
    const truth = lifeLike.hypotheses!.truth(lifeLike.sampleWorld(createRng(`${seed}/world`)));
    expect(explain.ranked[0].id).toBe(truth.id);
    expect(explain.ranked[0].undetermined).toEqual([]);
    for (let h = 1; h <= 32; h++) expect(metrics.accStep[String(h)]).toBe(1);
  });

  it('passes checkWorldModel, reading the hypotheses', async () => {
    expect(await checkWorldModel(possibleWorlds, lifeLike, { budget: 16 })).toEqual(['state']);
  });
});
