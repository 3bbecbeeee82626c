// The networks: a context encoder (state tokens -> latents), its EMA copy (the target encoder, same class), a
// predictor from (latent tokens, action, program) to the next latent tokens, and a readout probe from latent
// tokens to observations; and the rollout that training, forecasts and diagnostics share. Each network is
// written once, as `apply(ops, ...)` against @worldbench/neural's Ops: tfjs runs it (training, and forecasts
// with forecastBackend 'tfjs'), onnx.ts traces it into the graphs ONNX Runtime forecasts with.
//
// Shapes: B examples, N state tokens, R context rows, D = width, S = slots per state token, V = the vocab.
import { createRng, type Rng } from '@worldbench/core';
import {
  Dense,
  Embedding,
  LayerNorm,
  LocalMixing,
  Mlp,
  Module,
  constantVariable,
  type tf,
  MultiHeadAttention,
  TransformerBlock,
  type Ops,
} from '@worldbench/neural';
import type { JepaConfig } from './config';
import { initTargetEncoder } from './ema';
import { contextTableRows } from './inputs';
import { GRID_NEIGHBOURS, gridNeighbours, type ActionLayout, type ContextLayout, type StateLayout } from './layout';
import type { PointerChoice } from './pointer';
import {
  BoundHead,
  BoundTable,
  boundContextTable,
  boundFeatures,
  boundStateTable,
  Readout,
  ValueEmbedding,
} from './token-space';

/** A batch of encoded states as the runtime's values (see inputs.ts). */
export interface StateInput<T> {
  ids?: T; //          [B, N, S] int32, categorical
  x?: T; //            [B, N, lags * S] float32, real
  tokenMask: T; //     [B, N]
}

/** The whole model's geometry: enough to rebuild every network (saved with the weights). */
export interface Geometry {
  state: StateLayout;
  context: ContextLayout;
  action: ActionLayout | null;
  /** The state token that points into the context, chosen from the training data (pointer.ts); null without one. */
  pointer: PointerChoice | null;
}

export interface Networks {
  online: Encoder;
  target: Encoder;
  predictor: Predictor;
  probe: Probe;
  /** Training only (not saved): reads s_t from the online encoder's latents, its loss reaching the encoder. */
  anchor: Probe | null;
}

/**
 * Zeroes the predictor's embedding rows of categorical actions the training data never shows (`seen`: the rows it
 * does; null for real or absent actions), so such an action changes nothing at forecast time
 * (Embedding.zeroRowsExcept).
 */
export function zeroUnseenActions(nets: Networks, seen: Set<number> | null): void {
  if (seen !== null) nets.predictor.actionTable?.zeroRowsExcept(seen);
}

/**
 * Builds the four networks; the target encoder starts as a copy of the online one. With `trunk` (a generalist's
 * parts every world shares, `buildTrunk`), the networks are this world's: its own input and output projections
 * around the trunk's module instances, so that training one world's networks trains the trunk for all.
 */
export function buildNetworks(geometry: Geometry, config: JepaConfig, seed: string, trunk?: Trunk): Networks {
  const rng = createRng(seed);
  const online = new Encoder(rng.fork('encoder'), geometry, config, trunk?.online);
  const target = new Encoder(rng.fork('encoder'), geometry, config, trunk?.target);
  initTargetEncoder(target.params(), online.params());
  return {
    online,
    target,
    predictor: new Predictor(rng.fork('predictor'), geometry, config, trunk?.predictor),
    probe: new Probe(rng.fork('probe'), geometry.state, config, trunk?.probe ?? undefined, trunk?.readout),
    anchor:
      config.anchorWeight > 0
        ? new Probe(rng.fork('anchor'), geometry.state, { ...config, realReadout: 'state' }, trunk?.anchor ?? undefined)
        : null,
  };
}

/**
 * What every world of a generalist shares (generalist.ts): the encoder's value embeddings, blocks and norm (and the
 * target encoder's, its EMA copy), the predictor's position map, blocks, norm and output projection, the first (hidden)
 * layer of the probe and the readout behind it (token-space.ts), and the anchor's hidden layer. Every world reads each
 * of these whole (census.ts counts what it reads): no table of rows some worlds read and others not. What is left per
 * world: the slots its tables bind the shared values to (state, context, probe keys), its token positions, the action's
 * embedding or map, the pointer's read of the program, the change readout's input gains, the probe's output bias and
 * the anchor's last layer.
 */
