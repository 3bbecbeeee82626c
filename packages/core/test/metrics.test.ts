import { describe, expect, it } from 'vitest';
import {
  learningCurveAuc,
  meanAndStandardError,
  scoreForecast,
  tensor,
  viewStd,
  type Episodes,
  type TensorSpec,
} from '../src/index';

const real: TensorSpec = { shape: [2], kind: 'real' };

describe('scoreForecast', () => {
  // B = 2 windows, H = 2 steps, D = 2 dims
  const truth = tensor([2, 2, 2], Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  const last = tensor([2, 2], Float32Array.from([0, 0, 4, 4]));
  const scale = Float32Array.from([1, 2]);

  it('gives skill 1 for a perfect forecast and 0 for persistence', () => {
    const perfect = scoreForecast({ spec: real, truth, forecast: { mean: truth }, lastObserved: last, scale });
    expect(perfect.skill).toEqual({ '1': 1, '2': 1 });
    expect(perfect.mse).toEqual({ '1': 0, '2': 0 });
    const persist = tensor([2, 2, 2], Float32Array.from([0, 0, 0, 0, 4, 4, 4, 4]));
    expect(scoreForecast({ spec: real, truth, forecast: { mean: persist }, lastObserved: last, scale }).skill).toEqual({
      '1': 0,
      '2': 0,
    });
  });

  it('scales squared error per dimension by the train std and pools over windows', () => {
    const zero = tensor([2, 2, 2]);
    const m = scoreForecast({ spec: real, truth, forecast: { mean: zero }, lastObserved: last, scale });
    // h = 1: errors (1, 2/2) and (5, 6/2) -> (1 + 1 + 25 + 9) / 4 = 9
    expect(m.mse['1']).toBeCloseTo(9, 6);
    // persistence h = 1: (1, 1) and (1, 1) -> 1; skill = 1 - 9 / 1
    expect(m.skill['1']).toBeCloseTo(-8, 6);
  });

  it('leaves masked padding out', () => {
    const spec: TensorSpec = { shape: [2], kind: 'real', mask: 'm' };
    const mask = tensor([2, 2, 1], Float32Array.from([1, 1, 1, 1]));
    const bad = tensor([2, 2, 2], Float32Array.from([1, 99, 3, 99, 5, 99, 7, 99]));
    const halfMask = tensor([2, 2, 2], Float32Array.from([1, 0, 1, 0, 1, 0, 1, 0]));
    const masked = scoreForecast({ spec, truth, mask: halfMask, forecast: { mean: bad }, lastObserved: last, scale });
    expect(masked.mse['1']).toBe(0);
    const unmasked = scoreForecast({
      spec,
      truth,
      mask: tensor([2, 2, 2], new Float32Array(8).fill(1)),
      forecast: { mean: bad },
      lastObserved: last,
      scale,
    });
    expect(unmasked.mse['1']).toBeGreaterThan(100);
    expect(mask.shape).toEqual([2, 2, 1]);
  });

  it('computes psnr from raw pixel error, floored at 1e-10', () => {
    const spec: TensorSpec = { shape: [2], kind: 'image' };
    const img = tensor([1, 1, 2], Float32Array.from([0.5, 0.5]));
    const off = tensor([1, 1, 2], Float32Array.from([0.6, 0.4]));
    const m = scoreForecast({
      spec,
      truth: img,
      forecast: { mean: off },
      lastObserved: tensor([1, 2]),
      scale: Float32Array.from([1, 1]),
    });
    expect(m.psnr['1']).toBeCloseTo(20, 4); // mse 0.01
    expect(
      scoreForecast({
        spec,
        truth: img,
        forecast: { mean: img },
        lastObserved: tensor([1, 2]),
        scale: Float32Array.from([1, 1]),
      }).psnr['1'],
    ).toBeCloseTo(100, 6);
  });

  it('scores categorical views by rounded, clipped classes', () => {
    const spec: TensorSpec = { shape: [2], kind: 'int', vocab: 4 };
    const y = tensor([2, 1, 2], Float32Array.from([1, 3, 2, 0]));
    // 7 clips to 3: first step right; second: 1 != 0
    const pred = tensor([2, 1, 2], Float32Array.from([1.2, 7, 2.4, 1]));
    const lastSeen = tensor([2, 2], Float32Array.from([1, 2, 2, 0]));
    const m = scoreForecast({
      spec,
      truth: y,
      forecast: { mean: pred },
      lastObserved: lastSeen,
      scale: Float32Array.from([1, 1]),
    });
    expect(m.accElement['1']).toBe(0.75);
    expect(m.accStep['1']).toBe(0.5);
    // persistence gets the second window right only: accStep 0.5, so skill = 1 - 0.5 / 0.5 = 0
    expect(m.skill['1']).toBe(0);
  });

  it('gives the Gaussian nll when std is given', () => {
    const y = tensor([1, 1, 2], Float32Array.from([0, 0]));
    const mean = tensor([1, 1, 2], Float32Array.from([1, -1]));
    const std = tensor([1, 1, 2], Float32Array.from([2, 2]));
    const m = scoreForecast({
      spec: real,
      truth: y,
      forecast: { mean, std },
      lastObserved: tensor([1, 2]),
      scale: Float32Array.from([1, 1]),
    });
    expect(m.nll['1']).toBeCloseTo(0.5 * Math.log(2 * Math.PI * 4) + 0.5 * (1 / 4), 6);
  });
});

describe('viewStd', () => {
  it('is the per-dimension std over valid steps, floored at 10% of the mean std', () => {
    const view = tensor([1, 4, 2], Float32Array.from([0, 5, 2, 5, 0, 5, 2, 5])); // dim 0: std 1; dim 1: constant
    const ep: Episodes = { views: { v: view }, actions: null, context: {} };
    const s = viewStd(ep, 'v');
    expect(s[0]).toBeCloseTo(1, 6);
    expect(s[1]).toBeCloseTo(0.1, 6);
  });
});

describe('learningCurveAuc and meanAndStandardError', () => {
  it('integrates clipped skill over log2 budget', () => {
    const grid = [16, 64, 256];
    expect(
      learningCurveAuc(
        grid.map((b) => ({ budget: b, skill: 1 })),
        grid,
      ),
    ).toBe(1);
    expect(
      learningCurveAuc(
        [
          { budget: 16, skill: -3 },
          { budget: 64, skill: 0.5 },
          { budget: 256, skill: 2 },
        ],
        grid,
      ),
    ).toBeCloseTo((0.25 + 0.75) / 2, 9);
    expect(learningCurveAuc([{ budget: 16, skill: 1 }], grid)).toBeNull();
  });

  it('gives mean ± standard error', () => {
    const s = meanAndStandardError([1, 2, 3, null])!;
    expect(s.mean).toBe(2);
    expect(s.se).toBeCloseTo(1 / Math.sqrt(3), 9);
    expect(meanAndStandardError([])).toBeNull();
  });
});
