// Layers: the parameters (tf.Variable) of the ops networks use, as Modules, each with an `apply(ops, ...)`
// written against the Ops interface (run by tfjs, traced into ONNX). Every initial weight is drawn from the
// Rng passed in (-> Float32Array -> tf.tensor), so a seed fixes a network exactly.

import type { Rng } from '@worldbench/core';
import { tf } from './backend';
import { Module } from './module';
import type { Activation, Ops } from './ops';

// region init -----------------------------------------------------------------------------------

/** How a weight matrix [fanIn, fanOut] starts. */
export type Init =
  | 'glorot' // normal, std sqrt(2 / (fanIn + fanOut)): keeps variance through linear/tanh-like layers
  | 'he' //     normal, std sqrt(2 / fanIn): keeps variance through ReLU layers
  | 'zero'; //  zeros: e.g. the last projection of a residual branch, so a block starts as the identity

/** A variable of `shape` filled with std * N(0, 1) draws from `rng`. */
export function normalVariable(rng: Rng, shape: number[], std: number): tf.Variable {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  if (std !== 0) for (let i = 0; i < size; i++) values[i] = std * rng.normal();
  return tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true)); // tidy frees the initial tensor
}

/** A variable of `shape` filled with `value`. */
export function constantVariable(shape: number[], value: number): tf.Variable {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => tf.variable(tf.tensor(new Float32Array(size).fill(value), shape, 'float32'), true));
}

function initStd(init: Init, fanIn: number, fanOut: number): number {
  if (init === 'zero') return 0;
  return init === 'he' ? Math.sqrt(2 / fanIn) : Math.sqrt(2 / (fanIn + fanOut));
}

// endregion
// region layers -------------------------------------------------------------------------------------

export interface DenseOptions {
  /** Weight init; default 'he' when activation is 'relu', else 'glorot'. Biases start at 0. */
  init?: Init;
  /** Applied after the affine map; 'relu' is fused into the matMul. */
  activation?: Activation;
}

/** y = act(x @ W + b): x [..., I] -> [..., O], W [I, O], b [O]. */
export class Dense extends Module {
  readonly w: tf.Variable; // [I, O]
  readonly b: tf.Variable; // [O]
  readonly activation: Activation;

  constructor(
    rng: Rng,
    readonly inputs: number,
    readonly outputs: number,
    options: DenseOptions = {},
  ) {
    super();
    this.activation = options.activation ?? 'linear';
    const init = options.init ?? (this.activation === 'relu' ? 'he' : 'glorot');
    this.w = normalVariable(rng, [inputs, outputs], initStd(init, inputs, outputs));
    this.b = constantVariable([outputs], 0);
  }

  apply<T>(ops: Ops<T>, x: T): T {
    return ops.dense(x, ops.param(this.w), ops.param(this.b), this.activation);
  }

  parts() {
    return { w: this.w, b: this.b };
  }
}

/** Layer normalisation over the last axis with a learned gain (starts at 1) and bias (starts at 0). */
export class LayerNorm extends Module {
  readonly gain: tf.Variable; // [D]
  readonly bias: tf.Variable; // [D]

  constructor(
    readonly width: number,
    readonly epsilon = 1e-5,
  ) {
    super();
    this.gain = constantVariable([width], 1);
    this.bias = constantVariable([width], 0);
  }

  /** x [..., D] -> [..., D]. */
  apply<T>(ops: Ops<T>, x: T): T {
    return ops.layerNorm(x, ops.param(this.gain), ops.param(this.bias), this.epsilon);
  }

  parts() {
    return { gain: this.gain, bias: this.bias };
  }
}

/**
 * A table of `vocab` learned vectors of width D: ids (any shape S) -> [...S, D]. Also a learned position table, added
 * whole.
 */
export class Embedding extends Module {
  readonly table: tf.Variable; // [V, D]

  /** `std` 0.02 as in GPT-2: small next to the unit-scale activations a following LayerNorm makes. */
  constructor(
    rng: Rng,
    readonly vocab: number,
    readonly width: number,
    std = 0.02,
  ) {
    super();
    this.table = normalVariable(rng, [vocab, width], std);
  }

  /** ids (integers in [0, V), any shape S) -> [...S, D]. */
  apply<T>(ops: Ops<T>, ids: T): T {
    return ops.gather(ops.param(this.table), 0, ids);
  }

  /**
   * Zeroes every row whose id is not in `used`, and returns how many rows that is: an id the training data never
   * shows then embeds as nothing instead of an untrained random vector (a row never gathered gets no gradient, so
   * it stays zero through training).
   */
  zeroRowsExcept(used: Iterable<number>): number {
    const keep = new Float32Array(this.vocab);
    for (const id of used) keep[id] = 1;
    tf.tidy(() => this.table.assign(tf.mul(this.table, tf.tensor2d(keep, [this.vocab, 1]))));
    return this.vocab - keep.reduce((a, b) => a + b, 0);
  }