export interface Trunk {
  online: EncoderTrunk;
  target: EncoderTrunk;
  predictor: PredictorTrunk;
  /** The probe's hidden layer, [width, probeHidden]: every probe reads one latent [D] (the change readout too). */
  probe: Dense;
  /** The probe's query layer [probeHidden, width] and the values' keys every world's probe reads its outputs with. */
  readout: Readout;
  /** The anchor's hidden layer, [width, probeHidden]; null without an anchor. */
  anchor: Dense | null;
}

export interface EncoderTrunk {
  /** The values every world's state tokens are made of (token-space.ts). */
  values: ValueEmbedding;
  blocks: TransformerBlock[];
  norm: LayerNorm;
}

export interface PredictorTrunk {
  /** The online encoder's values: the program's rows (a context) are made of them too. */
  values: ValueEmbedding;
  /**
   * Token n's position: this map [D, D] of fixed sinusoidal features of n (`sinusoidalPositions`), zero at the start as
   * a learned table starts near zero; every world reads all of it, whatever its token count.
   */
  positions: Dense;
  blocks: TransformerBlock[];
  norm: LayerNorm;
  out: Dense;
}

/** The value space of a generalist's worlds: the largest categorical vocab (0: none), the most real lags (0: none). */
export interface ValueSpace {
  vocab: number;
  lags: number;
}

/**
 * A generalist's shared parts: the value embeddings of `space` (token-space.ts), attention blocks of width `width` (no
 * grid read cell by cell: its blocks would have another width), the predictor's position map, the probe's hidden layer
 * (reading one latent) and the readout behind it.
 */
export function buildTrunk(config: JepaConfig, space: ValueSpace, seed: string): Trunk {
  if (config.probeHidden === 0)
    throw new Error("jepa generalist: the shared readout reads the probe's hidden layer; set probeHidden > 0");
  const rng = createRng(seed);
  const D = config.width;
  const encoder = (r: Rng): EncoderTrunk => ({
    values: new ValueEmbedding(r.fork('values'), space.vocab, space.lags, D),
    blocks: Array.from({ length: config.encoderLayers }, (_, i) => block(r.fork(`block${i}`), {}, config)),
    norm: new LayerNorm(D),
  });
  const hidden = (r: Rng, inputs: number) =>
    new Dense(r, inputs, config.probeHidden, { activation: 'relu', init: 'he' });
  const predictor = rng.fork('predictor');
  const online = encoder(rng.fork('encoder'));
  return {
    online,
    target: encoder(rng.fork('encoder')),
    predictor: {
      values: online.values,
      positions: new Dense(predictor.fork('positions'), D, D, { init: 'zero' }),
      blocks: Array.from({ length: config.predictorLayers }, (_, i) => block(predictor.fork(`block${i}`), {}, config)),
      norm: new LayerNorm(D),
      out: new Dense(predictor.fork('out'), D, D, { init: 'zero' }),
    },
    probe: hidden(rng.fork('probe'), D),
    readout: new Readout(rng.fork('readout'), config.probeHidden, space.vocab, space.lags > 0, D),
    anchor: config.anchorWeight > 0 ? hidden(rng.fork('anchor'), D) : null,
  };
}

/** The width D of every token of this state layout: `cellWidth` for a grid read cell by cell, else `width`. */
export function widthOf(layout: Pick<StateLayout, 'grid'>, config: JepaConfig): number {
  return layout.grid ? config.cellWidth : config.width;
}

/**
 * Pre-LN block over the tokens, then a ReLU MLP: self-attention (padding keys masked), or for a grid read cell by cell
 * local mixing of each cell's 3 x 3 neighbourhood (weight-shared, as a convolution; cost linear in the cells).
 */
function block(rng: Rng, layout: Pick<StateLayout, 'grid'>, config: JepaConfig): TransformerBlock {
  const D = widthOf(layout, config);
  const mixing = layout.grid
    ? new LocalMixing(rng, D, gridNeighbours(layout.grid).indices, GRID_NEIGHBOURS)
    : new MultiHeadAttention(rng, D, config.heads);
  return new TransformerBlock(rng, mixing, D, D * config.mlpRatio);
}

