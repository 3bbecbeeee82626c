import { describe, expect, it } from 'vitest';
import { createRng } from '../src/index';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = createRng(7),
      b = createRng(7),
      c = createRng(8);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
  });

  it('forks named streams without advancing the parent', () => {
    const a = createRng('s'),
      b = createRng('s');
    const child = a.fork('x');
    expect(a.next()).toBe(b.next());
    expect(child.next()).toBe(createRng('s/x').next());
  });

  it('draws uniform and normal values with the right moments', () => {
    const rng = createRng(1);
    const n = 20000;
    const u = Array.from({ length: n }, () => rng.next());
    const z = Array.from({ length: n }, () => rng.normal());
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(u)).toBeCloseTo(0.5, 1);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(mean(z)).toBeCloseTo(0, 1);
    expect(mean(z.map((x) => x * x))).toBeCloseTo(1, 1);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[rng.int(3)]++;
    for (const c of counts) expect(c).toBeGreaterThan(900);
  });
});
