// The support of real actions: the part of an action along directions the training actions never varied
// removed, and with `clip` its coordinates held to the range seen (action-support.ts). Pure arithmetic: fast.
import { createRng } from '@worldbench/core';
import { describe, expect, it } from 'vitest';
import { fitActionSupport, onSupport, type ActionSupport } from '../src/action-support';

/** n actions [n * 2] from a function of the step. */
function actions(n: number, f: (i: number) => [number, number]): Float32Array {
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) out.set(f(i), i * 2);
  return out;
}

function read(support: ActionSupport, a: number[], clip = false) {
  const out = new Float32Array(a.length);
  const outside = onSupport(support, a, a.length / 2, clip, out);
  return { actions: Array.from(out), outside };
}

describe('the support of real actions', () => {
  // hidden-laws' expert: (1, 0) on a quarter of the steps, else (0, 0)
  const expert = actions(400, (i) => (i % 4 === 0 ? [1, 0] : [0, 0]));
  const support = fitActionSupport(expert, 400, 2);

  it('keeps only the axis the training actions varied along, with their std and range', () => {
    expect(support.axes).toHaveLength(1);
    expect(support.flatAxes).toHaveLength(1);
    expect(Math.abs(support.axes[0][0])).toBeCloseTo(1, 6);
    expect(support.std[0]).toBeCloseTo(Math.sqrt(0.25 * 0.75), 6);
    // coordinates of x = 0 and x = 1 from the mean 0.25, in either sign of the axis
    expect([support.low[0], support.high[0]].map(Math.abs).sort()).toEqual([
      expect.closeTo(0.25, 6),
      expect.closeTo(0.75, 6),
    ]);
  });

  it('removes a push along the unseen axis, keeps the rest as given, and with clip holds it to the range seen', () => {
    const r = read(support, [0, 0, 1, 0, 0.5, 0, -0.7, 0.9, 0.3, -0.4]);
    expect(r.actions).toEqual([0, 0, 1, 0, 0.5, 0, expect.closeTo(-0.7, 6), 0, expect.closeTo(0.3, 6), 0]);
    expect(r.outside).toBe(2); // the two with a push along y
    const held = read(support, [-0.7, 0.9, 0.3, -0.4, 0.5, 0], true);
    expect(held.actions).toEqual([expect.closeTo(0, 6), 0, expect.closeTo(0.3, 6), 0, 0.5, 0]);
    expect(held.outside).toBe(2);
  });

  it('finds an axis that is not a coordinate axis (a diagonal expert) and removes the direction across it', () => {
    const rng = createRng('diagonal');
    const diagonal = actions(300, () => {
      const t = rng.uniform(-0.5, 0.5);
      return [t, t];
    });
    const s = fitActionSupport(diagonal, 300, 2);
    expect(s.axes).toHaveLength(1);
    expect(Math.abs(s.axes[0][0])).toBeCloseTo(Math.SQRT1_2, 5);
    // (0.3, -0.1) = (0.1, 0.1) on the diagonal + (0.2, -0.2) across it (the mean lies on the diagonal too)
    const across = read(s, [0.3, -0.1]);
    expect(across.outside).toBe(1);
    expect(across.actions[0]).toBeCloseTo(0.1, 5);
    expect(across.actions[1]).toBeCloseTo(0.1, 5);
  });

  it('leaves actions that vary in every direction exactly as given when nothing is clipped', () => {
    const rng = createRng('broad');
    const n = 500;
    const broad = actions(n, () => [rng.uniform(-1, 1), 0.5 * rng.uniform(-1, 1) + 0.2]);
    const s = fitActionSupport(broad, n, 2);
    expect(s.axes).toHaveLength(2);
    const out = new Float32Array(n * 2);
    expect(onSupport(s, broad, n, false, out)).toBe(0);
    expect(Array.from(out)).toEqual(Array.from(broad));
    // beyond the range seen: left as given, but held with clip
    expect(read(s, [3, 0.2]).actions[0]).toBeCloseTo(3, 6);
    expect(read(s, [3, 0.2], true).outside).toBe(1);
    expect(read(s, [3, 0.2], true).actions[0]).toBeLessThan(1.01);
  });

  it('keeps no axis when every training action is the same, and reads every action as that one', () => {
    const s = fitActionSupport(
      actions(50, () => [0.3, -0.1]),
      50,
      2,
    );
    expect(s.axes).toHaveLength(0);
    const r = read(s, [0.3, -0.1, 1, 1]);
    r.actions.forEach((x, i) => expect(x).toBeCloseTo([0.3, -0.1][i % 2], 6));
    expect(r.outside).toBe(1);
  });
});