/**
 * State -> tokens [B, N, D]: embedded slots (categorical) or a linear map of the features and the mask flag (real),
 * each its own table or, with a generalist's `values`, bound from the shared ones (token-space.ts); plus a learned
 * token position; a grid read cell by cell gets, instead of a position, a linear map of which of
 * its neighbours lie across an edge (layout.ts `gridNeighbours`): the same everywhere inside the grid, so the
 * rule it learns is translation-invariant, and an edge can be learned as a wrap or a wall.
 */
export class StateEmbedding extends Module {
  readonly table: Embedding | BoundTable | null;
  readonly features: Dense | BoundTable | null;
  readonly positions: Embedding | null;
  readonly edges: Dense | null;
  private readonly crossings: Float32Array | null; // [N * 9]

  constructor(rng: Rng, layout: StateLayout, width: number, values?: ValueEmbedding) {
    super();
    this.table =
      layout.kind !== 'categorical'
        ? null
        : values
          ? boundStateTable(rng, layout, shared(values.categorical, 'categorical'))
          : new Embedding(rng, layout.slots * (layout.vocab + 1), width, 1 / Math.sqrt(layout.slots));
    this.features =
      layout.kind !== 'real'
        ? null
        : values
          ? boundFeatures(rng, layout, shared(values.real, 'real'))
          : new Dense(rng, layout.lags * layout.slots + 1, width);
    this.positions = layout.grid ? null : new Embedding(rng, layout.tokens, width);
    this.crossings = layout.grid ? gridNeighbours(layout.grid).crossings : null;
    this.edges = layout.grid ? new Dense(rng, GRID_NEIGHBOURS, width) : null;
  }

  apply<T>(ops: Ops<T>, input: StateInput<T>): T {
    const features = () => ops.concat([input.x as T, ops.reshape(input.tokenMask, [0, 0, 1])], 2); //  [B, N, L S + 1]
    const h = this.table
      ? ops.sum(this.table.apply(ops, input.ids as T), 2) //                                        [B, N, D]
      : this.features instanceof BoundTable
        ? this.features.map(ops, features())
        : (this.features as Dense).apply(ops, features());
    if (this.positions) return ops.add(h, ops.param(this.positions.table));
    const crossings = this.crossings as Float32Array;
    const edges = ops.constant(crossings, [crossings.length / GRID_NEIGHBOURS, GRID_NEIGHBOURS]); //       [N, 9]
    return ops.add(h, (this.edges as Dense).apply(ops, edges)); //                                          [B, N, D]
  }
  parts() {
    return { table: this.table, features: this.features, positions: this.positions, edges: this.edges };
  }
}

/**
 * The context encoder (and, as a second instance updated by EMA only, the target encoder): state tokens through
 * `encoderLayers` blocks; a final LayerNorm fixes the latents' scale. Output: latent tokens z [B, N, D].
 */
export class Encoder extends Module {
  readonly embed: StateEmbedding;
  readonly blocks: TransformerBlock[];
  readonly norm: LayerNorm;

  /** `trunk`: blocks and norm shared with other worlds' encoders (a generalist's); else its own. */
  constructor(rng: Rng, geometry: Geometry, config: JepaConfig, trunk?: EncoderTrunk) {
    super();
    const D = widthOf(geometry.state, config);
    this.embed = new StateEmbedding(rng.fork('state'), geometry.state, D, trunk?.values);
    this.blocks =
      trunk?.blocks ??
      Array.from({ length: config.encoderLayers }, (_, i) => block(rng.fork(`block${i}`), geometry.state, config));
    this.norm = trunk?.norm ?? new LayerNorm(D);
  }

  apply<T>(ops: Ops<T>, state: StateInput<T>): T {
    let h = this.embed.apply(ops, state); //                                             [B, N, D]
    for (const b of this.blocks) h = b.apply(ops, h, state.tokenMask);
    return this.norm.apply(ops, h); //                                                   [B, N, D]
  }
  parts() {
    return { embed: this.embed, blocks: this.blocks, norm: this.norm };
  }
}

/**
 * Context rows -> [B, R, D]: LayerNorm(sum of the row's slot embeddings + a learned row position); the slot
 * embeddings its own table or, with a generalist's shared categorical `values`, bound from them (token-space.ts).
 */
export class ContextEmbedding extends Module {
  readonly table: Embedding | BoundTable;
  readonly rows: Embedding;
  readonly norm: LayerNorm;

