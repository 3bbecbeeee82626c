import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@worldbench/core';
import { Dense, Embedding, LayerNorm, Mlp, MultiHeadAttention, initBackend, tf, tfjsOps } from '../src/index';
import { expectGradientsMatch, maxAbsDiff, randomTensor, randomVariable } from './gradcheck';

beforeAll(async () => {
  await initBackend();
});

describe('Dense', () => {
  it('matches tf.layers.dense on the same weights (2-D and 3-D inputs, linear and relu)', () => {
    const rng = createRng('dense-layer');
    for (const activation of ['linear', 'relu'] as const) {
      const ours = new Dense(rng, 6, 5, { activation });
      const stock = tf.layers.dense({ units: 5, inputShape: [6], activation });
      stock.build([null, 6]);
      stock.setWeights([ours.w, ours.b.add(0.1)]);
      ours.b.assign(ours.b.add(0.1)); // a non-zero bias, the same in both
      const x = randomTensor(rng, [7, 6]);
      expect(maxAbsDiff(ours.apply(tfjsOps, x), stock.apply(x) as tf.Tensor)).toBeLessThan(1e-5);
      const x3 = randomTensor(rng, [2, 3, 6]);
      const y3 = ours.apply(tfjsOps, x3);
      expect(y3.shape).toEqual([2, 3, 5]);
      expect(maxAbsDiff(y3, stock.apply(x3) as tf.Tensor)).toBeLessThan(1e-5);
      expect(ours.count()).toBe(6 * 5 + 5);
    }
  });

  it('draws its weights from the Rng: same seed, same weights; He init has std sqrt(2 / fanIn)', () => {
    const a = new Dense(createRng(7), 256, 128, { activation: 'relu' });
    const b = new Dense(createRng(7), 256, 128, { activation: 'relu' });
    const c = new Dense(createRng(8), 256, 128, { activation: 'relu' });
    expect(maxAbsDiff(a.w, b.w)).toBe(0);
    expect(maxAbsDiff(a.w, c.w)).toBeGreaterThan(0.1);
    const std = tf.moments(a.w).variance.sqrt().dataSync()[0];
    expect(std).toBeCloseTo(Math.sqrt(2 / 256), 2);
    expect(a.b.dataSync().every((v) => v === 0)).toBe(true);
    const zero = new Dense(createRng(7), 4, 4, { init: 'zero' });
    expect(zero.w.dataSync().every((v) => v === 0)).toBe(true);
  });
});

describe('LayerNorm', () => {
  it('starts as plain normalisation: zero mean, unit variance per position', () => {
    const ln = new LayerNorm(8);
    const y = ln.apply(tfjsOps, randomTensor(createRng('ln-layer'), [2, 3, 8], 3));
    const { mean, variance } = tf.moments(y, -1);
    expect(maxAbsDiff(mean, tf.zeros([2, 3]))).toBeLessThan(1e-5);
    expect(maxAbsDiff(variance, tf.ones([2, 3]))).toBeLessThan(1e-3);
    expect(ln.count()).toBe(16);
  });
});

describe('Embedding', () => {
  it('maps ids of any shape to rows, and its gradient matches central differences', () => {
    const rng = createRng('embedding');
    const emb = new Embedding(rng, 6, 3, 1);
    const ids = tf.tensor2d(
      [
        [5, 0, 5],
        [2, 2, 1],
      ],
      [2, 3],
      'int32',
    );
    expect(emb.apply(tfjsOps, ids).shape).toEqual([2, 3, 3]);
    const r = randomTensor(rng, [2, 3, 3]);
    expectGradientsMatch(() => tf.sum(tf.mul(emb.apply(tfjsOps, ids), r)), emb.params());
    expect(emb.count()).toBe(18);
  });

  it('zeroRowsExcept zeroes the rows of unused ids, keeps the others, and counts the zeroed', () => {
    const emb = new Embedding(createRng('embedding-rows'), 5, 2, 1);
    const before = emb.table.arraySync() as number[][];
    expect(emb.zeroRowsExcept([3, 1, 3])).toBe(3);
    const after = emb.table.arraySync() as number[][];
    for (const v of [0, 2, 4]) expect(after[v].every((x) => x === 0)).toBe(true); // -0 where the row was negative
    for (const v of [1, 3]) expect(after[v]).toEqual(before[v]);
  });
});

