// The networks: the action encoder (true or latent actions -> a conditioning vector), the dynamics model
// (a transformer over the patch tokens of the last C frames), and the latent action model (an encoder of
// (frame t, frame t+1) into one of a few codes, and a light decoder that needs the code to predict t+1).
// Shapes: N examples, C context frames, P patches per frame, J values per halo patch, pp per core patch, D width.
// No convolutions (tfjs-wasm cannot train them): every spatial operation is a gather plus dense layers.

import type { Rng, TensorSpec } from '@worldbench/core';
import { Dense, Embedding, LayerNorm, Mlp, constantVariable, gelu, normalVariable, paramsOf, tf, type Layer } from '@worldbench/neural';
import { NeighbourhoodAttention, neighbourhood, type Neighbourhood } from './attention';
import type { PatchGeometry } from './patches';
import { VectorQuantizer } from './vq';

/** How actions enter the dynamics. */
export type ActionKind =
  | { kind: 'real'; size: number } //                 a linear embedding of the action vector
  | { kind: 'int'; size: number; vocab: number } //   one embedding table over (element, value) pairs, summed over elements
  | { kind: 'latent'; codes: number } //              an embedding table of latent-action codes
  | { kind: 'none' };

export function actionKindOf(action: TensorSpec | null, actionFree: boolean, latentCodes: number): ActionKind {
  if (!action) return { kind: 'none' };
  if (actionFree) return { kind: 'latent', codes: latentCodes };
  const size = action.shape.reduce((a, b) => a * b, 1);
  return action.kind === 'int' || action.kind === 'token' ? { kind: 'int', size, vocab: action.vocab as number } : { kind: 'real', size };
}

/** Actions as the encoder takes them: real values [N, A] (float32), or ids [N, A] (int32: element * vocab + value, or latent codes with A = 1). */
export class ActionEncoder implements Layer {
  private readonly dense: Dense | null = null;
  private readonly table: Embedding | null = null;

  constructor(rng: Rng, readonly action: ActionKind, width: number) {
    if (action.kind === 'real') this.dense = new Dense(rng, action.size, width);
    else if (action.kind === 'int') this.table = new Embedding(rng, action.size * action.vocab, width, 0.5);
    else if (action.kind === 'latent') this.table = new Embedding(rng, action.codes, width, 0.5);
  }

  /** [N, A] -> [N, D]. */
  apply(actions: tf.Tensor2D): tf.Tensor2D {
    if (this.dense) return this.dense.apply(actions);
    if (this.table) return tf.sum(this.table.apply(actions), 1) as tf.Tensor2D; // [N, A, D] -> [N, D]
    throw new Error('spatial: this model has no actions to encode');
  }

  params(): tf.Variable[] {
    return this.dense ? this.dense.params() : this.table ? this.table.params() : [];
  }
  count(): number {
    return this.params().reduce((s, p) => s + p.size, 0);
  }
  dispose(): void {
    for (const p of this.params()) p.dispose();
  }
}

/** Pre-norm transformer block: x + attention(LN(x)), then x + MLP(LN(x)). The attention branch starts at 0. */
class Block implements Layer {
  readonly norm1: LayerNorm;
  readonly attention: NeighbourhoodAttention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;

  constructor(rng: Rng, width: number, heads: number, hidden: number, hood: Neighbourhood) {
    this.norm1 = new LayerNorm(width);
    this.attention = new NeighbourhoodAttention(rng, width, heads, hood);
    this.norm2 = new LayerNorm(width);
    // ReLU, not GELU: the same fit here, and GELU's custom op tripled the MLP's time on tfjs-wasm
    this.mlp = new Mlp(rng, [width, hidden, width], 'relu');
  }

  apply(x: tf.Tensor3D): tf.Tensor3D {
    const a = tf.add(x, this.attention.apply(this.norm1.apply(x))) as tf.Tensor3D; // [N, P, D]
    return tf.add(a, this.mlp.apply(this.norm2.apply(a))) as tf.Tensor3D; //        [N, P, D]
  }

  params(): tf.Variable[] {
    return paramsOf([this.norm1, this.attention, this.norm2, this.mlp]);
  }
  count(): number {
    return this.params().reduce((s, p) => s + p.size, 0);
  }
  dispose(): void {
    for (const layer of [this.norm1, this.norm2, this.mlp, this.attention]) layer.dispose();
  }
}

export interface DynamicsShape {
  geometry: PatchGeometry;
  contextFrames: number;
  width: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  /** Neighbourhood radius of the attention, in patches. */
  radius: number;
  action: ActionKind;
  /** 0: pixel tubelets in, each patch's change out. K > 0: token ids of a K-code tokenizer in, logits over the K codes out. */
  tokens: number;
}

