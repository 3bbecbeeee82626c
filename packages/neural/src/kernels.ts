// Differentiable ops that train fast on tfjs-wasm, each with a hand-written gradient (tf.customGrad).
//
// Why they exist (measured on tfjs-wasm 4.22 in Node, 2-core AVX-512 machine):
// - 2-D matMul runs through XNNPACK at ~15-25 GFLOP/s, but matMul with transposeA or transposeB falls
//   back to a naive loop (~1 GFLOP/s). tfjs's own matMul gradient uses exactly those flags, so every
//   backward pass of a stock dense layer is slow. Here: an explicit tf.transpose, then a plain matMul.
// - Batched (3-D) matMul with more than one matrix takes the naive loop too (~1.5-2 GFLOP/s);
//   `batchMatMul` runs large batches as a loop of 2-D matMuls instead.
// - GatherV2 (tf.gather) is ~50x slower than GatherND, and UnsortedSegmentSum (tf.gather's gradient)
//   has no wasm kernel at all; `takeRows` uses gatherND forward and scatterND (which sums duplicate
//   indices) backward.
// These ops are correct on every backend; on tfjs-node they are simply no slower than the stock ones.

import { tf } from './backend';
import type { Activation } from './ops';

type Grad = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
type Save = tf.GradSaveFunc;

/** tf.customGrad with loose typing: `forward` gets the inputs and `save`, returns value and gradient. */
function customOp<T extends tf.Tensor>(
  forward: (inputs: tf.Tensor[], save: Save) => { value: T; gradFunc: Grad },
): (...inputs: tf.Tensor[]) => T {
  const op = tf.customGrad(((...args: Array<tf.Tensor | Save>) => {
    const save = args.pop() as Save;
    return forward(args as tf.Tensor[], save);
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (...inputs) => op(...inputs) as T;
}

/** Swap the last two axes of a 2-D or 3-D tensor with a real Transpose kernel. */
function transposeLast(x: tf.Tensor): tf.Tensor {
  return x.rank === 2 ? tf.transpose(x) : tf.transpose(x, [0, 2, 1]);
}

// region dense ------------------------------------------------------------------------------------

const denseLinear = customOp<tf.Tensor2D>(([x, w, b], save) => {
  save([x, w]);
  const y = tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }) as tf.Tensor2D; // [N, O]
  return {
    value: y,
    gradFunc: (dy, [xs, ws]) => [
      tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), // dx = dy @ W^T         [N, I]
      tf.matMul(tf.transpose(xs), dy as tf.Tensor2D), // dW = x^T @ dy          [I, O]
      tf.sum(dy, 0), //                                   db = sum_n dy          [O]
    ],
  };
});

const denseRelu = customOp<tf.Tensor2D>(([x, w, b], save) => {
  // [N, O]
  const y = tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b, activation: 'relu' }) as tf.Tensor2D;
  save([x, w, y]);
  return {
    value: y,
    gradFunc: (dy, [xs, ws, ys]) => {
      const dz = tf.mul(dy, tf.step(ys)); // relu'(z) = [y > 0]                    [N, O]
      return [tf.matMul(dz, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dz), tf.sum(dz, 0)];
    },
  };
});

/**
 * y = act(x @ W + b) for x [N, I], W [I, O], b [O] -> [N, O]. Forward is one fused matMul; the
 * backward pass uses only plain matMuls on explicitly transposed operands.
 */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, activation: Activation = 'linear'): tf.Tensor2D {
  return (activation === 'relu' ? denseRelu : denseLinear)(x, w, b);
}

// endregion
// region batched matMul -----------------------------------------------------------------------------

// A loop of 2-D matMuls costs ~70 us per matrix in op overhead (unstack, matMul, stack); below ~50k
// multiply-adds per matrix the naive batched kernel is faster. Measured on tfjs-wasm: G=32, 32x32x32:
// batched 1.6 ms, loop 2.5 ms; G=16, 64x32x64: batched 2.9 ms, loop 1.2 ms; G=8, 128x32x128: 6.1 vs 1.2.
const LOOP_MIN_MACS = 49_152;
// ...but the loop's cost per matrix grows with G (unstack, and the tensors it makes, are superlinear on
// tfjs-wasm): G=64 of 64x16x64: batched 6 ms, loop 27 ms; G=1024: 78 ms vs 3.4 s; G=32 of 128x32x128: 16 vs
// 22 ms; G=16 of 128x32x128: 8.3 vs 2.2 ms. So the loop runs only for at most this many matrices.
const LOOP_MAX_MATRICES = 16;

