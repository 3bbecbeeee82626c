// Test helpers: seeded random tensors and a central finite-difference gradient check.

import { expect } from 'vitest';
import type { Rng } from '@worldbench/core';
import { tf } from '../src/index';

/** A float32 tensor of std * N(0, 1) draws. */
export function randomTensor(rng: Rng, shape: number[], std = 1): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => std * rng.normal()),
    shape,
  );
}

/** A variable holding std * N(0, 1) draws (inputs are made variables so one helper checks everything). */
export function randomVariable(rng: Rng, shape: number[], std = 1): tf.Variable {
  return tf.variable(randomTensor(rng, shape, std));
}

/**
 * Compare tf.variableGrads of `loss` with central differences (f(v + h) - f(v - h)) / 2h, entry by entry,
 * for every variable in `vars`. float32: h = 1e-2 keeps round-off (~1e-7 |f| / h) and truncation
 * (~h^2 f''') both below the tolerance |analytic - numeric| <= atol + rtol |numeric|.
 */
export function expectGradientsMatch(
  loss: () => tf.Scalar,
  vars: tf.Variable[],
  { h = 1e-2, rtol = 1e-2, atol = 1e-3 }: { h?: number; rtol?: number; atol?: number } = {},
): void {
  const { grads } = tf.tidy(() => {
    const r = tf.variableGrads(loss, vars);
    return { grads: vars.map((v) => tf.keep(r.grads[v.name] ?? tf.zerosLike(v))) };
  });
  const f = () => tf.tidy(() => loss().dataSync()[0]);
  let checked = 0;
  vars.forEach((v, vi) => {
    const analytic = grads[vi].dataSync();
    const base = Float32Array.from(v.dataSync());
    const numeric = new Float32Array(base.length);
    for (let j = 0; j < base.length; j++) {
      const values = base.slice();
      values[j] = base[j] + h;
      tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
      const up = f();
      values[j] = base[j] - h;
      tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
      const down = f();
      numeric[j] = (up - down) / (2 * h);
    }
    tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
    let worst = 0;
    let worstAt = -1;
    for (let j = 0; j < base.length; j++) {
      const ratio = Math.abs(analytic[j] - numeric[j]) / (atol + rtol * Math.abs(numeric[j]));
      if (ratio > worst) [worst, worstAt] = [ratio, j];
    }
    const where =
      `variable ` +
      `${vi} (shape [${v.shape}]) entry ${worstAt}: analytic ${analytic[worstAt]}, numeric ${numeric[worstAt]}`;
    expect(worst, where).toBeLessThanOrEqual(1);
    checked += base.length;
  });
  tf.dispose(grads);
  expect(checked).toBeGreaterThan(0);
}

/** max |a - b| over two tensors of the same shape. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
