// Forecasting through ONNX Runtime: the networks the forecast uses, exported as two ONNX graphs op for op
// as their tfjs `apply` (model.ts), and `OnnxRollout`, which runs them in ORT sessions for forecast.ts's
// shared loop (`forecastWith`). The latents stay in ORT tensors from step to step; only each step's probe
// reading is copied out. What is constant over a rollout is computed once, in "encode": the projection of
// the context rows the predictor reads (Predictor.projectContext: the gather's projection, or the
// cross-attention's values, whose keys depend on weights only and ORT folds them); and the probe's output on
// a latent serves both its reading and, on the next step, the value pointer (tfjs computes that MLP twice;
// the numbers are the same).
//
// Graph "encode": ids [b, N, S] int32 (categorical) or x [b, N, L*S] (real), tokenMask [b, N],
//                 contextIds [b, R, S'] int32 (with a context)
//              -> z0 [b, N, D] (the online encoder); when the predictor reads a context: context [b, R, D]
//                 (its projection of the rows), and with its value pointer: values [b, N, R] (the observed
//                 values, Probe.observedValues: the first step reads them exactly).
// Graph "step":   z [b, N, D], tokenMask [b, N], action [b, A] (int32 rows or values; with actions),
//                 context [b, R, D], values [b, N, R] (value pointer), z0 [b, N, D] (change readout)
//              -> next [b, N, D] (the predictor), reading [b, N, S] (the probe's reading of next, as float:
//                 class index, standardised change, or standardised state), nextValues [b, N, R] (value pointer).
import { exportOnnx, openSession, ortTensor, type ExportInput, type OnnxBuilder, type OrtFeeds, type OrtSession } from '@worldbench/onnx';
import type { MultiHeadAttention } from '@worldbench/neural';
import type { RolloutInput } from './forecast';
import type { Block, ContextEmbedding, Encoder, Geometry, Predictor, Probe } from './model';
import type { Networks } from './train';

/** An attention read of the context, projected by the reading layer: keys [1, R, D] (shared), values [b, R, D], a score bias [b, H, T, R] or null. */
interface ContextRead {
  keys: string | null;
  values: string;
  bias: string | null;
}

// region small ops -----------------------------------------------------------------------------------

/** ReduceSum over one axis, the axis dropped (tf.sum(x, axis)). */
function sumOver(b: OnnxBuilder, x: string, axis: number): string {
  const shape = b.shapeOf(x).filter((_, i) => i !== axis);
  return b.node('ReduceSum', [x, b.int64s([axis], 'axes')], { shape, dtype: 'float32' }, { keepdims: { int: 0 } }, 'sum');
}

/** tf.concat of float values along `axis` (the other dimensions agree). */
function concat(b: OnnxBuilder, xs: string[], axis: number): string {
  const shapes = xs.map((x) => b.shapeOf(x));
  const sizes = shapes.map((s) => s[axis]);
  const joined = sizes.every((s) => typeof s === 'number') ? (sizes as number[]).reduce((a, c) => a + c, 0) : `${xs[0]}_concat`;
  const shape = shapes[0].map((d, i) => (i === axis ? joined : d));
  return b.node('Concat', xs, { shape, dtype: 'float32' }, { axis: { int: axis } }, 'concat');
}

/** x [..., T, ...] -> [..., :size, ...] along `axis` (tf.slice from 0). */
function head(b: OnnxBuilder, x: string, axis: number, size: number): string {
  const shape = b.shapeOf(x).map((d, i) => (i === axis ? size : d));
  return b.node('Slice', [x, b.int64s([0], 'starts'), b.int64s([size], 'ends'), b.int64s([axis], 'axes')], { shape, dtype: b.info(x).dtype }, {}, 'slice');
}

/** Appends `count` entries of `value` at the end of `axis` (tf.concat with tf.zeros / tf.ones). */
function padEnd(b: OnnxBuilder, x: string, axis: number, count: number, value: number): string {
  const shape = b.shapeOf(x);
  const pads = new Array<number>(2 * shape.length).fill(0);
  pads[shape.length + axis] = count;
  const size = shape[axis];
  const out = shape.map((d, i) => (i === axis ? (typeof size === 'number' ? size + count : `${x}_padded`) : d));
  return b.node('Pad', [x, b.int64s(pads, 'pads'), b.scalar(value)], { shape: out, dtype: 'float32' }, {}, 'padded');
}

// endregion
// region layers --------------------------------------------------------------------------------------

/**
 * Cross-attention of x [b, T, D] to a context, as Block.apply's pointer attention and neural's `attention`:
 * heads split as [b, H, T, dh] (tfjs: [b*H, T, dh], the same numbers), scaled scores plus the bias, softmax,
 * weighted values, heads merged, output projection.
 */
