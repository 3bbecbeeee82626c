// The Ops interface run by tfjs: what training runs, and forecasts with forecastBackend 'tfjs'. The layer calls
// use the fast kernels of kernels.ts (hand-written gradients: explicit transposes, gatherND / scatterND), so
// a network written against Ops trains as fast on tfjs-wasm as one written against them directly. Call the
// ops inside tf.tidy (the trainer does).
import { tf } from './backend';
import { attention, causalMask, dense, gelu, keyPaddingMask, layerNorm, relu, stopGradient, takeRows } from './kernels';
import type { Ops } from './ops';

type T = tf.Tensor;

/** ONNX's reshape rule on a tfjs tensor: 0 keeps the input's dimension. */
function sizes(x: T, shape: number[]): number[] {
  return shape.map((d, i) => (d === 0 ? x.shape[i] : d));
}

/** Broadcasts each tensor to the shape they broadcast to together (tf.where wants equal shapes). */
function broadcastAll(xs: T[]): T[] {
  const shape = xs.reduce((s: number[], x) => tf.backend_util.assertAndGetBroadcastShape(s, x.shape), []);
  return xs.map((x) => (x.shape.join() === shape.join() ? x : tf.broadcastTo(x, shape)));
}

/**
 * x gathered along `axis` at `indices` (any shape S) -> [...before, ...S, ...after], through takeRows (rows of a
 * table).
 */
function gatherAlong(x: T, axis: number, indices: T): T {
  if (axis === 0) return takeRows(x, indices);
  const rest = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const rows = takeRows(tf.transpose(x, [axis, ...rest]), indices); //          [...S, ...before, ...after]
  const s = indices.rank;
  const before = Array.from({ length: axis }, (_, i) => s + i);
  const S = Array.from({ length: s }, (_, i) => i);
  const after = Array.from({ length: x.rank - 1 - axis }, (_, i) => s + axis + i);
  return tf.transpose(rows, [...before, ...S, ...after]);
}

export const tfjsOps: Ops<T> = {
  runtime: 'tfjs',

  param: (t) => t,
  constant: (values, shape) => tf.tensor(values, shape, values instanceof Int32Array ? 'int32' : 'float32'),
  shape: (x) => x.shape,

  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  div: (a, b) => tf.div(a, b),
  maximum: (a, b) => tf.maximum(a, b),
  neg: (x) => tf.neg(x),
  sqrt: (x) => tf.sqrt(x),
  abs: (x) => tf.abs(x),
  clip: (x, lo, hi) => tf.clipByValue(x, lo, hi),
  relu: (x) => relu(x),
  gelu: (x) => gelu(x),
  less: (a, b) => tf.less(a, b),
  equal: (a, b) => tf.equal(a, b),
  where: (cond, a, b) => {
    const [c, x, y] = broadcastAll([cond, a, typeof b === 'number' ? tf.fill(a.shape, b, a.dtype) : b]);
    return tf.where(c, x, y);
  },
  cast: (x, dtype) => tf.cast(x, dtype),
  stopGradient: (x) => stopGradient(x),

  sum: (x, axis) => tf.sum(x, axis),
  mean: (x, axis) => tf.mean(x, axis),
  max: (x, axis) => tf.max(x, axis),
  softmax: (x) => tf.softmax(x),
  logSoftmax: (x) => tf.logSoftmax(x),
  argMax: (x, axis) => tf.argMax(x, axis),
  oneHot: (ids, depth) => tf.cast(tf.oneHot(ids as tf.Tensor1D, depth), 'float32'),

  reshape: (x, shape) => tf.reshape(x, sizes(x, shape)),
  transpose: (x, perm) => tf.transpose(x, perm),
  concat: (xs, axis) => tf.concat(xs, axis),
  slice: (x, axis, start, end) => {
    const begin = x.shape.map((_, i) => (i === axis ? start : 0));
    const size = x.shape.map((d, i) => (i === axis ? end - start : d));
    return tf.slice(x, begin, size);
  },
  split: (x, axis, parts) => tf.split(x, parts, axis),
  padEnd: (x, axis, count, value) =>
    tf.concat(
      [
        x,
        tf.fill(
          x.shape.map((d, i) => (i === axis ? count : d)),
          value,
          x.dtype,
        ),
      ],
      axis,
    ),
  gather: gatherAlong,

  matMul: (a, b) => tf.matMul(a, b),
  dense: (x, w, b, activation = 'linear') => {
    const [inputs, outputs] = w.shape;
    // [N, O]
    const y = dense(tf.reshape(x, [-1, inputs]) as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D, activation);
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), outputs]);
  },
  layerNorm: (x, gain, bias, epsilon) => layerNorm(x, gain as tf.Tensor1D, bias as tf.Tensor1D, epsilon),
  attention: (q, k, v, heads, masks = {}) => {
    let mask: T | undefined = masks.causal ? causalMask(q.shape[1] as number) : undefined; //      [T, T]
    if (masks.keyMask) {
      const padding = keyPaddingMask(masks.keyMask as tf.Tensor2D, heads); //            [B*H, 1, S]
      mask = mask ? tf.add(mask, padding) : padding; //                                  broadcasts to [B*H, T, S]
    }
    return attention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, heads, mask);
  },
  layer: (_module, _inputs, own) => own(),
};