/** a [G, M, K] @ b [G, K, N] -> [G, M, N] without backward-pass gradients; see batchMatMul. */
function batchMatMulForward(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const [g, m, k] = a.shape;
  const n = b.shape[2];
  if (g === 1) return tf.reshape(tf.matMul(tf.reshape(a, [m, k]), tf.reshape(b, [k, n])), [1, m, n]);
  if (m * k * n < LOOP_MIN_MACS || g > LOOP_MAX_MATRICES || tf.getBackend() !== 'wasm') return tf.matMul(a, b);
  const as = tf.unstack(a) as tf.Tensor2D[]; // G x [M, K]
  const bs = tf.unstack(b) as tf.Tensor2D[]; // G x [K, N]
  const out = tf.stack(as.map((ai, i) => tf.matMul(ai, bs[i]))) as tf.Tensor3D; // [G, M, N]
  tf.dispose([...as, ...bs]);
  return out;
}

const batchMatMulOp = customOp<tf.Tensor3D>(([a, b], save) => {
  save([a, b]);
  return {
    value: batchMatMulForward(a as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy, [as, bs]) => [
      batchMatMulForward(dy as tf.Tensor3D, transposeLast(bs) as tf.Tensor3D), // da = dy @ b^T  [G, M, K]
      batchMatMulForward(transposeLast(as) as tf.Tensor3D, dy as tf.Tensor3D), // db = a^T @ dy  [G, K, N]
    ],
  };
});

/** a [G, M, K] @ b [G, K, N] -> [G, M, N], fast forward and backward on wasm (see the file comment). */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return batchMatMulOp(a, b);
}

// endregion
// region rows / embeddings --------------------------------------------------------------------------

function indexColumn(indices: Int32Array | tf.Tensor): tf.Tensor2D {
  const flat =
    indices instanceof tf.Tensor ? tf.cast(tf.reshape(indices, [-1]), 'int32') : tf.tensor1d(indices, 'int32');
  return tf.reshape(flat, [-1, 1]); // [N, 1]
}

/**
 * Rows of `table` [V, ...rest] at `indices` (any shape S, int values in [0, V)) -> [...S, ...rest].
 * Differentiable in `table`: the gradient scatters (and sums) dy back into the rows it came from.
 * Use it for embeddings and for picking a minibatch out of a data tensor.
 */
export function takeRows<R extends tf.Rank = tf.Rank>(table: tf.Tensor, indices: Int32Array | tf.Tensor): tf.Tensor<R> {
  const outShape = [...(indices instanceof tf.Tensor ? indices.shape : [indices.length]), ...table.shape.slice(1)];
  const idx = indexColumn(indices); // [N, 1]
  const gathered = takeRowsOp(idx)(table); // [N, ...rest]
  return tf.reshape(gathered, outShape as tf.ShapeMap[R]) as tf.Tensor<R>;
}

// The indices are closed over (not an input), so the op has exactly one differentiable input; they are
// saved for the backward pass, which runs after the forward scope has freed its own tensors.
function takeRowsOp(idx: tf.Tensor2D): (table: tf.Tensor) => tf.Tensor {
  return customOp(([table], save) => {
    save([idx]);
    const shape = table.shape;
    return {
      value: tf.gatherND(table, idx), // [N, ...rest]
      gradFunc: (dy, [savedIdx]) => tf.scatterND(savedIdx, dy, shape), // [V, ...rest], duplicates summed
    };
  });
}

// endregion
// region stop-gradient -------------------------------------------------------------------------------

const stopGradientOp = customOp<tf.Tensor>(([x]) => ({ value: tf.clone(x), gradFunc: (dy) => tf.zerosLike(dy) }));

