// The networks: a context encoder (state tokens, attending to the context rows), its EMA copy (the target
// encoder, same class), a predictor from (latent tokens, action) to the next latent tokens, and a readout
// probe from latent tokens to observations. Built from the fast layers of @worldbench/neural.
//
// Shapes: B examples, N state tokens, R context tokens, D = width, S = slots per state token.
import type { Rng } from '@worldbench/core';
import { Dense, Embedding, LayerNorm, Mlp, MultiHeadAttention, attention, constantVariable, dense, normalVariable, paramsOf, tf, type Layer } from '@worldbench/neural';
import type { JepaConfig } from './config';
import { stopGradient } from './ema';
import { contextTableRows } from './inputs';
import type { ActionLayout, ContextLayout, StateLayout } from './layout';
import type { PointerChoice } from './pointer';

/** A batch of encoded states as tensors (see inputs.ts). */
export interface StateInput {
  ids?: tf.Tensor3D; //          [B, N, S] int32, categorical
  x?: tf.Tensor3D; //            [B, N, lags * S] float32, real
  tokenMask: tf.Tensor2D; //     [B, N]
}

/** The whole model's geometry: enough to rebuild every network (saved with the weights). */
export interface Geometry {
  state: StateLayout;
  context: ContextLayout;
  action: ActionLayout | null;
  /** contextRead 'gather': the state token that points into the context, chosen from the training data (pointer.ts); null otherwise. */
  pointer: PointerChoice | null;
}

abstract class Module implements Layer {
  abstract parts(): Layer[];
  params(): tf.Variable[] {
    return paramsOf(this.parts());
  }
  count(): number {
    return this.params().reduce((s, p) => s + p.size, 0);
  }
  dispose(): void {
    for (const p of this.params()) p.dispose();
  }
}

/** A [rows, D] table of learned vectors with N(0, 0.02^2) init (positions, token types). */
class Table extends Module {
  readonly v: tf.Variable;
  constructor(rng: Rng, rows: number, width: number) {
    super();
    this.v = normalVariable(rng, [rows, width], 0.02);
  }
  parts(): Layer[] {
    return [{ params: () => [this.v], count: () => this.v.size, dispose: () => this.v.dispose() }];
  }
}

/**
 * Pre-LN transformer block: self-attention over the state tokens, cross-attention to the context rows
 * (only in blocks built `withContext`), MLP.
 *
 * Cross-attention treats each query independently, so the states of one episode (same context) can share
 * one attention call: x [B * steps, N, D] (episode-major: row b * steps + j) is viewed as [B, steps * N, D]
 * against context [B, R, D], and the context's keys and values are projected once per episode, not per state.
 * (On tfjs-wasm, batched matMuls run at ~0.5 GFLOP/s: attention, not the dense layers, is the cost.)
 */
export class Block extends Module {
  readonly norm1: LayerNorm;
  readonly self: MultiHeadAttention;
  readonly norm2: LayerNorm | null;
  readonly cross: MultiHeadAttention | null;
  readonly norm3: LayerNorm;
  readonly up: Dense;
  readonly down: Dense;

  constructor(rng: Rng, width: number, heads: number, mlpRatio: number, withContext: boolean) {
    super();
    this.norm1 = new LayerNorm(width);
    this.self = new MultiHeadAttention(rng, width, heads);
    this.norm2 = withContext ? new LayerNorm(width) : null;
    this.cross = withContext ? new MultiHeadAttention(rng, width, heads) : null;
    this.norm3 = new LayerNorm(width);
    // ReLU fused into the matMul: tanh (GELU) costs ~40 ns per element on tfjs-wasm
    this.up = new Dense(rng, width, width * mlpRatio, { activation: 'relu' });
    this.down = new Dense(rng, width * mlpRatio, width);
  }

  /** x [B * steps, N, D]; context of the B episodes or null; keyMask [B * steps, N] or null. */
  apply(x: tf.Tensor3D, context: ContextTokens | null, keyMask: tf.Tensor2D | null, steps = 1): tf.Tensor3D {
    const [M, N, D] = x.shape;
    let h = tf.add(x, this.self.apply(this.norm1.apply(x), keyMask ? { keyMask } : {})) as tf.Tensor3D; // [M, N, D]
    if (this.cross && this.norm2 && context) {
      // pointer attention: keys from row positions, values from row contents (the layer's own projections)
      const c = this.cross;
      const q = c.query.apply(tf.reshape(this.norm2.apply(h), [M / steps, steps * N, D]) as tf.Tensor3D); // [B, steps*N, D]
      if (!context.keys) throw new Error('jepa: a block attends to a context embedded without keys');
      const read = attention(q, c.key.apply(context.keys), c.value.apply(context.values), c.heads, context.bias); // [B, steps*N, D]
      h = tf.add(h, tf.reshape(c.output.apply(read), [M, N, D])) as tf.Tensor3D; //                           [M, N, D]
    }
    return tf.add(h, this.down.apply(this.up.apply(this.norm3.apply(h)))) as tf.Tensor3D; // [M, N, D]
  }