  constructor(rng: Rng, layout: ContextLayout, width: number, values?: ValueEmbedding) {
    super();
    this.table = values
      ? boundContextTable(rng, layout, shared(values.categorical, 'categorical'))
      : new Embedding(rng, contextTableRows(layout), width);
    this.rows = new Embedding(rng, layout.tokens, width);
    this.norm = new LayerNorm(width);
  }

  /** ids [B, R, S'] int32 -> [B, R, D]. */
  apply<T>(ops: Ops<T>, ids: T): T {
    return this.norm.apply(ops, ops.add(ops.sum(this.table.apply(ops, ids), 2), ops.param(this.rows.table)));
  }
  parts() {
    return { table: this.table, rows: this.rows, norm: this.norm };
  }
}

/**
 * The predictor: (latent tokens z_t, action a_t, context) -> z_{t+1}. A categorical action is one more token (on a
 * grid read cell by cell: its embedding added to every cell, which has no attention to reach a token); a real
 * action is a linear map, zero at the start, added to the output. The context (its own embedding of the
 * rows) is read by the pointer token alone: each step it gets the row at its value added to its input, projected.
 * Residual: z_{t+1} = z_t + a zero-initialised projection (+ the action map), so an untrained predictor is
 * persistence in latent space.
 */
export class Predictor extends Module {
  readonly context: ContextEmbedding | null;
  /** The pointer token and the projection of the row it fetches (a row embedding [D] -> a change of its latent [D]). */
  readonly gather: { token: number; read: Dense } | null;
  /**
   * A learned position per token (and the action token), or a generalist's shared map of sinusoidal features; none on
   * a grid read cell by cell (translation-invariant).
   */
  readonly positions: Embedding | Dense | null;
  readonly actionTable: Embedding | null;
  /** Real actions: action [A] -> a change of every token's latent [N * D], added to the step's output. */
  readonly actionLinear: Dense | null;
  readonly blocks: TransformerBlock[];
  readonly norm: LayerNorm;
  readonly out: Dense;

  /** `trunk`: position map, blocks, norm and output projection shared with other worlds' predictors (a generalist). */
  constructor(
    rng: Rng,
    private readonly geometry: Geometry,
    private readonly config: JepaConfig,
    trunk?: PredictorTrunk,
  ) {
    super();
    const D = widthOf(geometry.state, config),
      N = geometry.state.tokens,
      action = geometry.action;
    // no pointer token (no token's row tells anything about the next step in the training data, or no context): no
    // context read
    const token = geometry.context.tokens > 0 ? (geometry.pointer?.token ?? null) : null;
    this.context =
      token !== null ? new ContextEmbedding(rng.fork('context'), geometry.context, D, trunk?.values) : null;
    this.gather = token !== null ? { token, read: new Dense(rng.fork('read'), D, D) } : null;
    // categorical actions (a token, or added to every cell of a grid) start at unit scale, as loud as the state from
    // the first step: started at zero, the action added to sprite-world's cells never grew, because an expert's
    // action is a function of the state and the state alone explained its moves (docs/experiments: jepa grid
    // schedule); an action the training data never shows has its row zeroed (zeroUnseenActions), so it changes nothing
    this.actionTable =
      action?.kind === 'categorical' ? new Embedding(rng.fork('action'), action.size * action.vocab, D, 1) : null;
    this.actionLinear =
      action?.kind === 'real' ? new Dense(rng.fork('action-linear'), action.size, N * D, { init: 'zero' }) : null;
    const tokens = N + (this.actionTable ? 1 : 0);
    this.positions = geometry.state.grid ? null : (trunk?.positions ?? new Embedding(rng.fork('positions'), tokens, D));
    this.blocks =
      trunk?.blocks ??
      Array.from({ length: config.predictorLayers }, (_, i) => block(rng.fork(`block${i}`), geometry.state, config));
    this.norm = trunk?.norm ?? new LayerNorm(D);
    this.out = trunk?.out ?? new Dense(rng.fork('out'), D, D, { init: 'zero' });
  }

  /**
   * Context ids [B, R, S'] -> the rows as the predictor embeds them [B, R, D] (once per rollout), or null when it reads
   * none.
   */
  embedContext<T>(ops: Ops<T>, contextIds: T | null): T | null {
    return this.context && contextIds !== null ? this.context.apply(ops, contextIds) : null;
  }

