// The losses and diagnostics against plain references: values, and gradients against central differences.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@worldbench/core';
import { initBackend, tf, tfjsOps as ops } from '@worldbench/neural';
import { effectiveRank, symmetricEigenvalues } from '../src/diagnostics';
import { latentLoss, probeLoss, varianceCovariance } from '../src/losses';
import { expectGradientsMatch } from '@worldbench/neural/testing';

beforeAll(async () => {
  await initBackend();
});

const rng = createRng('losses');
/** The losses sum over many float32 terms: twice the neural kit's default tolerance. */
const JEPA_TOLERANCE = { rtol: 2e-2, atol: 2e-3 };
const randn = (n: number, std = 1) => Float32Array.from({ length: n }, () => std * rng.normal());

/** VICReg terms of one position's rows x [m, d] (plain loops). */
function vicregReference(x: number[][]): { variance: number; covariance: number } {
  const m = x.length,
    d = x[0].length;
  const mean = Array.from({ length: d }, (_, j) => x.reduce((s, r) => s + r[j], 0) / m);
  const cov = Array.from({ length: d }, (_, p) =>
    Array.from({ length: d }, (_, q) => x.reduce((s, r) => s + (r[p] - mean[p]) * (r[q] - mean[q]), 0) / (m - 1)),
  );
  const variance = cov.reduce((s, row, j) => s + Math.max(0, 1 - Math.sqrt(row[j] + 1e-4)), 0) / d;
  let off = 0;
  for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) if (p !== q) off += cov[p][q] ** 2;
  return { variance, covariance: off / d };
}

describe('varianceCovariance', () => {
  it(
    'matches a plain-loop reference per position, skipping masked rows, and its gradient matches central ' +
      'differences',
    () => {
      const [B, N, D] = [6, 2, 3];
      const values = randn(B * N * D, 0.7);
      // [B, N]: position 1 of example 1 and position 0 of example 5 are padding
      const mask = [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1];
      const rows = (n: number) =>
        Array.from({ length: B }, (_, b) => b)
          .filter((b) => mask[b * N + n] === 1)
          .map((b) => Array.from(values.subarray((b * N + n) * D, (b * N + n + 1) * D)));
      const refs = [0, 1].map((n) => vicregReference(rows(n)));
      const z = tf.variable(tf.tensor3d(values, [B, N, D]));
      const m = tf.tensor2d(mask, [B, N]);
      const { variance, covariance } = varianceCovariance<tf.Tensor>(ops, z, m);
      expect(variance.dataSync()[0]).toBeCloseTo((refs[0].variance + refs[1].variance) / 2, 5);
      expect(covariance.dataSync()[0]).toBeCloseTo((refs[0].covariance + refs[1].covariance) / 2, 5);
      expectGradientsMatch(
        () => {
          const t = varianceCovariance<tf.Tensor>(ops, z, m);
          return tf.add(t.variance, t.covariance) as tf.Scalar;
        },
        [z],
        JEPA_TOLERANCE,
      );
      tf.dispose([z, m, variance, covariance]);
    },
  );

  it('is 0 for the variance hinge of well-spread latents and large for collapsed ones', () => {
    const spread = tf.tensor3d(randn(512 * 1 * 4, 2), [512, 1, 4]);
    const collapsed = tf.tensor3d(new Float32Array(512 * 4).fill(0.3), [512, 1, 4]);
    const ones = tf.ones([512, 1]) as tf.Tensor2D;
    expect(varianceCovariance(ops, spread, ones).variance.dataSync()[0]).toBe(0);
    expect(varianceCovariance(ops, collapsed, ones).variance.dataSync()[0]).toBeGreaterThan(0.98);
  });
});

describe('latentLoss and probeLoss', () => {
  it('weight tokens and slots (padding counts for nothing); gradients match central differences', () => {
    const pred = tf.variable(tf.tensor3d(randn(2 * 3 * 4), [2, 3, 4]));
    const target = tf.tensor3d(randn(2 * 3 * 4), [2, 3, 4]);
    const w = tf.tensor2d([1, 1, 0, 1, 0, 0], [2, 3]);
    const p = pred.dataSync(),
      t = target.dataSync();
    let ref = 0;
    for (const tok of [0, 1, 3]) for (let d = 0; d < 4; d++) ref += (p[tok * 4 + d] - t[tok * 4 + d]) ** 2 / 4;
    expect(latentLoss<tf.Tensor>(ops, pred, target, w).dataSync()[0]).toBeCloseTo(ref / 3, 5);
    expectGradientsMatch(() => latentLoss<tf.Tensor>(ops, pred, target, w) as tf.Scalar, [pred], JEPA_TOLERANCE);

    // categorical: cross-entropy of logits [1, 2, 1, 3] at labels, the second slot padding
    const logits = tf.variable(tf.tensor4d([0.5, -1, 2, 3, 0, 0], [1, 2, 1, 3]));
    const labels = tf.tensor3d([2, 0], [1, 2, 1], 'int32');
    const weights = tf.tensor3d([1, 0], [1, 2, 1]);
    const ce = -(2 - Math.log(Math.exp(0.5) + Math.exp(-1) + Math.exp(2)));
    expect(probeLoss<tf.Tensor>(ops, logits, labels, weights).dataSync()[0]).toBeCloseTo(ce, 5);
    expectGradientsMatch(
      () => probeLoss<tf.Tensor>(ops, logits, labels, weights) as tf.Scalar,
      [logits],
      JEPA_TOLERANCE,
    );
  });
});

describe('effectiveRank', () => {
  it('is ~d for isotropic latents, ~1 for latents on a line, and the eigen solver recovers a known spectrum', () => {
    const d = 8,
      m = 4000;
    expect(effectiveRank(randn(m * d), m, d)).toBeGreaterThan(7.8);
    const line = new Float32Array(m * d);
    for (let i = 0; i < m; i++) {
      const s = rng.normal();
      for (let j = 0; j < d; j++) line[i * d + j] = s * (j + 1);
    }
    expect(effectiveRank(line, m, d)).toBeLessThan(1.01);
    // Q diag(1, 2, 5) Q^T with a rotation Q
    const c = Math.cos(0.4),
      s = Math.sin(0.4);
    const q = [c, -s, 0, s, c, 0, 0, 0, 1];
    const lambda = [1, 2, 5];
    const a = new Float64Array(9);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) a[i * 3 + j] += q[i * 3 + k] * lambda[k] * q[j * 3 + k];
    expect(
      Array.from(symmetricEigenvalues(a, 3))
        .sort((x, y) => x - y)
        .map((v) => Number(v.toFixed(8))),
    ).toEqual([1, 2, 5]);
  });
});