  parts(): Layer[] {
    return [this.norm1, this.self, ...(this.norm2 ? [this.norm2] : []), ...(this.cross ? [this.cross] : []), this.norm3, this.up, this.down];
  }
}

/** A context as attention inputs: keys from row positions only, values from row contents. */
export interface ContextTokens {
  keys: tf.Tensor3D | null; // [B, R, D]: LayerNorm(row position), the same for every episode; null when rows are gathered, not attended to
  values: tf.Tensor3D; // [B, R, D]: LayerNorm(sum of the row's slot embeddings + row position)
  /** Added to the attention scores [B*H, steps*N, R] (the encoder's value-as-row-index pointer), if any. */
  bias?: tf.Tensor3D;
}

/**
 * Context rows -> keys and values. Pointer attention: a state token finds a row by its index (the keys are
 * learned row positions, never the row's content), and reads the row's content (the values). A lookup
 * "instruction at pc" then cannot be memorised per program: it is the same map from pc to row for every
 * program, which is what lets it carry over to programs never seen.
 */
export class ContextEmbedding extends Module {
  readonly table: Embedding;
  readonly rows: Table;
  /** Null when the rows are gathered by index (contextRead 'gather'), not found by attention. */
  readonly keyNorm: LayerNorm | null;
  readonly valueNorm: LayerNorm;
  constructor(rng: Rng, layout: ContextLayout, width: number, withKeys = true) {
    super();
    this.table = new Embedding(rng, contextTableRows(layout), width);
    this.rows = new Table(rng, layout.tokens, width);
    this.keyNorm = withKeys ? new LayerNorm(width) : null;
    this.valueNorm = new LayerNorm(width);
  }
  apply(ids: tf.Tensor3D): ContextTokens {
    const [B, R] = ids.shape;
    const D = this.rows.v.shape[1] as number;
    const content = tf.sum(this.table.apply(ids), 2); //                              [B, R, D]
    const values = this.valueNorm.apply(tf.add(content, this.rows.v)) as tf.Tensor3D; // [B, R, D]
    const keys = this.keyNorm ? (tf.broadcastTo(tf.reshape(this.keyNorm.apply(this.rows.v), [1, R, D]), [B, R, D]) as tf.Tensor3D) : null; // [B, R, D]
    return { keys, values };
  }
  parts(): Layer[] {
    return [this.table, this.rows, ...(this.keyNorm ? [this.keyNorm] : []), this.valueNorm];
  }
}

/** State -> tokens [B, N, D]: embedded slots (categorical) or a linear map of the features and the mask flag (real), plus a learned token position. */
export class StateEmbedding extends Module {
  readonly table: Embedding | null;
  readonly features: Dense | null;
  readonly positions: Table;
  constructor(rng: Rng, private readonly layout: StateLayout, width: number) {
    super();
    this.table = layout.kind === 'categorical' ? new Embedding(rng, layout.slots * (layout.vocab + 1), width, 1 / Math.sqrt(layout.slots)) : null;
    this.features = layout.kind === 'real' ? new Dense(rng, layout.lags * layout.slots + 1, width) : null;
    this.positions = new Table(rng, layout.tokens, width);
  }
  apply(input: StateInput): tf.Tensor3D {
    let h: tf.Tensor;
    if (this.table) h = tf.sum(this.table.apply(input.ids as tf.Tensor3D), 2); //   [B, N, D]
    else {
      const flag = tf.expandDims(input.tokenMask, 2); //                             [B, N, 1]
      h = (this.features as Dense).apply(tf.concat([input.x as tf.Tensor3D, flag], 2)); // [B, N, D]
    }
    return tf.add(h, this.positions.v) as tf.Tensor3D;
  }
  parts(): Layer[] {
    return [...(this.table ? [this.table] : []), ...(this.features ? [this.features] : []), this.positions];
  }
}