describe('MultiHeadAttention', () => {
  it('self-attention (causal): gradients in x and every parameter match central differences', () => {
    const rng = createRng('mha-self');
    const mha = new MultiHeadAttention(rng, 4, 2);
    const x = randomVariable(rng, [2, 3, 4]);
    const r = randomTensor(rng, [2, 3, 4]);
    expectGradientsMatch(
      () => tf.sum(tf.mul(mha.apply(tfjsOps, x as tf.Tensor3D, { causal: true }), r)),
      [x, ...mha.params()],
    );
    expect(mha.count()).toBe(4 * (4 * 4 + 4));
  });

  it('cross-attention: gradients in x, the context and every parameter match central differences', () => {
    const rng = createRng('mha-cross');
    const mha = new MultiHeadAttention(rng, 4, 2);
    const x = randomVariable(rng, [2, 3, 4]);
    const context = randomVariable(rng, [2, 5, 4]);
    const r = randomTensor(rng, [2, 3, 4]);
    expectGradientsMatch(
      () => tf.sum(tf.mul(mha.apply(tfjsOps, x as tf.Tensor3D, { context: context as tf.Tensor3D }), r)),
      [x, context, ...mha.params()],
    );
  });

  it('causal: the output at position t does not depend on later positions', () => {
    const rng = createRng('mha-causal');
    const mha = new MultiHeadAttention(rng, 8, 2);
    const x = randomTensor(rng, [1, 4, 8]).arraySync() as number[][][];
    const changed = structuredClone(x);
    changed[0][3] = changed[0][3].map((v) => v + 1);
    const a = mha.apply(tfjsOps, tf.tensor3d(x), { causal: true });
    const b = mha.apply(tfjsOps, tf.tensor3d(changed), { causal: true });
    expect(maxAbsDiff(a.slice([0, 0, 0], [1, 3, 8]), b.slice([0, 0, 0], [1, 3, 8]))).toBeLessThan(1e-6);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
  });
});

describe('MultiHeadAttention keyMask', () => {
  it(
    'padding keys change nothing: equal to attention over the kept keys only; gradients match central ' + 'differences',
    () => {
      const rng = createRng('mha-keymask');
      const mha = new MultiHeadAttention(rng, 8, 2);
      const x = randomTensor(rng, [2, 4, 8]).arraySync() as number[][][];
      const keep = tf.tensor2d([
        [1, 1, 0, 1],
        [1, 0, 0, 0],
      ]);
      const masked = mha.apply(tfjsOps, tf.tensor3d(x), { keyMask: keep });
      // example 0 without its key 2, example 1 with key 0 only: the same queries, keys cut out
      const q0 = tf.tensor3d([x[0]]),
        kv0 = tf.tensor3d([[x[0][0], x[0][1], x[0][3]]]);
      const q1 = tf.tensor3d([x[1]]),
        kv1 = tf.tensor3d([[x[1][0]]]);
      expect(maxAbsDiff(masked.slice([0, 0, 0], [1, 4, 8]), mha.apply(tfjsOps, q0, { context: kv0 }))).toBeLessThan(
        1e-5,
      );
      expect(maxAbsDiff(masked.slice([1, 0, 0], [1, 4, 8]), mha.apply(tfjsOps, q1, { context: kv1 }))).toBeLessThan(
        1e-5,
      );
      // changing a padding position's input changes only that position's own output (it still queries)
      const changed = structuredClone(x);
      changed[0][2] = changed[0][2].map((v) => v + 1);
      const again = mha.apply(tfjsOps, tf.tensor3d(changed), { keyMask: keep });
      for (const t of [0, 1, 3])
        expect(maxAbsDiff(masked.slice([0, t, 0], [1, 1, 8]), again.slice([0, t, 0], [1, 1, 8]))).toBeLessThan(1e-6);
      const small = new MultiHeadAttention(rng, 4, 2);
      const xv = randomVariable(rng, [2, 3, 4]);
      const r = randomTensor(rng, [2, 3, 4]);
      const keep3 = tf.tensor2d([
        [1, 0, 1],
        [1, 1, 0],
      ]);
      expectGradientsMatch(
        () => tf.sum(tf.mul(small.apply(tfjsOps, xv as tf.Tensor3D, { keyMask: keep3, causal: true }), r)),
        [xv, ...small.params()],
      );
    },
  );
});

describe('Mlp', () => {
  it('stacks Dense layers (GELU variant: gradients match central differences)', () => {
    const rng = createRng('mlp');
    const mlp = new Mlp(rng, [3, 5, 2], 'gelu');
    expect(mlp.count()).toBe(3 * 5 + 5 + 5 * 2 + 2);
    const x = randomVariable(rng, [4, 3]);
    const r = randomTensor(rng, [4, 2]);
    expectGradientsMatch(() => tf.sum(tf.mul(mlp.apply(tfjsOps, x), r)), [x, ...mlp.params()]);
    expect(new Mlp(rng, [256, 512, 512, 256]).count()).toBe(256 * 512 + 512 + 512 * 512 + 512 + 512 * 256 + 256);
  });
});
