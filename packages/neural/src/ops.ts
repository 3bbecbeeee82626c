// The ops a network is written against, once: `apply(ops, ...)`. Two runtimes implement them: tfjs runs them
// (tfjs-ops.ts: training, and forecasts with forecastBackend 'tfjs'), and @worldbench/onnx writes them into an
// ONNX graph (its OnnxOps: the forecasts ONNX Runtime runs). A value is whatever the runtime holds for a tensor:
// a tf.Tensor, or the name of a value in the graph. Shapes may hold symbolic names ("batch") in a graph, so a
// network reshapes with ONNX's conventions (0 keeps the input's dimension, -1 takes what is left) and reads
// static sizes from its own geometry rather than from its inputs.
import type { tf } from './backend';
import type { Module } from './module';

/** A dimension: a size, or a symbolic name such as "batch" (ONNX graphs). */
export type Dim = number | string;

export type Activation = 'linear' | 'relu';

/** The additive masks of `attention`. */
export interface AttentionMasks<T> {
  /** Query position t attends to key positions <= t only (self-attention). */
  causal?: boolean;
  /** [B, S] float: 1 for a key to attend to, 0 for padding no query may attend to. */
  keyMask?: T;
}

export interface Ops<T> {
  /** 'tfjs' runs the ops; 'onnx' writes them into a graph. */
  readonly runtime: 'tfjs' | 'onnx';

  // region values --------------------------------------------------------------------------------------
  /** A module's weight (a variable, or a fixed tensor such as an index table) as a value. */
  param(t: tf.Tensor): T;
  /** A constant of `shape` (float32 or int32 by the array's type). */
  constant(values: Float32Array | Int32Array, shape: number[]): T;
  /** The shape as the runtime knows it: sizes, and symbolic names for free dimensions of a graph. */
  shape(x: T): Dim[];
  // endregion
  // region elementwise (numpy broadcasting; a number is a scalar of the other operand's type) ---------------
  add(a: T, b: T | number): T;
  sub(a: T | number, b: T | number): T;
  mul(a: T, b: T | number): T;
  /** a / b. */
  div(a: T | number, b: T | number): T;
  /** The larger of a and b, elementwise (a where a >= b: ties send the gradient to a). */
  maximum(a: T, b: T | number): T;
  neg(x: T): T;
  sqrt(x: T): T;
  abs(x: T): T;
  clip(x: T, lo: number, hi: number): T;
  relu(x: T): T;
  /** GELU, tanh approximation (kernels.ts `gelu`). */
  gelu(x: T): T;
  /** a < b, boolean. */
  less(a: T, b: T | number): T;
  /** a == b, boolean. */
  equal(a: T, b: T): T;
  /** a where cond, else b (cond boolean; all three broadcast). */
  where(cond: T, a: T, b: T | number): T;
  cast(x: T, dtype: 'float32' | 'int32'): T;
  /** Identity forward, no gradient backward (a graph has no gradients: the identity). */
  stopGradient(x: T): T;
  // endregion
  // region reductions and the last axis --------------------------------------------------------------
  /** Sum over `axis`, the axis dropped. */
  sum(x: T, axis: number): T;
  /** Mean over `axis`, the axis dropped. */
  mean(x: T, axis: number): T;
  /** Maximum over `axis`, the axis dropped. */
  max(x: T, axis: number): T;
  /** Softmax over the last axis. */
  softmax(x: T): T;
  /** log(softmax(x)) over the last axis, computed stably (x - max - log sum exp). */
  logSoftmax(x: T): T;
  /** Index of the largest entry along `axis`, the axis dropped (integer). */
  argMax(x: T, axis: number): T;
  /** ids (integers, any shape S) -> float one-hot rows [...S, depth]; an id outside [0, depth) gives a zero row. */
  oneHot(ids: T, depth: number): T;
  // endregion
  // region layout --------------------------------------------------------------------------------------
  /** ONNX's rule: 0 keeps the input's dimension at that position, -1 takes what is left. */
  reshape(x: T, shape: number[]): T;
  transpose(x: T, perm: number[]): T;
  concat(xs: T[], axis: number): T;
  /** Entries [start, end) along `axis`. */
  slice(x: T, axis: number, start: number, end: number): T;
  /** `parts` equal slices along `axis`. */
  split(x: T, axis: number, parts: number): T[];
  /** Appends `count` entries of `value` at the end of `axis`. */
  padEnd(x: T, axis: number, count: number, value: number): T;
  /** Entries of x at integer `indices` (any shape S) along `axis`: [...before, ...S, ...after]; differentiable in x. */
  gather(x: T, axis: number, indices: T): T;
  // endregion
  // region layer calls -------------------------------------------------------------------------------
  /** a [..., M, K] @ b [..., K, N] (numpy matmul broadcasting), a plain product. */
  matMul(a: T, b: T): T;
  /** act(x @ w + b): x [..., I], w [I, O], b [O] -> [..., O] (the Dense layer's op: fast fused kernels on tfjs). */
  dense(x: T, w: T, b: T, activation?: Activation): T;
  /** Layer normalisation over the last axis with gain and bias [D]. */
  layerNorm(x: T, gain: T, bias: T, epsilon: number): T;
  /**
   * Scaled dot-product attention over `heads` heads: q [B, T, D], k, v [B, S, D] -> [B, T, D] (heads are
   * D / heads wide, split in order), with optional causal and key-padding masks.
   */
  attention(q: T, k: T, v: T, heads: number, masks?: AttentionMasks<T>): T;
  /**
   * A module's computation `own()` on `inputs`, or the form this runtime was given for the module's class
   * (an ONNX exporter registered at export: a layer whose graph form deliberately differs from its tfjs form).
   */
  layer(module: Module, inputs: T[], own: () => T): T;
  // endregion
}