/**
 * The context encoder (and, as a second instance updated by EMA only, the target encoder): state tokens
 * through `encoderLayers` blocks that attend to the context rows; a final LayerNorm fixes the latents'
 * scale. Output: latent tokens z [B, N, D].
 */
export class Encoder extends Module {
  readonly embed: StateEmbedding;
  readonly context: ContextEmbedding | null;
  /** Pointer strength per (state token, head) [N, H], when the state is categorical (one element per token) and there is a context. */
  readonly pointer: tf.Variable | null;
  readonly blocks: Block[];
  readonly norm: LayerNorm;
  constructor(rng: Rng, private readonly geometry: Geometry, private readonly config: JepaConfig) {
    super();
    const D = config.width;
    this.embed = new StateEmbedding(rng.fork('state'), geometry.state, D);
    this.context = geometry.context.tokens > 0 && config.contextRead === 'encoder' ? new ContextEmbedding(rng.fork('context'), geometry.context, D) : null;
    const pointable = this.context !== null && geometry.state.kind === 'categorical' && geometry.state.slots === 1 && config.pointerInit !== 0;
    this.pointer = pointable ? constantVariable([geometry.state.tokens, config.heads], config.pointerInit) : null;
    // the context is read once, in the first block (it fetches e.g. the instruction at pc); later blocks mix state tokens
    this.blocks = Array.from({ length: config.encoderLayers }, (_, i) => new Block(rng.fork(`block${i}`), D, config.heads, config.mlpRatio, this.context !== null && i === 0));
    this.norm = new LayerNorm(D);
  }

  /**
   * The value-as-row-index pointer: token n with value v adds pointer[n, h] to its score for context row v
   * (every head h), so e.g. the pc token reads the instruction at pc from the first step of training; the
   * learned strengths let other tokens (registers, whose values are not row indices) turn it down.
   * ids [M, N, 1] -> [B*H, steps*N, R], in the order `attention` uses.
   */
  private pointerBias(ids: tf.Tensor3D, steps: number): tf.Tensor3D {
    const [M, N] = ids.shape;
    const B = M / steps, H = this.config.heads, R = this.geometry.context.tokens;
    const hits = tf.oneHot(tf.reshape(ids, [B, steps * N]) as tf.Tensor2D, R); //          [B, steps*N, R] (values >= R: no row)
    const strength = tf.reshape(tf.tile(tf.transpose(this.pointer as tf.Variable), [1, steps]), [1, H, steps * N, 1]); // [1, H, steps*N, 1]
    return tf.reshape(tf.mul(tf.reshape(hits, [B, 1, steps * N, R]), strength), [B * H, steps * N, R]) as tf.Tensor3D;
  }

  /** state: M = B * steps states, episode-major (row b * steps + j); contextIds [B, R, S'] of their B episodes. */
  apply(state: StateInput, contextIds: tf.Tensor3D | null, steps = 1): tf.Tensor3D {
    let ctx = this.context && contextIds ? this.context.apply(contextIds) : null; // keys, values [B, R, D]
    if (ctx && this.pointer && state.ids) ctx = { ...ctx, bias: this.pointerBias(state.ids, steps) };
    let h = this.embed.apply(state); //                                               [M, N, D]
    for (const b of this.blocks) h = b.apply(h, ctx, state.tokenMask, steps);
    return this.norm.apply(h); //                                                     [M, N, D]
  }
  parts(): Layer[] {
    const pointer = this.pointer;
    return [this.embed, ...(this.context ? [this.context] : []), ...(pointer ? [{ params: () => [pointer], count: () => pointer.size, dispose: () => pointer.dispose() }] : []), ...this.blocks, this.norm];
  }
}

/**
 * The predictor: (latent tokens z_t, action a_t, context) -> z_{t+1}. A categorical action (and a real one with
 * realActions 'token') is one more token; a real one with 'linear' is a linear map added to the output. The
 * context (its own embedding of the rows) is read by the pointer token alone, which gets the row at its value
 * added (contextRead 'gather'), or attended to by every token in one block ('predictor', 'encoder').
 * Residual: z_{t+1} = z_t + a zero-initialised projection (+ the linear action map, also zero at the start),
 * so an untrained predictor is persistence in latent space.
 */
