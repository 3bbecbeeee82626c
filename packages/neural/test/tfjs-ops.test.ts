// The tfjs runtime of the Ops interface: the layout ops against plain-loop references (ONNX's reshape rule,
// gather along any axis with indices of any shape, slices, splits, padding, broadcasting where, one-hot rows),
// gather's gradient against central differences, and attention's masks as the kernels take them.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@worldbench/core';
import { attention, causalMask, initBackend, keyPaddingMask, tf, tfjsOps as ops } from '../src/index';
import { expectGradientsMatch, maxAbsDiff, randomTensor, randomVariable } from './gradcheck';

beforeAll(async () => {
  await initBackend();
});

const iota = (shape: number[]) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i),
    shape,
  );

describe('tfjsOps layout', () => {
  it('reshapes by ONNX rule (0 keeps a dimension, -1 takes the rest), slices, splits and pads', () => {
    const x = iota([2, 3, 4]);
    expect(ops.reshape(x, [0, -1]).shape).toEqual([2, 12]);
    expect(ops.reshape(x, [0, 0, 2, 2]).shape).toEqual([2, 3, 2, 2]);
    expect(ops.slice(x, 1, 1, 3).arraySync()).toEqual((x.arraySync() as number[][][]).map((rows) => rows.slice(1, 3)));
    const [a, b] = ops.split(x, 0, 2);
    expect([a.arraySync(), b.arraySync()]).toEqual([
      [(x.arraySync() as number[][][])[0]],
      [(x.arraySync() as number[][][])[1]],
    ]);
    const padded = ops.padEnd(iota([2, 2]), 1, 2, 7);
    expect(padded.arraySync()).toEqual([
      [0, 1, 7, 7],
      [2, 3, 7, 7],
    ]);
  });

  it(
    'gathers along any axis with indices of any shape, as a plain loop does; its gradient matches central ' +
      'differences',
    () => {
      const x = iota([2, 5, 3]).arraySync() as number[][][];
      const idx = [
        [4, 0, 4],
        [1, 1, 2],
      ];
      const got = ops.gather(tf.tensor3d(x), 1, tf.tensor2d(idx, [2, 3], 'int32'));
      expect(got.shape).toEqual([2, 2, 3, 3]);
      expect(got.arraySync()).toEqual(x.map((rows) => idx.map((row) => row.map((i) => rows[i]))));
      const last = ops.gather(tf.tensor3d(x), 2, tf.tensor1d([2, 0], 'int32'));
      expect(last.arraySync()).toEqual(x.map((rows) => rows.map((r) => [r[2], r[0]])));
      const rng = createRng('gather-fd');
      const v = randomVariable(rng, [2, 5, 3]);
      const r = randomTensor(rng, [2, 2, 3, 3]);
      expectGradientsMatch(() => tf.sum(tf.mul(ops.gather(v, 1, tf.tensor2d(idx, [2, 3], 'int32')), r)), [v]);
    },
  );

  it('broadcasts where (a number for one branch), and one-hot rows are zero outside [0, depth)', () => {
    const cond = tf.tensor3d([[[1], [0]]], [1, 2, 1], 'bool');
    const a = iota([1, 2, 3]);
    expect(ops.where(cond, a, -1).arraySync()).toEqual([
      [
        [0, 1, 2],
        [-1, -1, -1],
      ],
    ]);
    expect(ops.oneHot(tf.tensor1d([2, 0, 3, 5], 'int32'), 3).arraySync()).toEqual([
      [0, 0, 1],
      [1, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });
});

describe('tfjsOps attention', () => {
  it('builds the causal and key padding masks as the attention kernel takes them', () => {
    const rng = createRng('ops-attention');
    const [q, k, v] = [0, 1, 2].map(() => randomTensor(rng, [2, 4, 8]) as tf.Tensor3D);
    const keep = tf.tensor2d([
      [1, 1, 0, 1],
      [1, 0, 0, 0],
    ]);
    const expected = attention(q, k, v, 2, tf.add(causalMask(4), keyPaddingMask(keep, 2)));
    expect(maxAbsDiff(ops.attention(q, k, v, 2, { causal: true, keyMask: keep }), expected)).toBe(0);
    expect(maxAbsDiff(ops.attention(q, k, v, 2), attention(q, k, v, 2))).toBe(0);
  });
});
