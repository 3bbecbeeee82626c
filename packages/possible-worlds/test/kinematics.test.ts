// Reading a position and its rate off noisy data (kinematics.ts), on transitions written here with a known law.
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '@worldbench/core';
import { findKinematics, PAIR_R2 } from '../src/kinematics';
import type { TransitionData } from '../src/transitions';

const DT = 0.1;
const NOISE = 0.01;

/**
 * Episodes of a 2-component law s' = step(s), each from a small random start, observed with Gaussian noise: the
 * transitions as the search reads them.
 */
function noisyTransitions(rng: Rng, step: (s: number[]) => number[], episodes: number, length: number): TransitionData {
  const cur: number[] = [],
    next: number[] = [],
    episode: number[] = [];
  for (let e = 0; e < episodes; e++) {
    let s = [rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1)];
    let seen = s.map((x) => x + NOISE * rng.normal());
    for (let t = 0; t < length; t++) {
      const s2 = step(s);
      const seen2 = s2.map((x) => x + NOISE * rng.normal());
      cur.push(...seen);
      next.push(...seen2);
      episode.push(e);
      [s, seen] = [s2, seen2];
    }
  }
  const n = episode.length;
  return {
    D: 2,
    A: 0,
    n,
    prev: Float64Array.from(cur),
    cur: Float64Array.from(cur),
    action: new Float64Array(0),
    next: Float64Array.from(next),
    valid: new Uint8Array(2 * n).fill(1),
    episode: Int32Array.from(episode),
  };
}

/** r^2 of q' - q on the step's mean p through the origin (the first test a pair meets). */
function pairR2(data: TransitionData): number {
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let i = 0; i < data.n; i++) {
    const y = data.next[2 * i] - data.cur[2 * i];
    const x = (data.next[2 * i + 1] + data.cur[2 * i + 1]) / 2;
    [sxy, sxx, syy] = [sxy + x * y, sxx + x * x, syy + y * y];
  }
  return (sxy * sxy) / (sxx * syy);
}

/** A spring x'' = -k x, integrated by velocity Verlet at DT: the position moves at exactly its velocity. */
const spring =
  (k: number) =>
  ([x, v]: number[]): number[] => {
    const half = v - 0.5 * DT * k * x;
    const x2 = x + DT * half;
    return [x2, half - 0.5 * DT * k * x2];
  };

describe('findKinematics on noisy small motions', () => {
  it('reads a position and its velocity where the noise leaves r^2 below PAIR_R2, and the step duration', () => {
    for (const seed of [0, 1, 2]) {
      const data = noisyTransitions(createRng(seed), spring(2), 16, 64);
      expect(pairR2(data)).toBeLessThan(PAIR_R2); // the regime where r^2 alone reads no pair
      const k = findKinematics(data, [2]);
      expect(k.axes).toEqual([[{ position: 0, rate: 1, scale: 1 }]]);
      expect(Math.abs(k.dt / DT - 1)).toBeLessThan(0.05);
      expect(k.dynamic).toEqual([1]);
    }
  });

  it('pairs nothing in a first-order law whose change of x only correlates with y', () => {
    // dx/dt = -3 x + y, dy/dt = -y: x's change follows y, but x itself pulls too
    const firstOrder = ([x, y]: number[]): number[] => [x + DT * (-3 * x + y), y - DT * y];
    for (const seed of [0, 1, 2]) {
      const k = findKinematics(noisyTransitions(createRng(seed), firstOrder, 16, 64), [2]);
      expect(k.axes).toEqual([[]]);
      expect(k.dt).toBe(1);
    }
  });
});