  parts() {
    return { table: this.table };
  }
}

export interface AttentionOptions<T> {
  /** Query positions attend only to key positions at or before them (self-attention only). */
  causal?: boolean;
  /** Cross-attention: keys and values come from this [B, S, D] instead of x. */
  context?: T;
  /** [B, S]: 1 for a key position to attend to, 0 for padding no query may attend to (e.g. absent objects). */
  keyMask?: T;
}

/**
 * Multi-head attention: x [B, T, D] -> [B, T, D]. Self-attention by default; cross-attention when
 * `context` is given. The output projection starts at zero when `zeroOutput` (residual blocks start as identity).
 */
export class MultiHeadAttention extends Module {
  readonly query: Dense;
  readonly key: Dense;
  readonly value: Dense;
  readonly output: Dense;

  constructor(
    rng: Rng,
    readonly width: number,
    readonly heads: number,
    zeroOutput = false,
  ) {
    super();
    if (width % heads !== 0) throw new Error(`MultiHeadAttention: width ${width} is not divisible by ${heads} heads`);
    this.query = new Dense(rng, width, width);
    this.key = new Dense(rng, width, width);
    this.value = new Dense(rng, width, width);
    this.output = new Dense(rng, width, width, { init: zeroOutput ? 'zero' : 'glorot' });
  }

  apply<T>(ops: Ops<T>, x: T, options: AttentionOptions<T> = {}): T {
    if (options.causal && options.context)
      throw new Error('MultiHeadAttention: causal masking is for self-attention only');
    const source = options.context ?? x; //                                       [B, S, D]
    const q = this.query.apply(ops, x); //                                        [B, T, D]
    const k = this.key.apply(ops, source); //                                     [B, S, D]
    const v = this.value.apply(ops, source); //                                   [B, S, D]
    return this.output.apply(
      ops,
      ops.attention(q, k, v, this.heads, { causal: options.causal, keyMask: options.keyMask }),
    ); // [B, T, D]
  }

  parts() {
    return { query: this.query, key: this.key, value: this.value, output: this.output };
  }
}

/** An MLP of Dense layers: ReLU or GELU between layers, linear output. widths = [in, hidden..., out]. */
export class Mlp extends Module {
  readonly layers: Dense[];

  constructor(
    rng: Rng,
    readonly widths: readonly number[],
    readonly hidden: 'relu' | 'gelu' = 'relu',
  ) {
    super();
    if (widths.length < 2) throw new Error(`Mlp needs at least [inputs, outputs], got [${widths.join(', ')}]`);
    this.layers = widths.slice(1).map((out, i) => {
      const last = i === widths.length - 2;
      const activation: Activation = !last && hidden === 'relu' ? 'relu' : 'linear';
      return new Dense(rng, widths[i], out, { activation, init: hidden === 'relu' && !last ? 'he' : 'glorot' });
    });
  }

  /** x [..., widths[0]] -> [..., widths[last]]. */
  apply<T>(ops: Ops<T>, x: T): T {
    let h = x;
    this.layers.forEach((layer, i) => {
      h = layer.apply(ops, h); // relu is fused into the layer
      if (this.hidden === 'gelu' && i < this.layers.length - 1) h = ops.gelu(h);
    });
    return h;
  }

  parts() {
    return { layers: this.layers };
  }
}

/** An attention layer a TransformerBlock can hold: tokens -> tokens, with a key padding mask where it takes one. */
export interface SelfAttention extends Module {
  apply<T>(ops: Ops<T>, x: T, options?: { keyMask?: T }): T;
}

/**
 * A pre-norm transformer block: x + attention(LayerNorm(x)), then + Mlp(LayerNorm(.)) with one ReLU hidden layer
 * (fused into its matMul: tanh (GELU) costs ~40 ns per element on tfjs-wasm). The attention is built by the
 * caller, before the block (its weights are drawn from `rng` first).
 */
export class TransformerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;

  constructor(
    rng: Rng,
    readonly attention: SelfAttention,
    width: number,
    hidden: number,
  ) {
    super();
    this.norm1 = new LayerNorm(width);
    this.norm2 = new LayerNorm(width);
    this.mlp = new Mlp(rng, [width, hidden, width], 'relu');
  }

  /** x [..., D] (the attention's token layout), keyMask as the attention takes it -> [..., D]. */
  apply<T>(ops: Ops<T>, x: T, keyMask?: T): T {
    const h = ops.add(x, this.attention.apply(ops, this.norm1.apply(ops, x), keyMask === undefined ? {} : { keyMask }));
    return ops.add(h, this.mlp.apply(ops, this.norm2.apply(ops, h)));
  }

  parts() {
    return { norm1: this.norm1, attention: this.attention, norm2: this.norm2, mlp: this.mlp };
  }
}

// endregion