export class Predictor extends Module {
  readonly context: ContextEmbedding | null;
  readonly positions: Table;
  readonly actionTable: Embedding | null;
  readonly actionDense: Dense | null;
  /** realActions 'linear': action [A] -> a change of every token's latent [N * D], added to the step's output. */
  readonly actionLinear: Dense | null;
  readonly blocks: Block[];
  readonly norm: LayerNorm;
  readonly out: Dense;
  readonly readFirst: boolean;
  /** Value-pointer strength per (token, head) [N(+1), H] when the predictor's first block attends to the context (contextRead 'predictor'). */
  readonly pointer: tf.Variable | null;
  /** contextRead 'gather': the pointer token and the projection of the row it fetches (a row embedding [D] -> a change of its latent [D]). */
  readonly gather: { token: number; read: Dense } | null;
  private readonly heads: number;
  constructor(rng: Rng, private readonly geometry: Geometry, config: JepaConfig) {
    super();
    const D = config.width;
    const action = geometry.action;
    // 'gather' without a pointer token (no token's row tells anything about the next step in the training data): no context read
    const gathers = config.contextRead === 'gather';
    const gatherToken = gathers ? (geometry.pointer?.token ?? null) : null; //       (no context: no pointer, pointer.ts)
    this.context = geometry.context.tokens > 0 && (!gathers || gatherToken !== null) ? new ContextEmbedding(rng.fork('context'), geometry.context, D, !gathers) : null;
    this.gather = gatherToken !== null ? { token: gatherToken, read: new Dense(rng.fork('read'), D, D) } : null;
    this.actionTable = action?.kind === 'categorical' ? new Embedding(rng.fork('action'), action.size * action.vocab, D, 1) : null;
    // real actions: either one more token (realActions 'token'), or a linear map added to each token's step
    // ('linear'), zero at the start: an action component the training data never varies keeps no effect, and
    // the effect extrapolates to actions outside the training range (hidden-laws' expert only pushes along +x)
    const linear = action?.kind === 'real' && config.realActions === 'linear';
    this.actionDense = action?.kind === 'real' && !linear ? new Dense(rng.fork('action'), action.size, D) : null;
    this.actionLinear = action && linear ? new Dense(rng.fork('action-linear'), action.size, geometry.state.tokens * D, { init: 'zero' }) : null;
    const actionToken = this.actionTable !== null || this.actionDense !== null;
    this.positions = new Table(rng.fork('positions'), geometry.state.tokens + (actionToken ? 1 : 0), D);
    // contextRead 'encoder': the latents hold the instruction at pc; the context is read in the last block, after
    // the step is computed (the instruction at the new pc). 'predictor': the latents are the state alone; the
    // first block reads the instruction at pc through the probe's value pointer (see `apply`). 'gather': no
    // block attends to the context.
    this.readFirst = config.contextRead === 'predictor';
    const at = this.readFirst ? 0 : config.predictorLayers - 1;
    const attends = this.context !== null && this.gather === null;
    this.blocks = Array.from({ length: config.predictorLayers }, (_, i) => new Block(rng.fork(`block${i}`), D, config.heads, config.mlpRatio, attends && i === at));
    this.pointer = this.readFirst && attends ? constantVariable([geometry.state.tokens + (actionToken ? 1 : 0), config.heads], config.pointerInit) : null;
    this.heads = config.heads;
    this.norm = new LayerNorm(D);
    this.out = new Dense(rng.fork('out'), D, D, { init: 'zero' });
  }

  /** Context tokens once per batch (constant over a rollout). */
  embedContext(contextIds: tf.Tensor3D | null): ContextTokens | null {
    return this.context && contextIds ? this.context.apply(contextIds) : null;
  }

  /** Whether a step reads each token's value as the probe reads it (`values` of `apply`). */
  get readsValues(): boolean {
    return this.pointer !== null || this.gather !== null;
  }

  /**
   * What the step reads of each row, constant over a rollout [B, R, D]: the rows projected by the gather's
   * `read` or by the attending block's value projection (ONNX computes it once per forecast; tfjs every step).
   */
  projectContext(ctx: ContextTokens): tf.Tensor3D {
    if (this.gather) return this.gather.read.apply(ctx.values) as tf.Tensor3D;
    const cross = this.blocks.find((b) => b.cross)?.cross;
    if (!cross) throw new Error('jepa: the predictor reads no context');
    return cross.value.apply(ctx.values) as tf.Tensor3D;
  }