/**
 * The dynamics model: the C context frames of each patch form one "tubelet" token (ViViT's tubelet
 * embedding: a linear map of the patch, with halo, across time; or, on discrete tokens, the sum of one
 * embedding per (frame, token id), the same linear map of the one-hot ids), plus a learned position and the
 * action embedding; transformer blocks mix the P tokens of a frame. On pixels, a linear head gives each
 * patch's change, added to the last frame (residual prediction, so the untrained model is persistence); on
 * tokens, it gives each patch's logits over the next token id, plus a learned bonus `copy` (initially
 * log K: half the probability) on the patch's last id, so the untrained model predicts persistence there too.
 */
export class Dynamics implements Layer {
  readonly embed: Dense | null = null;
  readonly tokenEmbed: Embedding | null = null;
  readonly copy: tf.Variable | null = null; // [1]
  readonly position: tf.Variable; // [P, D]
  readonly actions: ActionEncoder | null;
  readonly blocks: Block[];
  readonly norm: LayerNorm;
  readonly head: Dense;

  constructor(rng: Rng, readonly shape: DynamicsShape) {
    const { geometry: g, contextFrames: C, width: D, tokens: K } = shape;
    if (K > 0) {
      this.tokenEmbed = new Embedding(rng, C * K, D, 0.5);
      this.copy = constantVariable([1], Math.log(K));
    } else this.embed = new Dense(rng, C * g.J, D);
    this.position = normalVariable(rng, [g.P, D], 0.02);
    this.actions = shape.action.kind === 'none' ? null : new ActionEncoder(rng, shape.action, D);
    const hood = neighbourhood(g.rows, g.cols, shape.radius, g.wrap);
    this.blocks = Array.from({ length: shape.depth }, () => new Block(rng, D, shape.heads, shape.mlpRatio * D, hood));
    this.norm = new LayerNorm(D);
    this.head = new Dense(rng, D, K > 0 ? K : g.pp, { init: 'zero' });
  }

  /** Embedded tokens [N, P, D] (position and action added) through the blocks and the final norm -> [N*P, D]. */
  private trunk(x: tf.Tensor3D, actions: tf.Tensor2D | null): tf.Tensor2D {
    const { geometry: g, width: D } = this.shape;
    const n = x.shape[0];
    x = tf.add(x, this.position) as tf.Tensor3D;
    if (this.actions && actions) x = tf.add(x, tf.reshape(this.actions.apply(actions), [n, 1, D])) as tf.Tensor3D;
    for (const block of this.blocks) x = block.apply(x);
    return this.norm.apply(tf.reshape(x, [n * g.P, D]) as tf.Tensor2D);
  }

  /**
   * One step on pixels: context halo patches [N, C, P, J] (oldest first), the last frame's core patches
   * [N, P, pp], actions [N, A] (or null) -> the next frame's core patches [N, P, pp], unclipped.
   */
  step(context: tf.Tensor4D, current: tf.Tensor3D, actions: tf.Tensor2D | null): tf.Tensor3D {
    const { geometry: g, contextFrames: C, width: D } = this.shape;
    if (!this.embed) throw new Error('spatial: step() is the pixel dynamics; this one reads tokens (use logits())');
    const n = context.shape[0];
    const tubelets = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [n * g.P, C * g.J]) as tf.Tensor2D; // [N*P, C*J]
    const x = tf.reshape(this.embed.apply(tubelets), [n, g.P, D]) as tf.Tensor3D; //                   [N, P, D]
    const delta = this.head.apply(this.trunk(x, actions)); //                                          [N*P, pp]
    return tf.add(current, tf.reshape(delta, [n, g.P, g.pp])) as tf.Tensor3D;
  }

  /** One step on tokens: context token ids [N, C, P] (int32, oldest first), actions [N, A] (or null) -> next-token logits [N, P, K]. */
  logits(ids: tf.Tensor3D, actions: tf.Tensor2D | null): tf.Tensor3D {
    const { geometry: g, contextFrames: C, tokens: K } = this.shape;
    if (!this.tokenEmbed) throw new Error('spatial: logits() is the token dynamics; this one reads pixels (use step())');
    const n = ids.shape[0];
    const shifted = tf.add(ids, tf.tensor3d(Int32Array.from({ length: C }, (_, c) => c * K), [1, C, 1], 'int32')); // id + c * K
    const x = tf.sum(this.tokenEmbed.apply(shifted), 1) as tf.Tensor3D; //                            [N, C, P, D] -> [N, P, D]
    const last = tf.reshape(tf.slice(ids, [0, C - 1, 0], [n, 1, g.P]), [n * g.P]) as tf.Tensor1D; //  [N*P]
    const logits = tf.add(this.head.apply(this.trunk(x, actions)), tf.mul(tf.oneHot(last, K), this.copy!)); // [N*P, K]
    return tf.reshape(logits, [n, g.P, K]) as tf.Tensor3D;
  }

  params(): tf.Variable[] {
    return [...(this.embed ?? this.tokenEmbed!).params(), this.position, ...(this.actions?.params() ?? []), ...paramsOf(this.blocks), ...this.norm.params(), ...this.head.params(), ...(this.copy ? [this.copy] : [])];
  }
  count(): number {
    return this.params().reduce((s, p) => s + p.size, 0);
  }
  dispose(): void {
    for (const layer of [this.embed ?? this.tokenEmbed!, this.norm, this.head, ...this.blocks]) layer.dispose();
    this.actions?.dispose();
    this.position.dispose();
    this.copy?.dispose();
  }
}

