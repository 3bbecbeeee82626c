// The networks: the action encoder (true or latent actions -> a conditioning vector), the dynamics model
// (a transformer over the patch tokens of the last C frames), and the latent action model (an encoder of
// (frame t, frame t+1) into one of a few codes, and a light decoder that needs the code to predict t+1).
// Shapes: N examples, C context frames, P patches per frame, J values per halo patch, pp per core patch, D width.
// No convolutions (tfjs-wasm cannot train them): every spatial operation is a gather plus dense layers. Each
// network is written once, as `apply`-style methods against @worldbench/neural's Ops: tfjs runs them (training,
// forecasts with forecastBackend 'tfjs'), onnx.ts traces the rollout step into the graph ORT forecasts with.

import type { Rng, TensorSpec } from '@worldbench/core';
import {
  Dense,
  Embedding,
  LayerNorm,
  Mlp,
  Module,
  TransformerBlock,
  constantVariable,
  normalVariable,
  type tf,
  type Ops,
} from '@worldbench/neural';
import { NeighbourhoodAttention, neighbourhood } from './attention';
import type { PatchGeometry } from './patches';
import { VectorQuantizer } from './vq';

/** How actions enter the dynamics. */
export type ActionKind =
  | { kind: 'real'; size: number } //                 a linear embedding of the action vector
  //   one embedding table over (element, value) pairs, summed over elements
  | { kind: 'int'; size: number; vocab: number }
  | { kind: 'latent'; codes: number } //              an embedding table of latent-action codes
  | { kind: 'none' };

export function actionKindOf(action: TensorSpec | null, actionFree: boolean, latentCodes: number): ActionKind {
  if (!action) return { kind: 'none' };
  if (actionFree) return { kind: 'latent', codes: latentCodes };
  const size = action.shape.reduce((a, b) => a * b, 1);
  return action.kind === 'int' || action.kind === 'token'
    ? { kind: 'int', size, vocab: action.vocab as number }
    : { kind: 'real', size };
}

/**
 * Actions as the encoder takes them: real values [N, A] (float32), or ids [N, A] (int32: element * vocab + value, or
 * latent codes with A = 1).
 */
export class ActionEncoder extends Module {
  readonly dense: Dense | null = null;
  readonly table: Embedding | null = null;

  constructor(
    rng: Rng,
    readonly action: ActionKind,
    width: number,
  ) {
    super();
    if (action.kind === 'real') this.dense = new Dense(rng, action.size, width);
    else if (action.kind === 'int') this.table = new Embedding(rng, action.size * action.vocab, width, 0.5);
    else if (action.kind === 'latent') this.table = new Embedding(rng, action.codes, width, 0.5);
  }

