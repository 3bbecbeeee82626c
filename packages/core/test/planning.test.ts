// searchPlans: the cross-entropy method over action sequences finds a known best plan (real and categorical
// actions), refining beats random shooting, a warm plan is scored first, draws are seeded; shiftPlans.
import { describe, expect, it } from 'vitest';
import { createRng, searchPlans, shiftPlans, type PlanScorer, type TensorSpec } from '../src/index';

const real: TensorSpec = { shape: [2], kind: 'real', range: [-1, 1] };
const categorical: TensorSpec = { shape: [1], kind: 'int', vocab: 5 };

/** Minus the squared distance of each plan [P, C, H, A] to problem p's target [H, A]. */
function towards(targets: Float32Array[]): PlanScorer {
  return async (plans, P, C) => {
    const step = targets[0].length;
    return Float64Array.from({ length: P * C }, (_, i) => {
      const target = targets[Math.floor(i / C)];
      let s = 0;
      for (let j = 0; j < step; j++) s -= (plans[i * step + j] - target[j]) ** 2;
      return s;
    });
  };
}

describe('searchPlans', () => {
  const targets = [
    Float32Array.from([0.9, -0.5, 0.3, 0.3, -0.8, 0.1]),
    Float32Array.from([-0.2, 0.7, 0, -1, 0.5, 0.5]),
  ];

  it('refines real plans towards the best (two problems at once), closer than random shooting', async () => {
    const search = { horizon: 3, candidates: 64, iterations: 6 };
    const refined = await searchPlans(real, 2, search, towards(targets), createRng('plans'));
    const shot = await searchPlans(real, 2, { ...search, iterations: 1 }, towards(targets), createRng('plans'));
    for (let p = 0; p < 2; p++) {
      // squared distance to the target over 6 values: within 0.02 after refinement; random shooting stays far above
      expect(-refined.scores[p]).toBeLessThan(0.02);
      expect(-shot.scores[p]).toBeGreaterThan(5 * -refined.scores[p]);
      for (const x of refined.plans.subarray(p * 6, (p + 1) * 6)) expect(Math.abs(x)).toBeLessThanOrEqual(1);
    }
    const again = await searchPlans(real, 2, search, towards(targets), createRng('plans'));
    expect(Array.from(again.plans)).toEqual(Array.from(refined.plans));
  });

  it('finds the best categorical sequence, values inside the vocab', async () => {
    const target = Float32Array.from([4, 0, 2, 3]);
    const matches: PlanScorer = async (plans, P, C) =>
      Float64Array.from({ length: P * C }, (_, i) =>
        target.reduce((s, v, h) => s + (plans[i * 4 + h] === v ? 1 : 0), 0),
      );
    const { plans, scores } = await searchPlans(
      categorical,
      1,
      { horizon: 4, candidates: 32, iterations: 4 },
      matches,
      createRng('ids'),
    );
    expect(scores[0]).toBe(4);
    expect(Array.from(plans)).toEqual([4, 0, 2, 3]);
  });

  it('scores the warm plan first: a warm plan that is the best comes back as it is', async () => {
    const warm = Float32Array.from([...targets[0], ...targets[1]]);
    const { plans, scores } = await searchPlans(
      real,
      2,
      { horizon: 3, candidates: 8, iterations: 1 },
      towards(targets),
      createRng('warm'),
      warm,
    );
    expect(Array.from(plans)).toEqual(Array.from(warm));
    expect(Array.from(scores, Math.abs)).toEqual([0, 0]);
  });

  it('shiftPlans moves each plan one step on and repeats its last step', () => {
    // 2 problems, 3 steps, 1 element
    expect(Array.from(shiftPlans(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3))).toEqual([2, 3, 3, 5, 6, 6]);
  });
});