export interface LatentActionShape {
  geometry: PatchGeometry;
  contextFrames: number;
  width: number;
  codes: number;
  latentDim: number;
  commitment: number;
}

/**
 * The latent action model (Genie's LAM, made light): the encoder reads each patch of the change frame t+1 -
 * frame t (only the change: a transition where nothing moves then has one code whatever the scene, which
 * the full frames did not give), pools over patches (mean and max: the max keeps a local change, such as a
 * sprite's step, from being averaged away), and quantises to one of `codes` latent actions. The decoder predicts frame t+1 patch
 * by patch from the context frames and the code only, so whatever the context does not tell (the action)
 * must go through the code.
 */
export class LatentActionModel implements Layer {
  readonly encPatch: Mlp;
  readonly encOut: Mlp;
  readonly quantizer: VectorQuantizer;
  readonly decContext: Dense;
  readonly decLatent: Dense;
  readonly decHidden: Dense;
  readonly decOut: Dense;

  constructor(rng: Rng, readonly shape: LatentActionShape) {
    const { geometry: g, contextFrames: C, width: D } = shape;
    this.encPatch = new Mlp(rng, [g.J, D, D]);
    this.encOut = new Mlp(rng, [2 * D, D, shape.latentDim]);
    this.quantizer = new VectorQuantizer(rng, shape.codes, shape.latentDim, shape.commitment);
    this.decContext = new Dense(rng, C * g.J, D);
    this.decLatent = new Dense(rng, shape.latentDim, D);
    this.decHidden = new Dense(rng, D, D, { activation: 'relu' });
    this.decOut = new Dense(rng, D, g.pp, { init: 'zero' });
  }

  /** Pre-quantisation latent of each transition: current and next halo patches [N, P, J] -> [N, latentDim]. */
  encode(current: tf.Tensor3D, next: tf.Tensor3D): tf.Tensor2D {
    const { geometry: g, width: D } = this.shape;
    const n = current.shape[0];
    const input = tf.reshape(tf.sub(next, current), [n * g.P, g.J]); //                               [N*P, J]
    const h = tf.reshape(tf.relu(this.encPatch.apply(input)), [n, g.P, D]); //                        [N, P, D]
    const pooled = tf.concat([tf.mean(h, 1), tf.max(h, 1)], 1) as tf.Tensor2D; //                      [N, 2D]
    return this.encOut.apply(pooled); //                                                                [N, latentDim]
  }

  /** Context halo patches [N, C, P, J], last core patches [N, P, pp], latent [N, latentDim] -> next core patches [N, P, pp]. */
  decode(context: tf.Tensor4D, current: tf.Tensor3D, latent: tf.Tensor2D): tf.Tensor3D {
    const { geometry: g, contextFrames: C, width: D } = this.shape;
    const n = context.shape[0];
    const tubelets = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [n * g.P, C * g.J]) as tf.Tensor2D; // [N*P, C*J]
    const local = tf.reshape(this.decContext.apply(tubelets), [n, g.P, D]); //                         [N, P, D]
    const h = gelu(tf.add(local, tf.reshape(this.decLatent.apply(latent), [n, 1, D]))); //             [N, P, D]
    const delta = this.decOut.apply(this.decHidden.apply(tf.reshape(h, [n * g.P, D]) as tf.Tensor2D)); // [N*P, pp]
    return tf.add(current, tf.reshape(delta, [n, g.P, g.pp])) as tf.Tensor3D;
  }

  params(): tf.Variable[] {
    return paramsOf([this.encPatch, this.encOut, this.quantizer, this.decContext, this.decLatent, this.decHidden, this.decOut]);
  }
  count(): number {
    return this.params().reduce((s, p) => s + p.size, 0);
  }
  dispose(): void {
    for (const p of this.params()) p.dispose();
  }
}