  /** [N, A] -> [N, D]. */
  apply<T>(ops: Ops<T>, actions: T): T {
    if (this.dense) return this.dense.apply(ops, actions);
    if (this.table) return ops.sum(this.table.apply(ops, actions), 1); // [N, A, D] -> [N, D]
    throw new Error('spatial: this model has no actions to encode');
  }
  parts() {
    return { dense: this.dense, table: this.table };
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
  /**
   * 0: pixel tubelets in, each patch's change out. K > 0: token ids of a K-code tokenizer in, logits over the K codes
   * out.
   */
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
export class Dynamics extends Module {
  readonly embed: Dense | null = null;
  readonly tokenEmbed: Embedding | null = null;
  readonly copy: tf.Variable | null = null; // [1]
  readonly position: tf.Variable; // [P, D]
  readonly actions: ActionEncoder | null;
  readonly blocks: TransformerBlock[];
  readonly norm: LayerNorm;
  readonly head: Dense;

  constructor(
    rng: Rng,
    readonly shape: DynamicsShape,
  ) {
    super();
    const { geometry: g, contextFrames: C, width: D, tokens: K } = shape;
    if (K > 0) {
      this.tokenEmbed = new Embedding(rng, C * K, D, 0.5);
      this.copy = constantVariable([1], Math.log(K));
    } else this.embed = new Dense(rng, C * g.J, D);
    this.position = normalVariable(rng, [g.P, D], 0.02);
    this.actions = shape.action.kind === 'none' ? null : new ActionEncoder(rng, shape.action, D);
    const hood = neighbourhood(g.rows, g.cols, shape.radius, g.wrap);
    // pre-norm blocks of neighbourhood attention within the frame (its output projection starts at 0) and a per-token
    // ReLU MLP (GELU: the same fit here, and its custom op tripled the MLP's time on tfjs-wasm)
    this.blocks = Array.from(
      { length: shape.depth },
      () => new TransformerBlock(rng, new NeighbourhoodAttention(rng, D, shape.heads, hood), D, shape.mlpRatio * D),
    );
    this.norm = new LayerNorm(D);
    this.head = new Dense(rng, D, K > 0 ? K : g.pp, { init: 'zero' });
  }

  /**
   * Embedded tokens [n, P, D] with position and action added, through the blocks as token rows [n*P, D] (as the
   * dense layers see them; ORT then fuses each MatMul and bias add into one Gemm) and the final norm -> [n*P, D]: what
   * the head reads, and the disagreement heads too.
   */
  private trunk<T>(ops: Ops<T>, x: T, actions: T | null): T {
    const D = this.shape.width;
    x = ops.add(x, ops.param(this.position));
    if (this.actions && actions !== null) x = ops.add(x, ops.reshape(this.actions.apply(ops, actions), [0, 1, D]));
    let rows = ops.reshape(x, [-1, D]); //                                                    [n*P, D]
    for (const block of this.blocks) rows = block.apply(ops, rows);
    return this.norm.apply(ops, rows);
  }

  /**
   * The pixel dynamics' token features: context halo patches [n, C, P, J] (oldest first), actions [n, A] (or null)
   * -> the normalised trunk output [n*P, D] the head reads.
   */
  features<T>(ops: Ops<T>, context: T, actions: T | null): T {
    const { geometry: g, contextFrames: C, width: D } = this.shape;
    if (!this.embed) throw new Error('spatial: features() is the pixel dynamics; this one reads tokens (use logits())');
    const tubelets = ops.reshape(ops.transpose(context, [0, 2, 1, 3]), [-1, C * g.J]); //          [n*P, C*J]
    const x = ops.reshape(this.embed.apply(ops, tubelets), [-1, g.P, D]); //                       [n, P, D]
    return this.trunk(ops, x, actions);
  }

  /** The next frame's core patches [n, P, pp], unclipped, from the features [n*P, D] and the last frame [n, P, pp]. */
  stepFromFeatures<T>(ops: Ops<T>, features: T, current: T): T {
    const g = this.shape.geometry;
    const delta = ops.reshape(this.head.apply(ops, features), [-1, g.P, g.pp]); //                 [n, P, pp]
    return ops.add(delta, current);
  }

  /**
   * One step on pixels: context halo patches [n, C, P, J] (oldest first), the last frame's core patches
   * [n, P, pp], actions [n, A] (or null) -> the next frame's core patches [n, P, pp], unclipped.
   */
  step<T>(ops: Ops<T>, context: T, current: T, actions: T | null): T {
    return this.stepFromFeatures(ops, this.features(ops, context, actions), current);
  }

  /**
   * One step on tokens: context token ids [n, C, P] (int32, oldest first), actions [n, A] (or null) -> next-token
   * logits [n, P, K].
   */
  logits<T>(ops: Ops<T>, ids: T, actions: T | null): T {
    const { geometry: g, contextFrames: C, tokens: K } = this.shape;
    if (!this.tokenEmbed || !this.copy)
      throw new Error('spatial: logits() is the token dynamics; this one reads pixels (use step())');
    const shifted = ops.add(
      ids,
      ops.constant(
        Int32Array.from({ length: C }, (_, c) => c * K),
        [1, C, 1],
      ),
    ); // id + c * K
    //                                  [n, C, P, D] -> [n, P, D]
    const x = ops.sum(this.tokenEmbed.apply(ops, shifted), 1);
    const last = ops.reshape(ops.slice(ids, 1, C - 1, C), [-1]); //                                 [n*P]
    const logits = ops.add(
      this.head.apply(ops, this.trunk(ops, x, actions)),
      ops.mul(ops.oneHot(last, K), ops.param(this.copy)),
    ); // [n*P, K]
    return ops.reshape(logits, [-1, g.P, K]);
  }

  parts() {
    const { embed, tokenEmbed, position, actions, blocks, norm, head, copy } = this;
    return { embed, tokenEmbed, position, actions, blocks, norm, head, copy };
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
 * sprite's step, from being averaged away), and quantises to one of `codes` latent actions. The decoder predicts frame
 * t+1 patch
 * by patch from the context frames and the code only, so whatever the context does not tell (the action)
 * must go through the code.
 */
export class LatentActionModel extends Module {
  readonly encPatch: Mlp;
  readonly encOut: Mlp;
  readonly quantizer: VectorQuantizer;
  readonly decContext: Dense;
  readonly decLatent: Dense;
  readonly decHidden: Dense;
  readonly decOut: Dense;

  constructor(
    rng: Rng,
    readonly shape: LatentActionShape,
  ) {
    super();
    const { geometry: g, contextFrames: C, width: D } = shape;
    this.encPatch = new Mlp(rng, [g.J, D, D]);
    this.encOut = new Mlp(rng, [2 * D, D, shape.latentDim]);
    this.quantizer = new VectorQuantizer(rng, shape.codes, shape.latentDim, shape.commitment);
    this.decContext = new Dense(rng, C * g.J, D);
    this.decLatent = new Dense(rng, shape.latentDim, D);
    this.decHidden = new Dense(rng, D, D, { activation: 'relu' });
    this.decOut = new Dense(rng, D, g.pp, { init: 'zero' });
  }

  /** Pre-quantisation latent of each transition: current and next halo patches [n, P, J] -> [n, latentDim]. */
  encode<T>(ops: Ops<T>, current: T, next: T): T {
    const { geometry: g, width: D } = this.shape;
    const input = ops.reshape(ops.sub(next, current), [-1, g.J]); //                                 [n*P, J]
    const h = ops.reshape(ops.relu(this.encPatch.apply(ops, input)), [-1, g.P, D]); //               [n, P, D]
    const pooled = ops.concat([ops.mean(h, 1), ops.max(h, 1)], 1); //                                [n, 2D]
    return this.encOut.apply(ops, pooled); //                                                        [n, latentDim]
  }

  /**
   * Context halo patches [n, C, P, J], last core patches [n, P, pp], latent [n, latentDim] -> next core patches [n, P,
   * pp].
   */
  decode<T>(ops: Ops<T>, context: T, current: T, latent: T): T {
    const { geometry: g, contextFrames: C, width: D } = this.shape;
    const tubelets = ops.reshape(ops.transpose(context, [0, 2, 1, 3]), [-1, C * g.J]); //          [n*P, C*J]
    const local = ops.reshape(this.decContext.apply(ops, tubelets), [-1, g.P, D]); //              [n, P, D]
    const h = ops.gelu(ops.add(local, ops.reshape(this.decLatent.apply(ops, latent), [0, 1, D]))); // [n, P, D]
    const delta = this.decOut.apply(ops, this.decHidden.apply(ops, ops.reshape(h, [-1, D]))); //      [n*P, pp]
    return ops.add(current, ops.reshape(delta, [-1, g.P, g.pp]));
  }

  parts() {
    const { encPatch, encOut, quantizer, decContext, decLatent, decHidden, decOut } = this;
    return { encPatch, encOut, quantizer, decContext, decLatent, decHidden, decOut };
  }
}