  /**
   * One step: z [B, N, D], action ids [B, A] int32 or values [B, A], context tokens [B, R, D], token mask [B, N].
   * `values` [B, N, R]: each token's value as the probe reads it from z (a soft one-hot over the context rows).
   * 'gather': the pointer token p adds sum_r values[b, p, r] * read(row r) to its input. 'predictor': token n
   * adds pointer[n, h] * values[b, n, r] to its score for row r.
   */
  apply(z: tf.Tensor3D, action: tf.Tensor2D | null, ctx: ContextTokens | null, tokenMask: tf.Tensor2D, values: tf.Tensor3D | null = null): tf.Tensor3D {
    const [B, N, D] = z.shape;
    let fetched: tf.Tensor3D | null = null; //                                        [B, 1, D]: the row at the pointer's value, projected
    if (ctx && this.gather && values) {
      const R = values.shape[2];
      fetched = tf.matMul(tf.slice(values, [0, this.gather.token, 0], [B, 1, R]), this.projectContext(ctx)) as tf.Tensor3D; // [B, 1, D]
    }
    if (ctx && this.pointer && values) {
      const R = values.shape[2];
      const T = this.pointer.shape[0] as number; //                                     N or N+1 (the action token points nowhere)
      const v = T === N ? values : (tf.concat([values, tf.zeros([B, 1, R])], 1) as tf.Tensor3D); // [B, T, R]
      const strength = tf.reshape(tf.transpose(this.pointer), [1, this.heads, T, 1]); //  [1, H, T, 1]
      ctx = { ...ctx, bias: tf.reshape(tf.mul(tf.reshape(v, [B, 1, T, R]), strength), [B * this.heads, T, R]) as tf.Tensor3D };
    }
    let h: tf.Tensor3D = z; //                                                        [B, N, D]
    let keyMask = tokenMask; //                                                       [B, N]
    if (action && (this.actionTable || this.actionDense)) {
      const a = this.actionTable ? tf.sum(this.actionTable.apply(action), 1) : (this.actionDense as Dense).apply(action); // [B, D]
      h = tf.concat([h, tf.reshape(a, [B, 1, D])], 1) as tf.Tensor3D; //              [B, N+1, D]
      keyMask = tf.concat([tokenMask, tf.ones([B, 1])], 1) as tf.Tensor2D; //        [B, N+1]
    }
    h = tf.add(h, this.positions.v) as tf.Tensor3D;
    if (fetched) h = tf.add(h, tf.mul(fetched, this.tokenSelector(h.shape[1]))) as tf.Tensor3D; // the fetched row, at the pointer token only
    for (const b of this.blocks) h = b.apply(h, this.gather ? null : ctx, keyMask);
    if (h.shape[1] !== N) h = tf.slice(h, [0, 0, 0], [B, N, D]); //                  [B, N, D] (drop the action token)
    const next = tf.add(z, this.out.apply(this.norm.apply(h))) as tf.Tensor3D; //     [B, N, D]
    if (!this.actionLinear || !action) return next;
    // a plain matMul: the kit's fused dense ([B, A] x [A, N * D]) aborted tfjs-wasm in the gradient of a rollout
    const { w, b } = this.actionLinear;
    return tf.add(next, tf.reshape(tf.add(tf.matMul(action, w as tf.Tensor2D), b), [B, N, D])) as tf.Tensor3D;
  }

  /** [1, T, 1]: 1 at the pointer token, 0 elsewhere. */
  tokenSelector(T: number): tf.Tensor3D {
    const token = (this.gather as { token: number }).token;
    return tf.tensor3d(Array.from({ length: T }, (_, n) => (n === token ? 1 : 0)), [1, T, 1]);
  }

  parts(): Layer[] {
    return [
      ...(this.context ? [this.context] : []),
      ...(this.gather ? [this.gather.read] : []),
      this.positions,
      ...(this.actionTable ? [this.actionTable] : []),
      ...(this.actionDense ? [this.actionDense] : []),
      ...(this.actionLinear ? [this.actionLinear] : []),
      ...this.blocks,
      this.norm,
      this.out,
      ...(this.pointer ? [variableLayer(this.pointer)] : []),
    ];
  }
}

function variableLayer(v: tf.Variable): Layer {
  return { params: () => [v], count: () => v.size, dispose: () => v.dispose() };
}

