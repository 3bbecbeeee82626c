import { describe, expect, it } from 'vitest';
import {
  addObservationNoise,
  block,
  checkScenario,
  createRng,
  drawDisc,
  forecastWindows,
  simulateEpisodes,
  trainingEpisodes,
  transitionArrays,
  transitionCount,
  windowStarts,
} from '../src/index';
import { counter, type CounterState } from './fixtures/counter';

describe('simulateEpisodes and trainingEpisodes', () => {
  const world = counter.sampleWorld(createRng(0));

  it('hands fit exactly the budget, the last episode cut and NaN-filled past the cut', () => {
    const ep = trainingEpisodes(counter, world, 25, 'behavior', createRng(1)); // T = 10: 10 + 10 + 5
    expect(ep.views.state.shape).toEqual([3, 11, 2]);
    expect(transitionCount(ep)).toBe(25);
    expect(Array.from(ep.lengths!)).toEqual([10, 10, 5]);
    expect(Number.isNaN(block(ep.views.state, 2, 6)[0])).toBe(true);
    expect(Number.isNaN(block(ep.views.state, 2, 5)[0])).toBe(false);
    const { x, y, a, n } = transitionArrays(ep, 'state');
    expect(n).toBe(25);
    expect([...x, ...y, ...a!].some(Number.isNaN)).toBe(false);
    for (let i = 0; i < n; i++) expect(y[i * 2] - x[i * 2]).toBeCloseTo(0.5 + world.offset, 5);
  });

  it('makes a small budget a prefix of a larger one', () => {
    const small = simulateEpisodes(counter, world, { count: 2, split: 'train', policy: 'explore', rng: createRng(3) });
    const large = simulateEpisodes(counter, world, { count: 5, split: 'train', policy: 'explore', rng: createRng(3) });
    expect(Array.from(large.views.state.data.subarray(0, small.views.state.data.length))).toEqual(
      Array.from(small.views.state.data),
    );
  });

  it('adds observation noise of the stated std, not to padding', () => {
    const clean = simulateEpisodes(counter, world, {
      count: 200,
      split: 'train',
      policy: 'explore',
      rng: createRng(4),
    });
    const noisy = addObservationNoise(clean, counter.spec.observationNoise, { state: 'mask' }, createRng(5));
    let sq = 0,
      n = 0;
    for (let i = 0; i < clean.views.state.data.length; i += 2) {
      sq += (noisy.views.state.data[i] - clean.views.state.data[i]) ** 2;
      n++;
      expect(noisy.views.state.data[i + 1]).toBe(0); // padding slot untouched
    }
    expect(Math.sqrt(sq / n)).toBeCloseTo(0.1, 2);
    expect(noisy.views.mask).toBe(clean.views.mask);
  });

  it('cuts forecast windows: K observed steps, K-1 past actions, H future actions and targets', () => {
    const clean = simulateEpisodes(counter, world, { count: 4, split: 'test', policy: 'explore', rng: createRng(6) });
    const starts = windowStarts(4, 10, 2, 3, createRng(7));
    const w = forecastWindows(counter.spec, 'state', clean, clean, starts, 2, 3);
    expect(w.query.history.views.state.shape).toEqual([4, 2, 2]);
    expect(w.query.history.actions!.shape).toEqual([4, 1, 1]);
    expect(w.query.actions!.shape).toEqual([4, 3, 1]);
    expect(w.truth.shape).toEqual([4, 3, 2]);
    for (let e = 0; e < 4; e++) {
      const s = starts[e];
      expect(block(w.lastObserved, e)[0]).toBe(block(clean.views.state, e, s + 1)[0]);
      expect(block(w.truth, e, 0)[0]).toBe(block(clean.views.state, e, s + 2)[0]);
      expect(block(w.query.actions!, e, 0)[0]).toBe(block(clean.actions!, e, s + 1)[0]);
    }
  });

  it('passes its own conformance suite', () => {
    expect(() => checkScenario(counter)).not.toThrow();
  });

  it('reports a scenario that breaks the contract', () => {
    const broken = {
      ...counter,
      render: () => ({ state: Float32Array.from([NaN, 0]), mask: Float32Array.from([1, 0]) }),
    };
    expect(() => checkScenario(broken)).toThrow(/state\[0\] is NaN/);
  });

  it('reports a scenario whose episodes ignore the seed, and one whose step changes its input state', () => {
    const fixed = { ...counter, reset: () => ({ value: 0.5, slots: 1 }), explore: () => Float32Array.from([0.25]) };
    expect(() => checkScenario(fixed)).toThrow(/two different seeds gave the same episodes/);
    const mutating = {
      ...counter,
      step: (w: { offset: number }, s: CounterState, a: Float32Array | null) => {
        s.value += (a ? a[0] : 0) + w.offset;
        return { ...s };
      },
    };
    expect(() => checkScenario(mutating)).toThrow(/step changed its input state/);
    expect(() => checkScenario({ ...counter, step: (_w, s) => s })).toThrow(/step returned its input state/);
  });
});

describe('drawDisc', () => {
  it('lights a disc of area pi r^2, clips at the frame edge, and overlapping discs take the max', () => {
    const frame = new Float32Array(32 * 32);
    drawDisc(frame, 32, 32, 16.3, 15.8, 4);
    const mass = frame.reduce((s, x) => s + x, 0);
    expect(Math.abs(mass - Math.PI * 16) / (Math.PI * 16)).toBeLessThan(0.02);
    expect(frame[15 * 32 + 16]).toBe(1); // the centre pixel is lit fully
    expect(Math.max(...frame)).toBeLessThanOrEqual(1);
    const again = frame.slice();
    drawDisc(again, 32, 32, 16.3, 15.8, 2); // a smaller disc inside changes nothing
    expect(Array.from(again)).toEqual(Array.from(frame));
    const edge = new Float32Array(32 * 32);
    drawDisc(edge, 32, 32, 0, 16, 4); // half of it off the left edge
    expect(Math.abs(edge.reduce((s, x) => s + x, 0) / mass - 0.5)).toBeLessThan(0.05);
    const outside = new Float32Array(32 * 32);
    drawDisc(outside, 32, 32, -10, 16, 4);
    expect(outside.every((x) => x === 0)).toBe(true);
  });
});