  /**
   * The embedded rows as the step reads them [B, R, D], the gather's projection: constant over a rollout (ONNX computes
   * it once).
   */
  project<T>(ops: Ops<T>, embedded: T): T {
    return (this.gather as { read: Dense }).read.apply(ops, embedded);
  }

  /** One step with the embedded context: step() on its projection (made every step: the training graph of tfjs). */
  apply<T>(ops: Ops<T>, z: T, action: T | null, embedded: T | null, tokenMask: T, values: T | null): T {
    return this.step(
      ops,
      z,
      action,
      embedded !== null && values !== null ? this.project(ops, embedded) : null,
      tokenMask,
      values,
    );
  }

  /**
   * One step: z [B, N, D], action ids [B, A] int32 or values [B, A], the projected context rows [B, R, D],
   * token mask [B, N], `values` [B, N, R]: each token's value as the probe reads it (a soft one-hot over the
   * rows). The pointer token p adds sum_r values[b, p, r] * projected[b, r] to its input.
   */
  step<T>(ops: Ops<T>, z: T, action: T | null, projected: T | null, tokenMask: T, values: T | null): T {
    const D = widthOf(this.geometry.state, this.config),
      N = this.geometry.state.tokens;
    let h = z; //                                                                         [B, N, D]
    let keyMask = tokenMask; //                                                           [B, N]
    const actionToken = action !== null && this.actionTable !== null && !this.geometry.state.grid;
    if (action !== null && this.actionTable) {
      const a = ops.reshape(ops.sum(this.actionTable.apply(ops, action), 1), [0, 1, D]); // [B, 1, D]
      if (actionToken) {
        h = ops.concat([h, a], 1); //                                                      [B, N+1, D]
        keyMask = ops.padEnd(tokenMask, 1, 1, 1); //                                       [B, N+1]
      } else h = ops.add(h, a); //                                                         every cell reads it
    }
    const T = N + (actionToken ? 1 : 0);
    if (this.positions instanceof Embedding)
      h = ops.add(h, ops.param(this.positions.table)); //       [T, D]
    else if (this.positions) h = ops.add(h, this.positions.apply(ops, ops.constant(sinusoidalPositions(T, D), [T, D])));
    if (projected !== null && values !== null && this.gather) {
      const p = this.gather.token;
      //            [B, 1, D]: the row at the pointer's value
      const fetched = ops.matMul(ops.slice(values, 1, p, p + 1), projected);
      const selector = ops.constant(
        Float32Array.from({ length: T }, (_, n) => (n === p ? 1 : 0)),
        [1, T, 1],
      );
      h = ops.add(h, ops.mul(fetched, selector)); //                                      at the pointer token only
    }
    for (const b of this.blocks) h = b.apply(ops, h, keyMask);
    //                                            [B, N, D] (drop the action token)
    if (T !== N) h = ops.slice(h, 1, 0, N);
    const next = ops.add(z, this.out.apply(ops, this.norm.apply(ops, h))); //              [B, N, D]
    if (!this.actionLinear || action === null) return next;
    // a plain matMul: the kit's fused dense ([B, A] x [A, N * D]) aborted tfjs-wasm in the gradient of a rollout
    // [B, N * D]
    const change = ops.add(ops.matMul(action, ops.param(this.actionLinear.w)), ops.param(this.actionLinear.b));
    return ops.add(next, ops.reshape(change, [0, N, D]));
  }
  parts() {
    const { context, positions, actionTable, actionLinear, blocks, norm, out } = this;
    return { context, read: this.gather?.read ?? null, positions, actionTable, actionLinear, blocks, norm, out };
  }
}

/**
 * The readout probe, shared by all tokens, trained only on frozen latents: latent token [D] -> per slot,
 * logits over the vocab (categorical views); for real views either the standardised state ('state'), or the
 * change from a start latent ('change': output (x - x_start) / deltaStd). The change readout is odd in the
 * latent change d = z - z_start: mlp([z_start, d]) - mlp([z_start, -d]), so no latent change reads as no change
 * (persistence) and a reversed latent change as the reversed change: the readout of a push along -x, never
 * seen in training (hidden-laws' expert pushes only along +x), mirrors that of a push along +x. With a generalist's
 * shared hidden layer, which reads one latent [D] in every world, the change readout reads instead
 * mlp(a ⊙ z_start + c ⊙ d) - mlp(a ⊙ z_start - c ⊙ d), gains a and c [D] its own (1 at the start: the readout of z
 * minus that of z_start - d); still odd in d.
 */
