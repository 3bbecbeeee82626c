import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@worldbench/core';
import { attention, batchMatMul, causalMask, dense, gelu, initBackend, layerNorm, takeRows, tf } from '../src/index';
import { expectGradientsMatch, maxAbsDiff, randomTensor, randomVariable } from './gradcheck';

beforeAll(async () => {
  await initBackend();
});

/** sum(R * y) with a fixed random R, so every output entry weighs in differently. */
function projected(rng: ReturnType<typeof createRng>, shape: number[]): (y: tf.Tensor) => tf.Scalar {
  const r = randomTensor(rng, shape);
  return (y) => tf.sum(tf.mul(y, r));
}

describe('dense', () => {
  it('has gradients that match central differences (linear and fused relu)', () => {
    const rng = createRng('dense-fd');
    const x = randomVariable(rng, [3, 4]);
    const w = randomVariable(rng, [4, 5], 0.5);
    const b = randomVariable(rng, [5], 0.5);
    const proj = projected(rng, [3, 5]);
    expectGradientsMatch(() => proj(dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D)), [x, w, b]);
    // relu is not differentiable at 0: make sure no pre-activation is within reach of the step h
    const z = tf.tidy(
      () =>
        tf
          .abs(tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b))
          .min()
          .dataSync()[0],
    );
    expect(z).toBeGreaterThan(0.05);
    expectGradientsMatch(() => proj(dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D, 'relu')), [x, w, b]);
  });

  it('matches stock tfjs (matMul + add and their autodiff) on a larger layer', () => {
    const rng = createRng('dense-stock');
    const x = randomTensor(rng, [64, 48]) as tf.Tensor2D;
    const w = randomTensor(rng, [48, 32], 0.2) as tf.Tensor2D;
    const b = randomTensor(rng, [32]) as tf.Tensor1D;
    const proj = projected(rng, [64, 32]);
    const ours = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      proj(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D, 'relu')),
    );
    const stock = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      proj(tf.relu(tf.add(tf.matMul(xx, ww), bb))),
    );
    const g1 = ours([x, w, b]);
    const g2 = stock([x, w, b]);
    g1.forEach((g, i) => expect(maxAbsDiff(g, g2[i])).toBeLessThan(1e-4));
    expect(maxAbsDiff(dense(x, w, b), tf.add(tf.matMul(x, w), b))).toBeLessThan(1e-5);
  });
});

describe('batchMatMul', () => {
  it('has gradients that match central differences', () => {
    const rng = createRng('bmm-fd');
    const a = randomVariable(rng, [2, 3, 4]);
    const b = randomVariable(rng, [2, 4, 2]);
    const proj = projected(rng, [2, 3, 2]);
    expectGradientsMatch(() => proj(batchMatMul(a as tf.Tensor3D, b as tf.Tensor3D)), [a, b]);
  });

  it('matches stock tfjs forward and gradients on the loop-of-matMuls path (large matrices) and G = 1', () => {
    const rng = createRng('bmm-stock');
    for (const [g, m, k, n] of [
      [3, 64, 32, 48],
      [1, 16, 8, 4],
    ]) {
      const a = randomTensor(rng, [g, m, k]) as tf.Tensor3D;
      const b = randomTensor(rng, [g, k, n]) as tf.Tensor3D;
      const proj = projected(rng, [g, m, n]);
      expect(maxAbsDiff(batchMatMul(a, b), tf.matMul(a, b))).toBeLessThan(1e-4);
      const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => proj(batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D)))([
        a,
        b,
      ]);
      const stock = tf.grads((x: tf.Tensor, y: tf.Tensor) => proj(tf.matMul(x, y)))([a, b]);
      ours.forEach((gr, i) => expect(maxAbsDiff(gr, stock[i])).toBeLessThan(1e-3));
    }
  });
});

describe('takeRows', () => {
  it('picks rows forward and sums repeated rows backward (central differences)', () => {
    const rng = createRng('rows');
    const table = randomVariable(rng, [5, 3]);
    const ids = Int32Array.from([4, 1, 4, 0, 4, 2]); // row 3 unused, row 4 three times
    const picked = takeRows(table, ids);
    expect(picked.shape).toEqual([6, 3]);
    const rows = table.arraySync() as number[][];
    expect(picked.arraySync()).toEqual(Array.from(ids, (i) => rows[i]));
    const proj = projected(rng, [2, 3, 3]);
    const ids2d = tf.tensor2d(ids, [2, 3], 'int32');
    expect(takeRows(table, ids2d).shape).toEqual([2, 3, 3]);
    expectGradientsMatch(() => proj(takeRows(table, ids2d)), [table]);
    const grad = tf
      .grad((t: tf.Tensor) => tf.sum(takeRows(t, ids)))(table)
      .arraySync() as number[][];
    expect(grad.map((row) => row[0])).toEqual([1, 1, 1, 0, 3]);
  });
});