/** Identity forward, zero gradient backward: sg(x) (tfjs has no tf.stopGradient). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGradientOp(x) as T;
}

// endregion
// region normalisation and activations ----------------------------------------------------------------

const layerNormOp = (epsilon: number) =>
  customOp<tf.Tensor2D>(([x, gain, bias], save) => {
    const d = x.shape[1] as number;
    const mean = tf.mean(x, 1, true); //                                       [N, 1]
    const centred = tf.sub(x, mean); //                                        [N, D]
    const variance = tf.mean(tf.square(centred), 1, true); //                  [N, 1]
    const rstd = tf.rsqrt(tf.add(variance, epsilon)); //                       [N, 1]
    const xhat = tf.mul(centred, rstd); //                                     [N, D]
    save([xhat, rstd, gain]);
    return {
      value: tf.add(tf.mul(xhat, gain), bias) as tf.Tensor2D,
      gradFunc: (dy, [xh, rs, g]) => {
        // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), the closed form of the
        // normalisation's Jacobian; cheaper and steadier than differentiating mean/var op by op.
        const dxhat = tf.mul(dy, g); //                                        [N, D]
        const meanD = tf.mean(dxhat, 1, true); //                              [N, 1]
        const meanDX = tf.div(tf.sum(tf.mul(dxhat, xh), 1, true), d); //        [N, 1]
        const dx = tf.mul(rs, tf.sub(tf.sub(dxhat, meanD), tf.mul(xh, meanDX)));
        return [dx, tf.sum(tf.mul(dy, xh), 0), tf.sum(dy, 0)];
      },
    };
  });

/** Layer normalisation over the last axis: x [..., D], gain [D], bias [D] -> [..., D]. */
export function layerNorm(x: tf.Tensor, gain: tf.Tensor1D, bias: tf.Tensor1D, epsilon = 1e-5): tf.Tensor {
  const d = x.shape[x.rank - 1];
  const y = layerNormOp(epsilon)(tf.reshape(x, [-1, d]), gain, bias); // [N, D]
  return tf.reshape(y, x.shape);
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

const geluOp = customOp<tf.Tensor>(([x], save) => {
  // gelu(x) = 0.5 x (1 + tanh(c (x + a x^3)))   (tanh approximation, as in GPT-2 / BERT)
  const x2 = tf.square(x);
  const t = tf.tanh(tf.mul(tf.mul(x, tf.add(tf.mul(x2, GELU_A), 1)), GELU_C));
  save([x, x2, t]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(t, 1)),
    gradFunc: (dy, [xs, x2s, ts]) => {
      // d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)
      const sech2 = tf.sub(1, tf.square(ts));
      const inner = tf.mul(tf.add(tf.mul(x2s, 3 * GELU_A), 1), GELU_C);
      const grad = tf.add(tf.mul(tf.add(ts, 1), 0.5), tf.mul(tf.mul(tf.mul(xs, 0.5), sech2), inner));
      return tf.mul(dy, grad);
    },
  };
});

/** GELU, tanh approximation, elementwise. */
export function gelu<T extends tf.Tensor>(x: T): T {
  return geluOp(x) as T;
}

/** ReLU, elementwise. tfjs's own gradient (dy * step(x)) is already fast on wasm. */
export function relu<T extends tf.Tensor>(x: T): T {
  return tf.relu(x);
}

// endregion
// region attention ---------------------------------------------------------------------------------

/**
 * Scaled dot-product attention over `heads` heads.
 * q [B, T, D], k [B, S, D], v [B, S, D] -> [B, T, D]. `mask` is added to the scores before the softmax
 * (0 to keep, a large negative number to drop): [T, S] for every example, e.g. `causalMask(T)`, or any
 * shape that broadcasts to the scores [B*H, T, S], e.g. `keyPaddingMask(keep, heads)` [B*H, 1, S].
 */
export function attention(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  heads: number,
  mask?: tf.Tensor,
): tf.Tensor3D {
  const [b, t, d] = q.shape;
  const s = k.shape[1];
  if (d % heads !== 0) throw new Error(`attention: model width ${d} is not divisible by ${heads} heads`);
  const dh = d / heads;
  const split = (x: tf.Tensor3D, len: number) =>
    tf.reshape(tf.transpose(tf.reshape(x, [b, len, heads, dh]), [0, 2, 1, 3]), [b * heads, len, dh]) as tf.Tensor3D;
  const qh = split(q, t); //                                                   [B*H, T, dh]
  const kh = split(k, s); //                                                   [B*H, S, dh]
  const vh = split(v, s); //                                                   [B*H, S, dh]
  const kt = tf.transpose(kh, [0, 2, 1]) as tf.Tensor3D; //                     [B*H, dh, S]
  let scores: tf.Tensor3D = tf.mul(batchMatMul(qh, kt), 1 / Math.sqrt(dh)); // [B*H, T, S]
  if (mask) scores = tf.add(scores, mask);
  const weights = tf.softmax(scores) as tf.Tensor3D; //                         [B*H, T, S]
  const out = batchMatMul(weights, vh); //                                      [B*H, T, dh]
  return tf.reshape(tf.transpose(tf.reshape(out, [b, heads, t, dh]), [0, 2, 1, 3]), [b, t, d]); // [B, T, D]
}

/**
 * Additive mask [B*H, 1, S] from keep [B, S] (1: a real key, 0: padding), in the head-major order
 * `attention` uses (row b * heads + h): padding keys get a large negative score, so no query attends to them.
 * Every example needs at least one kept key (else its softmax is uniform over padding).
 */
export function keyPaddingMask(keep: tf.Tensor2D, heads: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, s] = keep.shape;
    const drop = tf.mul(tf.sub(1, keep), -1e9); //                                 [B, S]
    return tf.reshape(tf.tile(tf.reshape(drop, [b, 1, s]), [1, heads, 1]), [b * heads, 1, s]) as tf.Tensor3D;
  });
}

/** Additive mask [T, T]: position i attends to j <= i only. */
export function causalMask(t: number): tf.Tensor2D {
  const m = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) m[i * t + j] = -1e9;
  return tf.tensor2d(m, [t, t]);
}

// endregion