function exportCrossAttention(b: OnnxBuilder, c: MultiHeadAttention, x: string, ctx: ContextRead): string {
  const { width: d, heads } = c;
  const dh = d / heads;
  const split = (y: string, perm: number[]) => b.transpose(b.reshape(y, [0, 0, heads, dh]), perm);
  const qh = split(b.layer(c.query, x), [0, 2, 1, 3]); //                            [b, H, T, dh]
  if (!ctx.keys) throw new Error('jepa onnx: a block attends to a context without keys');
  const kt = split(ctx.keys, [0, 2, 3, 1]); //                                       [1, H, dh, R]
  const vh = split(ctx.values, [0, 2, 1, 3]); //                                     [b, H, R, dh]
  let scores = b.mul(b.matMul(qh, kt), b.scalar(1 / Math.sqrt(dh), 'attention_scale')); // [b, H, T, R]
  if (ctx.bias) scores = b.add(scores, ctx.bias);
  const weights = b.node('Softmax', [scores], b.info(scores), { axis: { int: -1 } }, 'attention_weights');
  const read = b.reshape(b.transpose(b.matMul(weights, vh), [0, 2, 1, 3]), [0, 0, d]); // [b, T, D]
  return b.layer(c.output, read);
}

/** Block.apply with steps = 1: x [b, T, D], keyMask [b, T]. */
function exportBlock(b: OnnxBuilder, block: Block, x: string, ctx: ContextRead | null, keyMask: string): string {
  let h = b.add(x, b.layer(block.self, b.layer(block.norm1, x), { keyMask }));
  if (block.cross && block.norm2 && ctx) h = b.add(h, exportCrossAttention(b, block.cross, b.layer(block.norm2, h), ctx));
  return b.add(h, b.layer(block.down, b.layer(block.up, b.layer(block.norm3, h))));
}

/** The cross-attention of the one block that reads the context. */
function crossOf(blocks: Block[]): MultiHeadAttention {
  const cross = blocks.find((block) => block.cross)?.cross;
  if (!cross) throw new Error('jepa onnx: no block reads the context');
  return cross;
}

/** ContextEmbedding.apply's keys [1, R, D] (LayerNorm of the row positions; broadcast, not copied per episode), projected by `cross`. */
function contextKeys(b: OnnxBuilder, embedding: ContextEmbedding, cross: MultiHeadAttention): string {
  const [R, D] = embedding.rows.v.shape;
  if (!embedding.keyNorm) throw new Error('jepa onnx: the context was embedded without keys');
  return b.layer(cross.key, b.reshape(b.layer(embedding.keyNorm, b.weight(embedding.rows.v, 'context_rows')), [1, R, D]));
}

/** ContextEmbedding.apply's values [b, R, D] = LayerNorm(sum of the row's slot embeddings + row position), projected by `layer` (Predictor.projectContext). */
function contextValues(b: OnnxBuilder, embedding: ContextEmbedding, layer: unknown, ids: string): string {
  return b.layer(layer, b.layer(embedding.valueNorm, b.add(sumOver(b, b.layer(embedding.table, ids), 2), b.weight(embedding.rows.v, 'context_rows'))));
}

/** The layer of Predictor.projectContext: the gather's projection or the attending block's value projection. */
function contextProjection(predictor: Predictor): unknown {
  return predictor.gather ? predictor.gather.read : crossOf(predictor.blocks).value;
}

/** Pointer strengths [T, H] -> the score bias [b, H, T, R] of `hits` [b, T, R] (Encoder.pointerBias, Predictor.apply). */
function pointerBias(b: OnnxBuilder, pointer: string, hits: string): string {
  const [T, H] = b.shapeOf(pointer) as number[];
  const strength = b.reshape(b.transpose(pointer, [1, 0]), [1, H, T, 1]); //         [1, H, T, 1]
  return b.mul(b.reshape(hits, [0, 1, T, -1]), strength); //                        [b, H, T, R]
}