export class Probe extends Module {
  /** A hidden layer shared with other worlds' probes (a generalist's), read before `mlp`; null: the probe's own. */
  readonly trunk: Dense | null;
  /** With a trunk and the change readout: the gains of z_start [D] and of the latent change [D]; else null. */
  readonly startGain: tf.Variable | null;
  readonly changeGain: tf.Variable | null;
  /** The probe's own layers: all of them, or with a trunk the last (the world's output projection); null: `head`. */
  readonly mlp: Mlp | null;
  /** With a generalist's shared readout: the last layer through it (token-space.ts), else null. */
  readonly head: BoundHead | null;
  readonly change: boolean;

  constructor(
    rng: Rng,
    private readonly layout: StateLayout,
    config: JepaConfig,
    trunk?: Dense,
    readout?: Readout,
  ) {
    super();
    this.change = layout.kind === 'real' && config.realReadout === 'change';
    const outputs = layout.kind === 'categorical' ? layout.slots * layout.vocab : layout.slots;
    const width = widthOf(layout, config);
    const inputs = this.change && !trunk ? 2 * width : width;
    if (trunk && trunk.inputs !== inputs)
      throw new Error(`jepa probe: the shared hidden layer reads ${trunk.inputs} values, this probe gives ${inputs}`);
    this.trunk = trunk ?? null;
    const gains = trunk !== undefined && this.change;
    this.startGain = gains ? constantVariable([width], 1) : null;
    this.changeGain = gains ? constantVariable([width], 1) : null;
    if (readout && !trunk) throw new Error('jepa probe: the shared readout reads a shared hidden layer; none given');
    this.head = readout ? new BoundHead(rng, layout, readout) : null;
    const widths = trunk
      ? [trunk.outputs, outputs]
      : config.probeHidden > 0
        ? [inputs, config.probeHidden, outputs]
        : [inputs, outputs];
    this.mlp = this.head ? null : new Mlp(rng, widths, 'relu');
  }

  /** z [B, N, D] (and start [B, N, D] for 'change') -> categorical: logits [B, N, S, V]; real: [B, N, S]. */
  apply<T>(ops: Ops<T>, z: T, start?: T): T {
    const { kind, slots: S, vocab: V } = this.layout;
    if (!this.change) {
      const y = this.layers(ops, z, false); //                                            [B, N, S*V] or [B, N, S]
      return kind === 'categorical' ? ops.reshape(y, [0, 0, S, V]) : y;
    }
    if (start === undefined) throw new Error('jepa probe: the change readout needs the start latent');
    const d = ops.sub(z, start); //                                                        [B, N, D]
    const gained = this.startGain && this.changeGain;
    const s = gained ? ops.mul(start, ops.param(this.startGain)) : start; //                 [B, N, D]
    const c = gained ? ops.mul(d, ops.param(this.changeGain)) : d; //                        [B, N, D]
    // [2B, N, S]: the plus and minus readings of one batch
    const both = this.layers(
      ops,
      gained
        ? ops.concat([ops.add(s, c), ops.sub(s, c)], 0)
        : ops.concat([ops.concat([s, c], 2), ops.concat([s, ops.neg(c)], 2)], 0),
      false,
    );
    const [plus, minus] = ops.split(both, 0, 2);
    return ops.sub(plus, minus); //                                                        [B, N, S]
  }

  /** x [..., I] through the trunk (if any) and the probe's own layers; `frozen`: every weight under stop-gradient. */
  private layers<T>(ops: Ops<T>, x: T, frozen: boolean): T {
    const weight = (v: Dense['w']) => (frozen ? ops.stopGradient(ops.param(v)) : ops.param(v));
    let h = x;
    if (this.trunk) h = ops.dense(h, weight(this.trunk.w), weight(this.trunk.b), 'relu'); //       [..., hidden]
    if (this.head) return this.head.apply(ops, h, frozen);
    for (const l of (this.mlp as Mlp).layers) h = ops.dense(h, weight(l.w), weight(l.b), l.activation);
    return h;
  }