/**
 * The readout probe, shared by all tokens, trained only on frozen latents: latent token [D] -> per slot,
 * logits over the vocab (categorical views); for real views either the standardised state ('state'), or the
 * change from a start latent ('change': output (x - x_start) / deltaStd). The change readout is odd in the
 * latent change d = z - z_start: mlp([z_start, d]) - mlp([z_start, -d]), so no latent change reads as no change
 * (persistence) and a reversed latent change as the reversed change: the readout of a push along -x, never
 * seen in training (hidden-laws' expert pushes only along +x), mirrors that of a push along +x.
 */
export class Probe extends Module {
  readonly mlp: Mlp;
  readonly change: boolean;
  constructor(rng: Rng, private readonly layout: StateLayout, config: JepaConfig) {
    super();
    this.change = layout.kind === 'real' && config.realReadout === 'change';
    const outputs = layout.kind === 'categorical' ? layout.slots * layout.vocab : layout.slots;
    const inputs = this.change ? 2 * config.width : config.width;
    this.mlp = new Mlp(rng, config.probeHidden > 0 ? [inputs, config.probeHidden, outputs] : [inputs, outputs], 'relu');
  }
  /** z [B, N, D] (and start [B, N, D] for 'change') -> categorical: logits [B, N, S, V]; real: [B, N, S]. */
  apply(z: tf.Tensor3D, start?: tf.Tensor3D): tf.Tensor {
    const [B, N] = z.shape;
    if (!this.change) {
      const y = this.mlp.apply(z); //                                                  [B, N, S*V] or [B, N, S]
      return this.layout.kind === 'categorical' ? tf.reshape(y, [B, N, this.layout.slots, this.layout.vocab]) : y;
    }
    if (!start) throw new Error('jepa probe: the change readout needs the start latent');
    const d = tf.sub(z, start); //                                                     [B, N, D]
    const both = this.mlp.apply(tf.concat([tf.concat([start, d], 2), tf.concat([start, tf.neg(d)], 2)], 0)); // [2B, N, S]
    const S = both.shape[2] as number;
    return tf.sub(tf.slice(both, [0, 0, 0], [B, N, S]), tf.slice(both, [B, 0, 0], [B, N, S])); // [B, N, S]
  }
  /**
   * Each token's observed value as a one-hot over the context rows, from its embedding ids [B, N, S] (slot 0;
   * its id is the value): [B, N, R], a zero row for a value that is no row (>= R, or the pad value). The
   * predictor's first step reads these, exact, where later steps read `valuePointer` of predicted latents.
   */
  observedValues(ids: tf.Tensor3D, rows: number): tf.Tensor3D {
    const [B, N] = ids.shape;
    const v = tf.reshape(tf.slice(ids, [0, 0, 0], [B, N, 1]), [B, N]) as tf.Tensor2D; //  [B, N]
    const rowOf = tf.where(tf.less(v, this.layout.vocab), v, tf.fill([B, N], rows, 'int32')); // the pad value V reads no row
    return tf.oneHot(rowOf, rows).toFloat() as tf.Tensor3D; //                          [B, N, R]
  }

  /**
   * Each token's value as the probe reads it, with the probe's weights frozen (stop-gradient: the predictor
   * may use the reading, never train the probe): softmax over the vocab of slot 0, rows 0..R-1 -> [B, N, R].
   */
  valuePointer(z: tf.Tensor3D, rows: number): tf.Tensor3D {
    const [B, N, D] = z.shape;
    let h: tf.Tensor2D = tf.reshape(z, [B * N, D]);
    for (const layer of this.mlp.layers) h = dense(h, stopGradient(layer.w) as tf.Tensor2D, stopGradient(layer.b) as tf.Tensor1D, layer.activation);
    const V = this.layout.vocab;
    const p = tf.softmax(tf.slice(h, [0, 0], [B * N, V])); //                          [B*N, V] (slot 0)
    const R = Math.min(rows, V);
    const cut = tf.slice(p, [0, 0], [B * N, R]);
    const padded = R === rows ? cut : tf.concat([cut, tf.zeros([B * N, rows - R])], 1);
    return tf.reshape(padded, [B, N, rows]) as tf.Tensor3D;
  }
  parts(): Layer[] {
    return [this.mlp];
  }
}

/** Rows of a data tensor (int32 or float32) at `idx`: a minibatch, no gradient (gatherND: fast on wasm). */
export function rowsOf<T extends tf.Tensor>(data: tf.Tensor, idx: Int32Array): T {
  return tf.tidy(() => tf.gatherND(data, tf.tensor2d(idx, [idx.length, 1], 'int32'))) as T;
}