/** Encoder.apply (steps = 1) -> z [b, N, D]. */
function exportEncoder(b: OnnxBuilder, encoder: Encoder, geometry: Geometry, inputs: { ids?: string; x?: string; contextIds?: string }): string {
  const embed = encoder.embed;
  const h0 = embed.table
    ? sumOver(b, b.layer(embed.table, inputs.ids as string), 2) //                   [b, N, D]
    : b.layer(embed.features, concat(b, [inputs.x as string, b.reshape('tokenMask', [0, 0, 1])], 2));
  let h = b.add(h0, b.weight(embed.positions.v, 'state_positions'));
  let ctx: ContextRead | null = null;
  if (encoder.context && inputs.contextIds) {
    const cross = crossOf(encoder.blocks);
    ctx = { keys: contextKeys(b, encoder.context, cross), values: contextValues(b, encoder.context, cross.value, inputs.contextIds), bias: null };
    if (encoder.pointer && inputs.ids) {
      // the value-as-row-index pointer: one-hot of each token's value over the R rows (values >= R hit none)
      const R = geometry.context.tokens;
      const rows = b.constant(Int32Array.from({ length: R }, (_, r) => r), [R], 'context_row_index');
      const shape = [...b.shapeOf(inputs.ids).slice(0, 2), R];
      const equal = b.node('Equal', [inputs.ids, rows], { shape, dtype: 'int32' }, {}, 'hit'); // bool (the builder tracks no bool type; no graph output)
      const hits = b.node('Cast', [equal], { shape, dtype: 'float32' }, { to: { int: 1 } }, 'hits'); // 1: FLOAT
      ctx.bias = pointerBias(b, b.weight(encoder.pointer, 'encoder_pointer'), hits);
    }
  }
  for (const block of encoder.blocks) h = exportBlock(b, block, h, ctx, 'tokenMask');
  return b.layer(encoder.norm, h);
}

/** Probe.observedValues: slot 0 of ids [b, N, S] as a one-hot over the R rows [b, N, R] (a value >= R or the pad value V: no row). */
function exportObservedValues(b: OnnxBuilder, geometry: Geometry, ids: string): string {
  const V = geometry.state.vocab, R = geometry.context.tokens;
  const value = head(b, ids, 2, 1); //                                                   [b, N, 1]
  // row r matches value r, for r < V only (V is the pad value; larger values never occur)
  const rows = b.constant(Int32Array.from({ length: R }, (_, r) => (r < V ? r : -1)), [R], 'observed_row_index');
  const shape = [...b.shapeOf(ids).slice(0, 2), R];
  const equal = b.node('Equal', [value, rows], { shape, dtype: 'int32' }, {}, 'observed'); // bool (the builder tracks no bool type; no graph output)
  return b.node('Cast', [equal], { shape, dtype: 'float32' }, { to: { int: 1 } }, 'observed_values'); // 1: FLOAT
}

/** Probe.valuePointer from the probe's output y [b, N, S*V]: softmax over the vocab of slot 0, rows 0..R-1 (zeros past the vocab) [b, N, R]. */
function exportValuePointer(b: OnnxBuilder, geometry: Geometry, y: string): string {
  const V = geometry.state.vocab, R = geometry.context.tokens;
  const logits = head(b, y, 2, V); //                                                   [b, N, V]
  const p = b.node('Softmax', [logits], b.info(logits), { axis: { int: -1 } }, 'value');
  const cut = head(b, p, 2, Math.min(R, V));
  return R > V ? padEnd(b, cut, 2, R - V, 0) : cut;
}

/**
 * Predictor.apply: one step z [b, N, D] -> [b, N, D]; `context`: the projected context values (from "encode"),
 * `values`: the value pointer of z [b, N, R].
 */
function exportPredictor(b: OnnxBuilder, predictor: Predictor, geometry: Geometry, z: string, action: string | null, context: string | null, values: string | null): string {
  const N = geometry.state.tokens, D = b.shapeOf(z)[2] as number;
  let ctx: ContextRead | null = null;
  let fetched: string | null = null; //                                              [b, 1, D]: the row at the pointer token's value
  if (predictor.gather && context && values) {
    const R = geometry.context.tokens, p = predictor.gather.token;
    const own = b.node('Slice', [values, b.int64s([p], 'starts'), b.int64s([p + 1], 'ends'), b.int64s([1], 'axes')], { shape: [b.shapeOf(values)[0], 1, R], dtype: 'float32' }, {}, 'pointer_value');
    fetched = b.matMul(own, context);
  } else if (predictor.context && context) {
    ctx = { keys: contextKeys(b, predictor.context, crossOf(predictor.blocks)), values: context, bias: null };
    if (predictor.pointer && values) {
      const T = predictor.pointer.shape[0] as number; //                               N or N+1 (the action token points nowhere)
      ctx.bias = pointerBias(b, b.weight(predictor.pointer, 'predictor_pointer'), T === N ? values : padEnd(b, values, 1, 1, 0));
    }
  }
  let h = z;
  let keyMask = 'tokenMask';
  if (action && (predictor.actionTable || predictor.actionDense)) {
    const a = predictor.actionTable ? sumOver(b, b.layer(predictor.actionTable, action), 1) : b.layer(predictor.actionDense, action); // [b, D]
    h = concat(b, [h, b.reshape(a, [0, 1, D])], 1); //                                 [b, N+1, D]
    keyMask = padEnd(b, keyMask, 1, 1, 1); //                                          [b, N+1]
  }
  h = b.add(h, b.weight(predictor.positions.v, 'predictor_positions'));
  if (fetched) {
    const T = b.shapeOf(h)[1] as number;
    const selector = b.constant(Float32Array.from({ length: T }, (_, n) => (n === (predictor.gather as { token: number }).token ? 1 : 0)), [1, T, 1], 'pointer_token');
    h = b.add(h, b.mul(fetched, selector));
  }
  for (const block of predictor.blocks) h = exportBlock(b, block, h, ctx, keyMask);
  if (b.shapeOf(h)[1] !== N) h = head(b, h, 1, N); //                                  [b, N, D] (drop the action token)
  const next = b.add(z, b.layer(predictor.out, b.layer(predictor.norm, h)));
  // realActions 'linear': the action's change of every token's latent, [b, N * D] -> [b, N, D]
  return predictor.actionLinear && action ? b.add(next, b.reshape(b.layer(predictor.actionLinear, action), [0, N, D])) : next;
}

