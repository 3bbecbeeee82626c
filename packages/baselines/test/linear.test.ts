import { describe, expect, it } from 'vitest';
import {
  createRng,
  forecastWindows,
  quietRun,
  scoreForecast,
  simulateEpisodes,
  viewStd,
  windowStarts,
  type Scenario,
} from '@worldbench/core';
import { fitRidge, linear, persistence, predictRidge } from '../src/index';

describe('fitRidge', () => {
  it('recovers a known linear map with intercept (primal and dual paths)', () => {
    const rng = createRng(0);
    const W = [
      [2, -1],
      [0.5, 3],
      [-1, 0],
    ]; // [F = 3, D = 2]
    const bias = [0.3, -0.7];
    for (const n of [50, 2]) {
      const x = new Float64Array(n * 3).map(() => rng.normal());
      const y = new Float64Array(n * 2);
      for (let i = 0; i < n; i++)
        for (let d = 0; d < 2; d++) y[i * 2 + d] = bias[d] + W.reduce((s, row, f) => s + row[d] * x[i * 3 + f], 0);
      const fit = fitRidge(x, y, n, 3, 2, 1e-9);
      const probe = [0.4, -1.2, 2];
      const out = predictRidge(fit, probe, new Float64Array(2));
      if (n === 50)
        for (let d = 0; d < 2; d++)
          expect(out[d]).toBeCloseTo(bias[d] + W.reduce((s, row, f) => s + row[d] * probe[f], 0), 5);
      else {
        // fewer points than features: the dual solve interpolates the training points
        const train = predictRidge(fit, x.subarray(0, 3), new Float64Array(2));
        expect(train[0]).toBeCloseTo(y[0], 4);
      }
    }
  });

  it('builds the same fit from mostly-zero rows (the sparse path) as from the same rows shifted to dense ones', () => {
    // ridge on standardised features does not change when a feature is shifted by a constant, so rows that are
    // 85% zeros (the sparse path: frames) and the same rows + 0.5 (the dense path) must predict alike
    const rng = createRng(4);
    const n = 200,
      F = 40,
      D = 3;
    const x = new Float64Array(n * F).map((_, i) =>
      i % F === 7 ? 0 : i % F === 11 ? 0.3 : rng.uniform(0, 1) < 0.15 ? rng.uniform(0, 1) : 0,
    ); // 7: never lit, 11: constant
    const y = new Float64Array(n * D).map((_, i) =>
      rng.uniform(0, 1) < 0.3 ? x[Math.floor(i / D) * F + (i % D)] * 2 - 0.1 * rng.normal() : 0,
    );
    const sparse = fitRidge(x, y, n, F, D, 1e-3);
    const dense = fitRidge(
      x.map((v) => v + 0.5),
      y,
      n,
      F,
      D,
      1e-3,
    );
    const probe = Float64Array.from({ length: F }, (_, f) => (f === 11 ? 0.3 : f % 3 === 0 ? rng.uniform(0, 1) : 0));
    const a = predictRidge(sparse, probe, new Float64Array(D));
    const b = predictRidge(
      dense,
      probe.map((v) => v + 0.5),
      new Float64Array(D),
    );
    for (let d = 0; d < D; d++) expect(a[d]).toBeCloseTo(b[d], 9);
    // features constant in training (never lit, or always the same) get no weight: changing them changes nothing
    const lit = Float64Array.from(probe);
    lit[7] = 1;
    lit[11] = 0.9;
    expect(Array.from(predictRidge(sparse, lit, new Float64Array(D)))).toEqual(Array.from(a));
    // a batch of rows predicts as the rows one by one
    const batch = predictRidge(sparse, Float64Array.from([...probe, ...lit]), new Float64Array(2 * D), 2);
    expect(Array.from(batch.subarray(0, D))).toEqual(Array.from(a));
  });
});

// x' = A x + B a, exactly linear: the linear baseline must forecast it (nearly) perfectly at every horizon.
const linearWorld: Scenario<null, Float32Array> = {
  spec: {
    id: 'rotation-v1',
    summary: 'a damped rotation driven by an action',
    views: { state: { shape: [2], kind: 'real' } },
    action: { shape: [1], kind: 'real' },
    episodeLength: 20,
    historySteps: 2,
    horizon: 8,
    tags: [],
  },
  sampleWorld: () => null,
  reset: (_w, rng) => Float32Array.from([rng.normal(), rng.normal()]),
  step: (_w, s, a) => Float32Array.from([0.95 * s[0] - 0.2 * s[1] + 0.1 * a![0], 0.2 * s[0] + 0.95 * s[1]]),
  render: (_w, s) => ({ state: s }),
  behavior: (_w, _s, rng) => Float32Array.from([rng.normal()]),
  explore: (_w, _s, rng) => Float32Array.from([rng.normal()]),
};

describe('linear', () => {
  it('forecasts a linear system almost exactly at every horizon, where persistence does not', async () => {
    const train = simulateEpisodes(linearWorld, null, {
      count: 10,
      split: 'train',
      policy: 'behavior',
      rng: createRng(1),
    });
    const test = simulateEpisodes(linearWorld, null, {
      count: 16,
      split: 'test',
      policy: 'explore',
      rng: createRng(2),
    });
    const w = forecastWindows(linearWorld.spec, 'state', test, test, windowStarts(16, 20, 2, 8, createRng(3)), 2, 8);
    const scale = viewStd(test, 'state');
    const skillOf = async (module: typeof linear | typeof persistence) => {
      const model = await module.create(linearWorld.spec, 'state', module.defaults as never);
      await model.fit(train, quietRun(0));
      const f = await model.forecast(w.query, quietRun(0));
      return scoreForecast({
        spec: linearWorld.spec.views.state,
        truth: w.truth,
        forecast: f,
        lastObserved: w.lastObserved,
        scale,
      }).skill;
    };
    const lin = await skillOf(linear);
    expect(lin['1']).toBeGreaterThan(0.999);
    expect(lin['8']).toBeGreaterThan(0.99);
    expect((await skillOf(persistence))['8']).toBe(0);
  });
});
