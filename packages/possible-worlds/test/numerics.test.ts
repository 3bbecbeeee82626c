// Gradient-free numerics against closed forms.
import { describe, expect, it } from 'vitest';
import { createRng } from '@worldbench/core';
import { bayesianRegression, levenbergMarquardt, logGamma, posterior, smoothHistory } from '../src/index';
import { logDet } from '../src/lm';

describe('logGamma', () => {
  it('matches known values', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(100.5)).toBeCloseTo(361.4355404677776, 8); // Python's math.lgamma(100.5)
  });
});

describe('logDet', () => {
  it(
    'is the log determinant of a positive definite matrix, and +Infinity (a Laplace evidence of -Infinity) ' +
      'otherwise',
    () => {
      expect(logDet(Float64Array.from([4, 2, 2, 3]), 2)).toBeCloseTo(Math.log(8), 12);
      expect(logDet(Float64Array.from([1, 2, 2, 1]), 2)).toBe(Infinity); // indefinite
      // a law that leaves the reals near its fit: a NaN curvature used to throw "Matrix is not symmetric" (NaN !== NaN)
      expect(logDet(Float64Array.from([1, NaN, NaN, 1]), 2)).toBe(Infinity);
      expect(logDet(Float64Array.from([Infinity, 0, 0, 1]), 2)).toBe(Infinity);
    },
  );
});

describe('bayesianRegression', () => {
  // y = X w + noise with n = 3, p = 1: the marginal likelihood under w ~ N(0, s2/alpha), s2 ~ IG(a0, b0)
  // computed by numerical integration over s2 of the Gaussian N(y; 0, s2 (I + X X^T / alpha)).
  it('gives the exact marginal likelihood (checked by quadrature) and the posterior mean', () => {
    const X = [1, 2, 3],
      y = [1.1, 1.9, 3.2];
    const prior = { alpha: 0.5, a0: 2, b0: 0.3 };
    const gram = Float64Array.of(X.reduce((s, x) => s + x * x, 0));
    const xty = Float64Array.of(X.reduce((s, x, i) => s + x * y[i], 0));
    const yty = y.reduce((s, v) => s + v * v, 0);
    const fit = bayesianRegression(gram, xty, yty, 3, 1, prior);
    expect(fit.coef[0]).toBeCloseTo(xty[0] / (gram[0] + prior.alpha), 12);
    // C = I + X X^T / alpha; det C = 1 + |X|^2 / alpha; C^-1 = I - X X^T / (alpha + |X|^2)
    const detC = 1 + gram[0] / prior.alpha;
    const quad = yty - xty[0] ** 2 / (prior.alpha + gram[0]);
    let integral = 0;
    const ds = 1e-4;
    for (let s2 = ds / 2; s2 < 60; s2 += ds) {
      const like = Math.exp(-1.5 * Math.log(2 * Math.PI * s2) - 0.5 * Math.log(detC) - quad / (2 * s2));
      const igPdf = Math.exp(
        prior.a0 * Math.log(prior.b0) - logGamma(prior.a0) - (prior.a0 + 1) * Math.log(s2) - prior.b0 / s2,
      );
      integral += like * igPdf * ds;
    }
    expect(fit.logMarginal).toBeCloseTo(Math.log(integral), 4);
  });

  it('prefers the true sparse model by evidence', () => {
    const rng = createRng(3);
    const n = 200;
    const x1 = Array.from({ length: n }, () => rng.normal()),
      x2 = Array.from({ length: n }, () => rng.normal());
    const y = x1.map((v) => 2 * v + 0.1 * rng.normal());
    const g = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
    const yty = g(y, y);
    const one = bayesianRegression(Float64Array.of(g(x1, x1)), Float64Array.of(g(x1, y)), yty, n, 1);
    const two = bayesianRegression(
      Float64Array.of(g(x1, x1), g(x1, x2), g(x2, x1), g(x2, x2)),
      Float64Array.of(g(x1, y), g(x2, y)),
      yty,
      n,
      2,
    );
    expect(one.logMarginal).toBeGreaterThan(two.logMarginal);
    expect(one.coef[0]).toBeCloseTo(2, 1);
    expect(posterior([one.logMarginal, two.logMarginal])[0]).toBeGreaterThan(0.5);
  });
});

describe('posterior', () => {
  it('gives a world whose evidence is not a number no weight, without spoiling the others', () => {
    // bouncing-balls live, seed 1001: a diverged rival's window evidence was NaN (-Infinity + NaN), the maximum
    // over the worlds was NaN, every weight NaN, and the forecast NaN at step 221
    const w = posterior([Math.log(3), NaN, -Infinity, 0]);
    expect(w.map((x) => Number(x.toFixed(6)))).toEqual([0.75, 0, 0, 0.25]);
    expect(posterior([NaN, -Infinity])).toEqual([0.5, 0.5]); // nothing tells them apart
    expect(posterior([1000, 1000 - Math.log(4)]).map((x) => Number(x.toFixed(9)))).toEqual([0.8, 0.2]);
  });
});

describe('levenbergMarquardt', () => {
  it('recovers the parameters of y = a sin(b x)', () => {
    const xs = Array.from({ length: 40 }, (_, i) => i * 0.1);
    const ys = xs.map((x) => 1.7 * Math.sin(2.3 * x));
    const r = levenbergMarquardt({
      residuals: (t) => Float64Array.from(xs, (x, i) => ys[i] - t[0] * Math.sin(t[1] * x)),
      initial: Float64Array.of(1, 2),
    });
    expect(r.theta[0]).toBeCloseTo(1.7, 6);
    expect(r.theta[1]).toBeCloseTo(2.3, 6);
    expect(r.sse).toBeLessThan(1e-12);
  });
});

describe('smoothHistory', () => {
  it('reduces the error of noisy observations of a known law', () => {
    const rng = createRng(9);
    const step = (_p: Float64Array, c: Float64Array) => Float64Array.of(c[0] + 0.1 * c[1], c[1]); // constant velocity
    let errObs = 0,
      errSmooth = 0;
    for (let trial = 0; trial < 50; trial++) {
      const truth = [Float64Array.of(rng.normal(), rng.normal())];
      for (let t = 1; t < 6; t++) truth.push(step(truth[t - 1], truth[t - 1]));
      const obs = truth.map((s) => Float64Array.from(s, (v) => v + 0.05 * rng.normal()));
      const smoothed = smoothHistory(
        obs,
        obs.map(() => new Float64Array(0)),
        step,
        { observationVariance: Float64Array.of(0.0025, 0.0025), processVariance: Float64Array.of(1e-8, 1e-8) },
        false,
      );
      errObs += (obs[5][0] - truth[5][0]) ** 2 + (obs[5][1] - truth[5][1]) ** 2;
      errSmooth += (smoothed[5][0] - truth[5][0]) ** 2 + (smoothed[5][1] - truth[5][1]) ** 2;
    }
    expect(errSmooth).toBeLessThan(0.5 * errObs);
  });
});