/**
 * The probe on z [b, N, D]: its reading as float [b, N, S] (argmax class (categorical), change from z0, or
 * state) and, with `pointer`, the value pointer of z [b, N, R] from the same probe output.
 */
function exportProbe(b: OnnxBuilder, probe: Probe, geometry: Geometry, z: string, z0: string | null, pointer: boolean): { reading: string; values?: string } {
  const { kind, slots: S, vocab: V } = geometry.state;
  if (probe.change) {
    // odd in the latent change d: mlp([z0, d]) - mlp([z0, -d])
    const start = z0 as string;
    return { reading: b.sub(b.layer(probe.mlp, concat(b, [start, b.sub(z, start)], 2)), b.layer(probe.mlp, concat(b, [start, b.sub(start, z)], 2))) };
  }
  const y = b.layer(probe.mlp, z);
  const values = pointer ? exportValuePointer(b, geometry, y) : undefined;
  if (kind !== 'categorical') return { reading: y, values };
  const logits = b.reshape(y, [0, 0, S, V]); //                                         [b, N, S, V]
  const shape = b.shapeOf(logits).slice(0, 3);
  const index = b.node('ArgMax', [logits], { shape, dtype: 'int64' }, { axis: { int: 3 }, keepdims: { int: 0 } }, 'class');
  return { reading: b.node('Cast', [index], { shape, dtype: 'float32' }, { to: { int: 1 } }, 'reading'), values }; // 1: FLOAT
}

// endregion
// region graphs and sessions -------------------------------------------------------------------------

/** Which optional inputs and outputs the graphs of these networks have. */
interface GraphFlags {
  /** The predictor reads a context: "encode" outputs its projected values, "step" takes them. */
  context: boolean;
  /** The predictor's value pointer: "encode" outputs the values of z0, "step" takes them and outputs those of next. */
  pointer: boolean;
  /** The change readout: "step" takes z0. */
  change: boolean;
}

function flagsOf(nets: Networks, geometry: Geometry): GraphFlags {
  const context = nets.predictor.context !== null && geometry.context.tokens > 0;
  const pointer = context && nets.predictor.readsValues;
  // the value pointer reads the probe on a latent alone, which a change probe (latent pair) cannot do
  if (pointer && nets.probe.change) throw new Error("jepa onnx: realReadout 'change' with the predictor's value pointer (contextRead 'predictor' on a real view with a context) cannot be exported; set forecastBackend=tfjs");
  return { context, pointer, change: nets.probe.change };
}