  /** The probe's output -> values per slot [B, N, S]: the most likely class (categorical), else the output as it is. */
  read<T>(ops: Ops<T>, output: T): T {
    return this.layout.kind === 'categorical' ? ops.cast(ops.argMax(output, 3), 'float32') : output;
  }

  /**
   * Each token's observed value as a one-hot over the R context rows, from its embedding ids [B, N, S] (slot 0;
   * its id is the value): [B, N, R], a zero row for a value that is no row (>= R, or the pad value V). The
   * predictor's first step reads these, exact, where later steps read `valuePointer` of predicted latents.
   */
  observedValues<T>(ops: Ops<T>, ids: T, rows: number): T {
    const v = ops.reshape(ops.slice(ids, 2, 0, 1), [0, 0]); //                             [B, N]
    return ops.oneHot(ops.where(ops.less(v, this.layout.vocab), v, rows), rows); //        the pad value V reads no row
  }

  /**
   * Each token's value as the probe reads it, with the probe's weights frozen (stop-gradient: the predictor
   * may use the reading, never train the probe): `values` of the probe's logits on z -> [B, N, R].
   */
  valuePointer<T>(ops: Ops<T>, z: T, rows: number): T {
    const h = this.layers(ops, z, true);
    return this.values(ops, ops.reshape(h, [0, 0, this.layout.slots, this.layout.vocab]), rows);
  }

  /** Logits [B, N, S, V] -> slot 0's softmax over the vocab at values 0..R-1, zeros past the vocab: [B, N, R]. */
  values<T>(ops: Ops<T>, logits: T, rows: number): T {
    const V = this.layout.vocab,
      R = Math.min(rows, V);
    const p = ops.softmax(ops.reshape(ops.slice(logits, 2, 0, 1), [0, 0, V])); //          [B, N, V]
    const cut = ops.slice(p, 2, 0, R);
    return R === rows ? cut : ops.padEnd(cut, 2, rows - R, 0);
  }
  parts() {
    const { trunk, startGain, changeGain, mlp, head } = this;
    return { trunk, startGain, changeGain, mlp, head };
  }
}

/**
 * The predictor k steps from z [B, N, D], the latents of the observed states `ids` [B, N, S] (categorical), with
 * context ids [B, R, S'] and actions k x [B, A], fed its own outputs: [zhat_1, ..., zhat_k]. The first step reads
 * the observed values (Probe.observedValues), later steps the probe's reading of the predicted latents.
 */
export function rollout<T>(
  ops: Ops<T>,
  nets: Networks,
  z: T,
  ids: T | null,
  contextIds: T | null,
  actions: (T | null)[] | null,
  tokenMask: T,
  k: number,
): T[] {
  const embedded = nets.predictor.embedContext(ops, contextIds); //                          [B, R, D]
  const rows = nets.predictor.gather ? (ops.shape(embedded as T)[1] as number) : 0;
  const out: T[] = [];
  for (let j = 0; j < k; j++) {
    const values =
      embedded !== null
        ? j === 0 && ids
          ? nets.probe.observedValues(ops, ids, rows)
          : nets.probe.valuePointer(ops, z, rows)
        : null; // [B, N, R]
    z = nets.predictor.apply(ops, z, actions ? actions[j] : null, embedded, tokenMask, values); //   [B, N, D]
    out.push(z);
  }
  return out;
}

/**
 * Fixed features of token positions 0..T-1 [T, D] (as the Transformer's): sin and cos of n / 10000^(2i / D) at
 * columns 2i and 2i + 1. Any T reads the same columns, so a map of them is read whole by a world of any token count.
 */
export function sinusoidalPositions(T: number, D: number): Float32Array {
  const out = new Float32Array(T * D);
  for (let n = 0; n < T; n++)
    for (let i = 0; 2 * i < D; i++) {
      const angle = n / 10000 ** ((2 * i) / D);
      out[n * D + 2 * i] = Math.sin(angle);
      if (2 * i + 1 < D) out[n * D + 2 * i + 1] = Math.cos(angle);
    }
  return out;
}

/** A generalist's shared values of `kind`, or an error naming what is missing (buildTrunk's ValueSpace). */
function shared(values: Embedding | null, kind: string): Embedding {
  if (!values) throw new Error(`jepa: the shared value embedding has no ${kind} values (buildTrunk's space)`);
  return values;
}
