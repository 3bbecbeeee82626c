// Layers: the parameters (tf.Variable) of the ops in ops.ts, held in small classes with params(),
// count() and dispose(). Every initial weight is drawn from the Rng passed in (-> Float32Array ->
// tf.tensor), so a seed fixes a network exactly.

import type { Rng } from '@worldbench/core';
import { tf } from './backend';
import { type Activation, attention, causalMask, dense, gelu, keyPaddingMask, layerNorm, takeRows } from './ops';

/** Anything that owns trainable variables. */
export interface Layer {
  /** The trainable variables, in a fixed order (the trainer and weight export rely on it). */
  params(): tf.Variable[];
  /** The number of scalar parameters. */
  count(): number;
  /** Free the variables. */
  dispose(): void;
}

/** Variables of several layers, in order. */
export function paramsOf(layers: readonly Layer[]): tf.Variable[] {
  return layers.flatMap((layer) => layer.params());
}

/** Total scalar parameters of variables. */
export function countParams(params: readonly tf.Variable[]): number {
  return params.reduce((sum, p) => sum + p.size, 0);
}

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

abstract class VariableHolder implements Layer {
  abstract params(): tf.Variable[];
  count(): number {
    return countParams(this.params());
  }
  dispose(): void {
    for (const p of this.params()) p.dispose();
  }
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
export class Dense extends VariableHolder {
  readonly w: tf.Variable; // [I, O]
  readonly b: tf.Variable; // [O]
  readonly activation: Activation;

  constructor(rng: Rng, readonly inputs: number, readonly outputs: number, options: DenseOptions = {}) {
    super();
    this.activation = options.activation ?? 'linear';
    const init = options.init ?? (this.activation === 'relu' ? 'he' : 'glorot');
    this.w = normalVariable(rng, [inputs, outputs], initStd(init, inputs, outputs));
    this.b = constantVariable([outputs], 0);
  }

  apply<T extends tf.Tensor>(x: T): T {
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, this.inputs]) as tf.Tensor2D; //                 [N, I]
    const y = dense(x2, this.w as tf.Tensor2D, this.b as tf.Tensor1D, this.activation); // [N, O]
    return (x.rank === 2 ? y : tf.reshape(y, [...lead, this.outputs])) as T;
  }

  params(): tf.Variable[] {
    return [this.w, this.b];
  }
}

/** Layer normalisation over the last axis with a learned gain (starts at 1) and bias (starts at 0). */
export class LayerNorm extends VariableHolder {
  readonly gain: tf.Variable; // [D]
  readonly bias: tf.Variable; // [D]

  constructor(readonly width: number, readonly epsilon = 1e-5) {
    super();
    this.gain = constantVariable([width], 1);
    this.bias = constantVariable([width], 0);
  }

  apply<T extends tf.Tensor>(x: T): T {
    return layerNorm(x, this.gain as tf.Tensor1D, this.bias as tf.Tensor1D, this.epsilon) as T; // [..., D]
  }

  params(): tf.Variable[] {
    return [this.gain, this.bias];
  }
}

/** A table of `vocab` learned vectors of width D: ids (any shape S) -> [...S, D]. */
export class Embedding extends VariableHolder {
  readonly table: tf.Variable; // [V, D]

  /** `std` 0.02 as in GPT-2: small next to the unit-scale activations a following LayerNorm makes. */
  constructor(rng: Rng, readonly vocab: number, readonly width: number, std = 0.02) {
    super();
    this.table = normalVariable(rng, [vocab, width], std);
  }

  apply(ids: Int32Array | tf.Tensor): tf.Tensor {
    return takeRows(this.table, ids); // [...S, D]
  }

  params(): tf.Variable[] {
    return [this.table];
  }
}

export interface AttentionOptions {
  /** Query positions attend only to key positions at or before them (self-attention only). */
  causal?: boolean;
  /** Cross-attention: keys and values come from this [B, S, D] instead of x. */
  context?: tf.Tensor3D;
  /** [B, S]: 1 for a key position to attend to, 0 for padding no query may attend to (e.g. absent objects). */
  keyMask?: tf.Tensor2D;
}

/**
 * Multi-head attention: x [B, T, D] -> [B, T, D]. Self-attention by default; cross-attention when
 * `context` is given. Projections are Dense layers on [B*T, D]; scores use batchMatMul with an explicit
 * transpose of K. The output projection starts at zero when `zeroOutput` (residual blocks start as identity).
 */
export class MultiHeadAttention extends VariableHolder {
  readonly query: Dense;
  readonly key: Dense;
  readonly value: Dense;
  readonly output: Dense;

  constructor(rng: Rng, readonly width: number, readonly heads: number, zeroOutput = false) {
    super();
    if (width % heads !== 0) throw new Error(`MultiHeadAttention: width ${width} is not divisible by ${heads} heads`);
    this.query = new Dense(rng, width, width);
    this.key = new Dense(rng, width, width);
    this.value = new Dense(rng, width, width);
    this.output = new Dense(rng, width, width, { init: zeroOutput ? 'zero' : 'glorot' });
  }

  apply(x: tf.Tensor3D, options: AttentionOptions = {}): tf.Tensor3D {
    const source = options.context ?? x; //                                       [B, S, D]
    if (options.causal && options.context) throw new Error('MultiHeadAttention: causal masking is for self-attention only');
    const q = this.query.apply(x); //                                            [B, T, D]
    const k = this.key.apply(source); //                                         [B, S, D]
    const v = this.value.apply(source); //                                       [B, S, D]
    let mask: tf.Tensor | undefined = options.causal ? causalMask(x.shape[1]) : undefined; // [T, T]
    if (options.keyMask) {
      const padding = keyPaddingMask(options.keyMask, this.heads); //              [B*H, 1, S]
      mask = mask ? tf.add(mask, padding) : padding; //                            broadcasts to [B*H, T, S]
    }
    return this.output.apply(attention(q, k, v, this.heads, mask)); //            [B, T, D]
  }

  params(): tf.Variable[] {
    return paramsOf([this.query, this.key, this.value, this.output]);
  }
}

/** An MLP of Dense layers: ReLU or GELU between layers, linear output. widths = [in, hidden..., out]. */
export class Mlp extends VariableHolder {
  readonly layers: Dense[];

  constructor(rng: Rng, readonly widths: readonly number[], readonly hidden: 'relu' | 'gelu' = 'relu') {
    super();
    if (widths.length < 2) throw new Error(`Mlp needs at least [inputs, outputs], got [${widths.join(', ')}]`);
    this.layers = widths.slice(1).map((out, i) => {
      const last = i === widths.length - 2;
      const activation: Activation = !last && hidden === 'relu' ? 'relu' : 'linear';
      return new Dense(rng, widths[i], out, { activation, init: hidden === 'relu' && !last ? 'he' : 'glorot' });
    });
  }

  apply<T extends tf.Tensor>(x: T): T {
    let h: tf.Tensor = x;
    this.layers.forEach((layer, i) => {
      h = layer.apply(h); // relu is fused into the layer
      if (this.hidden === 'gelu' && i < this.layers.length - 1) h = gelu(h);
    });
    return h as T;
  }

  params(): tf.Variable[] {
    return paramsOf(this.layers);
  }
}

// endregion