/** The "encode" and "step" graphs (see the header) of fitted networks. */
export function exportForecastGraphs(nets: Networks, geometry: Geometry): { encode: Uint8Array; step: Uint8Array } {
  const { tokens: N, slots: S, lags: L, kind } = geometry.state;
  const R = geometry.context.tokens;
  const D = nets.online.norm.width;
  const flags = flagsOf(nets, geometry);
  const encodeInputs: ExportInput[] = [
    kind === 'categorical' ? { name: 'ids', shape: ['batch', N, S], dtype: 'int32' } : { name: 'x', shape: ['batch', N, L * S] },
    { name: 'tokenMask', shape: ['batch', N] },
    ...(R > 0 ? [{ name: 'contextIds', shape: ['batch', R, 'contextSlots'], dtype: 'int32' } as ExportInput] : []),
  ];
  const encode = exportOnnx(
    (b) => {
      const contextIds = R > 0 ? 'contextIds' : undefined;
      const z0 = exportEncoder(b, nets.online, geometry, kind === 'categorical' ? { ids: 'ids', contextIds } : { x: 'x', contextIds });
      const outputs: Record<string, string> = { z0 };
      if (flags.context) outputs.context = contextValues(b, nets.predictor.context as ContextEmbedding, contextProjection(nets.predictor), 'contextIds');
      if (flags.pointer) outputs.values = exportObservedValues(b, geometry, 'ids');
      return outputs;
    },
    encodeInputs,
    { name: 'jepa-encode', docString: 'jepa: last state -> z0 (online encoder), the context as the predictor reads it, the value pointer of z0' },
  );
  const action = geometry.action;
  const stepInputs: ExportInput[] = [
    { name: 'z', shape: ['batch', N, D] },
    { name: 'tokenMask', shape: ['batch', N] },
    ...(action ? [{ name: 'action', shape: ['batch', action.size], dtype: action.kind === 'categorical' ? 'int32' : 'float32' } as ExportInput] : []),
    ...(flags.context ? [{ name: 'context', shape: ['batch', R, D] } as ExportInput] : []),
    ...(flags.pointer ? [{ name: 'values', shape: ['batch', N, R] } as ExportInput] : []),
    ...(flags.change ? [{ name: 'z0', shape: ['batch', N, D] } as ExportInput] : []),
  ];
  const step = exportOnnx(
    (b) => {
      const next = exportPredictor(b, nets.predictor, geometry, 'z', action ? 'action' : null, flags.context ? 'context' : null, flags.pointer ? 'values' : null);
      const probe = exportProbe(b, nets.probe, geometry, next, flags.change ? 'z0' : null, flags.pointer);
      return { next, reading: probe.reading, ...(probe.values ? { nextValues: probe.values } : {}) };
    },
    stepInputs,
    { name: 'jepa-step', docString: 'jepa: one predictor step, the probe reading of its output and its value pointer' },
  );
  return { encode, step };
}

/** The forecast's networks in two ORT sessions; `run` is a RolloutNetworks (forecast.ts). Release with `release()`. */
export class OnnxRollout {
  private constructor(
    private readonly encode: OrtSession,
    private readonly step: OrtSession,
    private readonly geometry: Geometry,
    private readonly flags: GraphFlags,
  ) {}

  static async open(nets: Networks, geometry: Geometry): Promise<OnnxRollout> {
    const graphs = exportForecastGraphs(nets, geometry);
    const encode = await openSession(graphs.encode);
    const step = await openSession(graphs.step).catch(async (e) => {
      await encode.release();
      throw e;
    });
    return new OnnxRollout(encode, step, geometry, flagsOf(nets, geometry));
  }

  /** [b, H, N, S]: the probe's reading of every predicted step (see RolloutNetworks). */
  readonly run = async (input: RolloutInput): Promise<Float32Array> => {
    const { tokens: N, slots: S, lags: L } = this.geometry.state;
    const R = this.geometry.context.tokens;
    const A = this.geometry.action?.size ?? 0;
    const { count: b, horizon: H } = input;
    const tokenMask = ortTensor(input.tokenMask, [b, N]);
    const feeds: OrtFeeds = { tokenMask };
    if (input.ids) feeds.ids = ortTensor(input.ids, [b, N, S]);
    if (input.x) feeds.x = ortTensor(input.x, [b, N, L * S]);
    if (input.contextIds) feeds.contextIds = ortTensor(input.contextIds, [b, R, input.contextSlots]);
    const encoded = await this.encode.run(feeds);
    const out = new Float32Array(b * H * N * S);
    let z = encoded.z0;
    let values = encoded.values;
    for (let h = 0; h < H; h++) {
      const step: OrtFeeds = { z, tokenMask };
      if (this.geometry.action) {
        const rows = input.actionsAt(h);
        if (!rows) throw new Error('jepa: this model takes actions; the query has none');
        step.action = ortTensor(rows, [b, A]);
      }
      if (this.flags.context) step.context = encoded.context;
      if (this.flags.pointer) step.values = values;
      if (this.flags.change) step.z0 = encoded.z0;
      const result = await this.step.run(step);
      z = result.next;
      values = result.nextValues;
      const reading = result.reading.data as Float32Array; //                             [b, N, S]
      for (let i = 0; i < b; i++) out.set(reading.subarray(i * N * S, (i + 1) * N * S), (i * H + h) * N * S);
    }
    return out;
  };

  async release(): Promise<void> {
    await this.encode.release();
    await this.step.release();
  }
}

// endregion