describe('layerNorm', () => {
  it('normalises each row and has gradients that match central differences', () => {
    const rng = createRng('ln');
    const x = randomVariable(rng, [3, 5], 2);
    const gain = tf.variable(tf.add(randomTensor(rng, [5], 0.3), 1));
    const bias = randomVariable(rng, [5], 0.3);
    const plain = layerNorm(x, tf.ones([5]) as tf.Tensor1D, tf.zeros([5]) as tf.Tensor1D);
    const { mean, variance } = tf.moments(plain, 1);
    expect(maxAbsDiff(mean, tf.zeros([3]))).toBeLessThan(1e-5);
    expect(maxAbsDiff(variance, tf.ones([3]))).toBeLessThan(1e-3);
    const proj = projected(rng, [3, 5]);
    expectGradientsMatch(() => proj(layerNorm(x, gain as tf.Tensor1D, bias as tf.Tensor1D)), [x, gain, bias]);
    const x3 = randomTensor(rng, [2, 3, 5]);
    expect(layerNorm(x3, gain as tf.Tensor1D, bias as tf.Tensor1D).shape).toEqual([2, 3, 5]);
  });
});

describe('gelu', () => {
  it('is the tanh approximation and has gradients that match central differences', () => {
    const xs = [-3, -1, -0.5, 0, 0.5, 1, 3];
    const reference = xs.map((x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))));
    const got = gelu(tf.tensor1d(xs)).dataSync();
    reference.forEach((r, i) => expect(got[i]).toBeCloseTo(r, 5));
    const rng = createRng('gelu');
    const x = randomVariable(rng, [4, 5], 2);
    const proj = projected(rng, [4, 5]);
    expectGradientsMatch(() => proj(gelu(x)), [x]);
  });
});

/** Attention in plain JS loops: the reference the tensor version must agree with. */
function attentionReference(
  q: number[][][],
  k: number[][][],
  v: number[][][],
  heads: number,
  causal: boolean,
): number[][][] {
  const d = q[0][0].length;
  const dh = d / heads;
  return q.map((qb, bi) =>
    qb.map((qt, t) => {
      const out = new Array<number>(d).fill(0);
      for (let h = 0; h < heads; h++) {
        const cols = Array.from({ length: dh }, (_, c) => h * dh + c);
        const scores = k[bi].map((ks, s) =>
          causal && s > t ? -Infinity : cols.reduce((acc, c) => acc + qt[c] * ks[c], 0) / Math.sqrt(dh),
        );
        const top = Math.max(...scores);
        const e = scores.map((sc) => Math.exp(sc - top));
        const z = e.reduce((a, b) => a + b, 0);
        e.forEach((w, s) => cols.forEach((c) => (out[c] += (w / z) * v[bi][s][c])));
      }
      return out;
    }),
  );
}

describe('attention', () => {
  it('matches a plain-loop reference (self, causal, cross)', () => {
    const rng = createRng('attn-ref');
    const q = randomTensor(rng, [2, 3, 4]) as tf.Tensor3D;
    const kv = randomTensor(rng, [2, 5, 4]) as tf.Tensor3D;
    const arr = (t: tf.Tensor) => t.arraySync() as number[][][];
    const close = (a: number[][][], b: number[][][]) =>
      expect(maxAbsDiff(tf.tensor(a), tf.tensor(b))).toBeLessThan(1e-5);
    close(arr(attention(q, q, q, 2)), attentionReference(arr(q), arr(q), arr(q), 2, false));
    close(arr(attention(q, q, q, 2, causalMask(3))), attentionReference(arr(q), arr(q), arr(q), 2, true));
    close(arr(attention(q, kv, kv, 2)), attentionReference(arr(q), arr(kv), arr(kv), 2, false));
  });

  it('has gradients that match central differences in q, k and v', () => {
    const rng = createRng('attn-fd');
    const q = randomVariable(rng, [2, 3, 4]);
    const k = randomVariable(rng, [2, 5, 4]);
    const v = randomVariable(rng, [2, 5, 4]);
    const proj = projected(rng, [2, 3, 4]);
    expectGradientsMatch(() => proj(attention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, 2)), [q, k, v]);
    const kSelf = randomVariable(rng, [2, 3, 4]);
    const vSelf = randomVariable(rng, [2, 3, 4]);
    const mask = causalMask(3);
    expectGradientsMatch(
      () => proj(attention(q as tf.Tensor3D, kSelf as tf.Tensor3D, vSelf as tf.Tensor3D, 2, mask)),
      [q, kSelf, vSelf],
    );
  });
});
