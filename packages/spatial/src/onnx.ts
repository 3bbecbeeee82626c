// Forecasting through ONNX Runtime: the dynamics' rollout step (everything rollout.ts's tfjs step does in one
// tf.tidy: the dynamics, clip to [0, 1], deadzone, halo patches of the prediction, the shifted context
// window) exported as one ONNX graph computing what the tfjs step computes (op for op, except the
// neighbourhood attention's faster form: see exportNeighbourhoodAttention), and a step engine that runs it
// in an ORT session for rollout.ts's shared loop. The graph's state (context, current frame) stays in ORT
// tensors from step to step; only the prediction is read out.
//
// Graph "step": context [n, C, P, J], current [n, P, pp], action [n, A] (float32 real actions, or int32 ids:
// element * vocab + value, or latent codes with A = 1; absent for models without actions)
//            -> next_context [n, C, P, J], prediction [n, P, pp].
// With the 'vq' tokenizer, graph "token step": ids [n, C, P] int32 (the context frames' token ids), current
// [n, P, pp], action -> next_ids [n, C, P] int32, prediction [n, P, pp] (the argmax ids decoded by a Gather
// from the tokenizer's decoded table, a patch whose id stays keeping its pixels). The context frames' first
// ids are the tokenizer's (tfjs, once per chunk: the same ids on both paths).

import { exportOnnx, openSession, ortTensor, type ExportInput, type OnnxBuilder, type OrtFeeds, type OrtSession } from '@worldbench/onnx';
import type { Neighbourhood, NeighbourhoodAttention } from './attention';
import { tf } from '@worldbench/neural';
import type { Dynamics } from './model';
import type { PatchGeometry } from './patches';
import { contextIds, type ChunkStepper, type StepEngine } from './rollout';
import type { PatchTokenizer } from './tokenizer';

type OrtTensor = OrtFeeds[string];

/** Values per step of the action input: the action's size, 1 for a latent code, 0 without actions. */
function actionWidth(dynamics: Dynamics): number {
  const action = dynamics.shape.action;
  return action.kind === 'latent' ? 1 : action.kind === 'none' ? 0 : action.size;
}

/** ReduceSum over one axis, the axis dropped (tf.sum(x, axis)). */
function sumOver(b: OnnxBuilder, x: string, axis: number): string {
  const shape = b.shapeOf(x).filter((_, i) => i !== axis);
  return b.node('ReduceSum', [x, b.int64s([axis], 'axes')], { shape, dtype: 'float32' }, { keepdims: { int: 0 } }, 'sum');
}

/** Rows `index` (an int32 constant of any shape S) of x along `axis`: x [...lead, X, ...rest] -> [...lead, ...S, ...rest]. */
function gather(b: OnnxBuilder, x: string, index: Int32Array, indexShape: number[], axis: number): string {
  const from = b.shapeOf(x);
  const shape = [...from.slice(0, axis), ...indexShape, ...from.slice(axis + 1)];
  return b.node('Gather', [x, b.constant(index, indexShape, 'gather_index')], { shape, dtype: b.info(x).dtype }, { axis: { int: axis } }, 'gathered');
}

/**
 * The neighbourhood as an additive mask over all token pairs [P, P]: log(k) where token q is k of token p's
 * neighbours (0 for the usual single occurrence; k > 1 only where a small wrapped grid repeats a neighbour),
 * -1e9 where q is none of them. Softmax over all P tokens with this mask gives each neighbour exactly the
 * weight NeighbourhoodAttention's softmax over its M gathered neighbours gives it (repeats summed).
 */
function neighbourhoodMask(hood: Neighbourhood): Float32Array {
  const P = hood.rows * hood.cols;
  const count = new Float32Array(P * P);
  for (let p = 0; p < P; p++) for (let m = 0; m < hood.M; m++) if (hood.mask[p * hood.M + m] === 0) count[p * P + hood.index[p * hood.M + m]]++;
  return count.map((k) => (k > 0 ? Math.log(k) : -1e9));
}

/**
 * Neighbourhood attention on tokens x [n*P, D] -> [n*P, D], the same function as NeighbourhoodAttention.apply
 * (attention.ts) in another form: there each token's M neighbours are gathered and scored elementwise, which
 * in ORT cost twice the dense layers' time (broadcast Mul, ReduceSum, Gather over [n, P, M, D]); here the
 * scores of all token pairs are one batched MatMul per head, masked to the neighbourhood (neighbourhoodMask),
 * and the weighted values another. Same projections, scale and softmax; the sums run in another order
 * (differences ~1e-7, inside the parity test's 1e-4).
 */
function exportNeighbourhoodAttention(b: OnnxBuilder, layer: NeighbourhoodAttention, x: string): string {
  const { heads: h, width: d, hood } = layer;
  const dh = d / h, P = hood.rows * hood.cols;
  const heads = (y: string, perm: number[]) => b.transpose(b.reshape(y, [-1, P, h, dh]), perm);
  const q = heads(b.layer(layer.query, x), [0, 2, 1, 3]); //                                         [n, H, P, dh]
  const k = heads(b.layer(layer.key, x), [0, 2, 3, 1]); //                                           [n, H, dh, P]
  const v = heads(b.layer(layer.value, x), [0, 2, 1, 3]); //                                         [n, H, P, dh]
  const scores = b.add(b.mul(b.matMul(q, k), b.scalar(1 / Math.sqrt(dh), 'attention_scale')), b.constant(neighbourhoodMask(hood), [P, P], 'neighbourhood_mask')); // [n, H, P, P]
  const weights = b.node('Softmax', [scores], b.info(scores), { axis: { int: -1 } }, 'attention_weights');
  const out = b.transpose(b.matMul(weights, v), [0, 2, 1, 3]); //                                    [n, P, H, dh]
  return b.layer(layer.output, b.reshape(out, [-1, d])); //                                          [n*P, D]
}

/**
 * The action embedding [n, D] of the `action` input, as ActionEncoder.apply. The encoder keeps its layer
 * private; its params() are [w, b] of the linear map (real actions) or [table] (int ids, latent codes).
 */
function exportActionEmbedding(b: OnnxBuilder, dynamics: Dynamics, action: string): string {
  const encoder = dynamics.actions!;
  const [first, bias] = encoder.params();
  if (encoder.action.kind === 'real') return b.add(b.matMul(action, b.weight(first, 'action_w')), b.weight(bias, 'action_b'), 'action_dense');
  const D = dynamics.shape.width;
  const rows = b.node('Gather', [b.weight(first, 'action_table'), action], { shape: ['batch', actionWidth(dynamics), D], dtype: 'float32' }, { axis: { int: 0 } }, 'action_rows'); // [n, A, D]
  return sumOver(b, rows, 1); //                                                                                                                            [n, D]
}

/** Dynamics' trunk: embedded tokens x [n, P, D], action [n, A] | null -> the head's output [n*P, out]. */
function exportTrunk(b: OnnxBuilder, dynamics: Dynamics, x: string, action: string | null): string {
  const D = dynamics.shape.width;
  x = b.add(x, b.weight(dynamics.position, 'position')); //                                  [n, P, D]
  if (action) x = b.add(x, b.reshape(exportActionEmbedding(b, dynamics, action), [0, 1, D]));
  // tokens are kept as [n*P, D] rows, as the tfjs Dense layers see them (ORT then fuses each MatMul and bias add into one Gemm)
  x = b.reshape(x, [-1, D]); //                                                              [n*P, D]
  for (const block of dynamics.blocks) {
    const a = b.add(x, exportNeighbourhoodAttention(b, block.attention, b.layer(block.norm1, x)));
    x = b.add(a, b.layer(block.mlp, b.layer(block.norm2, a)));
  }
  return b.layer(dynamics.head, b.layer(dynamics.norm, x));
}

/** Dynamics.step: context [n, C, P, J], current [n, P, pp], action [n, A] | null -> next core patches [n, P, pp], unclipped. */
function exportDynamicsStep(b: OnnxBuilder, dynamics: Dynamics, context: string, current: string, action: string | null): string {
  const { geometry: g, contextFrames: C, width: D } = dynamics.shape;
  const tubelets = b.reshape(b.transpose(context, [0, 2, 1, 3]), [-1, C * g.J]); //        [n*P, C*J]
  const x = b.reshape(b.layer(dynamics.embed!, tubelets), [-1, g.P, D]); //                 [n, P, D]
  const delta = b.reshape(exportTrunk(b, dynamics, x, action), [-1, g.P, g.pp]); //         [n, P, pp]
  return b.add(delta, current); // (delta first: the sum takes current's "batch" dimension name)
}

/** Dynamics.logits, argmax and decoding, as tfjsTokenEngine's step (see the file header's "token step"). */
function exportTokenStep(b: OnnxBuilder, dynamics: Dynamics, table: tf.Tensor2D, action: string | null): { next_ids: string; prediction: string } {
  const { geometry: g, contextFrames: C, tokens: K } = dynamics.shape;
  const offsets = b.constant(Int32Array.from({ length: C }, (_, c) => c * K), [1, C, 1], 'frame_offsets');
  const shifted = b.node('Add', ['ids', offsets], b.info('ids'), {}, 'shifted_ids'); //        [n, C, P] id + c * K
  const x = sumOver(b, b.layer(dynamics.tokenEmbed!, shifted), 1); //                          [n, P, D]
  const slice = (from: number, to: number, shape: (string | number)[]) =>
    b.node('Slice', ['ids', b.int64s([from], 'starts'), b.int64s([to], 'ends'), b.int64s([1], 'axes')], { shape, dtype: 'int32' }, {}, 'ids_slice');
  const lastIds = b.reshape(slice(C - 1, C, ['batch', 1, g.P]), [-1, g.P]); //                 [n, P]
  // the copy bonus on each patch's last id: rows of the identity [K, K] times the learned scalar
  const eye = Float32Array.from({ length: K * K }, (_, i) => (i % (K + 1) === 0 ? 1 : 0));
  const lastFlat = b.reshape(lastIds, [-1]);
  const copy = b.node('Gather', [b.constant(eye, [K, K], 'identity'), lastFlat], { shape: [b.shapeOf(lastFlat)[0], K], dtype: 'float32' }, { axis: { int: 0 } }, 'last_onehot');
  const logits = b.add(exportTrunk(b, dynamics, x, action), b.mul(copy, b.weight(dynamics.copy!, 'copy'))); // [n*P, K]
  const best = b.node('ArgMax', [logits], { shape: [b.shapeOf(logits)[0]], dtype: 'int64' }, { axis: { int: 1 }, keepdims: { int: 0 } }, 'best'); // [n*P]
  const predicted = b.reshape(b.node('Cast', [best], { shape: b.shapeOf(best), dtype: 'int32' }, { to: { int: 6 } }, 'best_ids'), [-1, g.P]); // [n, P] (6: INT32)
  const decoded = b.reshape(b.node('Gather', [b.weight(table, 'decoded_table'), best], { shape: [b.shapeOf(best)[0], g.pp], dtype: 'float32' }, { axis: { int: 0 } }, 'decoded'), [-1, g.P, g.pp]);
  // (the builder has no bool type: `same` is a bool tensor)
  const same = b.reshape(b.node('Equal', [lastIds, predicted], b.info(lastIds), {}, 'same'), [-1, g.P, 1]); // [n, P, 1]
  const prediction = b.node('Where', [same, 'current', decoded], b.info('current'), {}, 'kept_or_decoded'); // [n, P, pp]
  const newest = b.reshape(predicted, [-1, 1, g.P]); //                                         [n, 1, P]
  const next_ids = C > 1 ? b.node('Concat', [slice(1, C, ['batch', C - 1, g.P]), newest], { shape: ['batch', C, g.P], dtype: 'int32' }, { axis: { int: 1 } }, 'shifted') : newest;
  return { next_ids, prediction };
}

/** ONNX bytes of one token step (see the file header): the 'vq' tokenizer's counterpart of exportRolloutStep. */
export function exportTokenRolloutStep(dynamics: Dynamics, table: tf.Tensor2D, withActions: boolean): Uint8Array {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  const kind = dynamics.shape.action.kind;
  if (withActions && kind === 'none') throw new Error('spatial: this model has no actions to export an action input for');
  const inputs: ExportInput[] = [
    { name: 'ids', shape: ['batch', C, g.P], dtype: 'int32' },
    { name: 'current', shape: ['batch', g.P, g.pp] },
  ];
  if (withActions) inputs.push({ name: 'action', shape: ['batch', actionWidth(dynamics)], dtype: kind === 'real' ? 'float32' : 'int32' });
  return exportOnnx((b) => exportTokenStep(b, dynamics, table, withActions ? 'action' : null), inputs, { name: 'spatial-token-step', docString: 'spatial: one rollout step of the token dynamics (argmax ids, decoded patches)' });
}

/**
 * ONNX bytes of one rollout step (see the file header). `withActions` declares the action input; a model
 * with actions forecast without them runs unconditioned, as the tfjs step does.
 */
export function exportRolloutStep(dynamics: Dynamics, deadzone: number, withActions: boolean): Uint8Array {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  const kind = dynamics.shape.action.kind;
  if (withActions && kind === 'none') throw new Error('spatial: this model has no actions to export an action input for');
  const inputs: ExportInput[] = [
    { name: 'context', shape: ['batch', C, g.P, g.J] },
    { name: 'current', shape: ['batch', g.P, g.pp] },
  ];
  if (withActions) inputs.push({ name: 'action', shape: ['batch', actionWidth(dynamics)], dtype: kind === 'real' ? 'float32' : 'int32' });
  return exportOnnx(
    (b) => {
      const raw = exportDynamicsStep(b, dynamics, 'context', 'current', withActions ? 'action' : null);
      let predicted = b.node('Clip', [raw, b.scalar(0, 'zero'), b.scalar(1, 'one')], b.info(raw), {}, 'clipped'); // [n, P, pp]
      if (deadzone > 0) {
        // changes smaller than the deadzone keep the pixel as it was (the builder has no bool type: `still` is a bool tensor)
        const change = b.node('Abs', [b.sub(predicted, 'current')], b.info(raw), {}, 'change');
        const still = b.node('Less', [change, b.scalar(deadzone, 'deadzone')], b.info(raw), {}, 'still');
        predicted = b.node('Where', [still, 'current', predicted], b.info(raw), {}, 'deadzoned');
      }
      // halo patches of the prediction: a zero column stands for the padding outside the frame
      const flat = b.reshape(predicted, [0, g.pixels]); //                                              [n, pixels]
      const padded = b.node('Pad', [flat, b.int64s([0, 0, 0, 1], 'pads')], { shape: ['batch', g.pixels + 1], dtype: 'float32' }, {}, 'padded');
      const halo = gather(b, padded, g.haloIndex, [1, g.P, g.J], 1); //                                  [n, 1, P, J]
      let next = halo;
      if (C > 1) {
        const kept = b.node('Slice', ['context', b.int64s([1], 'starts'), b.int64s([C], 'ends'), b.int64s([1], 'axes')], { shape: ['batch', C - 1, g.P, g.J], dtype: 'float32' }, {}, 'kept');
        next = b.node('Concat', [kept, halo], { shape: ['batch', C, g.P, g.J], dtype: 'float32' }, { axis: { int: 1 } }, 'shifted');
      }
      return { next_context: next, prediction: predicted };
    },
    inputs,
    { name: 'spatial-rollout-step', docString: 'spatial: one rollout step of the dynamics (clip, deadzone, shifted halo context)' },
  );
}

/**
 * A chunk stepper over an exported step: the context `window` (fed as `input`, returned as `output`) and the last
 * frame stay in ORT tensors from step to step; only the prediction is read out.
 */
function sessionStepper(session: OrtSession, input: string, output: string, window: OrtTensor, last: Float32Array, n: number, g: PatchGeometry, A: number): ChunkStepper {
  let context = window;
  let current: OrtTensor = ortTensor(last, [n, g.P, g.pp]);
  return {
    async step(actions) {
      const feeds: OrtFeeds = { [input]: context, current };
      if (actions) feeds.action = ortTensor(actions, [n, A]);
      const result = await session.run(feeds);
      context.dispose();
      current.dispose();
      context = result[output];
      current = result.prediction;
      return current.data as Float32Array;
    },
    dispose() {
      context.dispose();
      current.dispose();
    },
  };
}

/** The token counterpart of sessionEngine: the window is the context frames' token ids [n, C, P]. */
function tokenSessionEngine(session: OrtSession, dynamics: Dynamics, tokenizer: PatchTokenizer, A: number): StepEngine {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  return (_halos, last, n, frames) => {
    const first = contextIds(tokenizer, g, frames, n, C);
    const ids = ortTensor(first.dataSync() as Int32Array, [n, C, g.P]);
    first.dispose();
    return sessionStepper(session, 'ids', 'next_ids', ids, last, n, g, A);
  };
}

/** A step engine for rollout.ts that runs the exported step in `session`; the chunk's state stays in ORT tensors. */
function sessionEngine(session: OrtSession, dynamics: Dynamics, A: number): StepEngine {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  return (halos, last, n) => sessionStepper(session, 'context', 'next_context', ortTensor(halos, [n, C, g.P, g.J]), last, n, g, A);
}

/**
 * The ORT sessions of a fitted dynamics: the step with the model's action input, opened by `open` (right
 * after a fit), and, for a model with actions forecast without them, the action-free step, opened on first
 * use. The weights are read when each step is exported; re-open after the weights change.
 */
export class OnnxRollout {
  private readonly sessions = new Map<boolean, Promise<OrtSession>>();

  private constructor(
    private readonly dynamics: Dynamics,
    private readonly deadzone: number,
    private readonly tokenizer: PatchTokenizer | null,
  ) {}

  /** `tokenizer`: the 'vq' tokenizer of a token dynamics (null for pixel dynamics). */
  static async open(dynamics: Dynamics, deadzone: number, tokenizer: PatchTokenizer | null = null): Promise<OnnxRollout> {
    const r = new OnnxRollout(dynamics, deadzone, tokenizer);
    await r.session(dynamics.shape.action.kind !== 'none');
    return r;
  }

  private session(withActions: boolean): Promise<OrtSession> {
    let s = this.sessions.get(withActions);
    if (!s) {
      s = (async () => {
        try {
          if (!this.tokenizer) return await openSession(exportRolloutStep(this.dynamics, this.deadzone, withActions));
          const table = this.tokenizer.decodedTable();
          try {
            return await openSession(exportTokenRolloutStep(this.dynamics, table, withActions));
          } finally {
            table.dispose();
          }
        } catch (e) {
          throw new Error(`spatial: cannot forecast through ONNX Runtime (${(e as Error).message}); set forecastBackend=tfjs to forecast with tfjs`);
        }
      })();
      this.sessions.set(withActions, s);
    }
    return s;
  }

  /** The engine for rollout.ts, for actions of A values per step (A = 0: none). */
  async engine(A: number): Promise<StepEngine> {
    const session = await this.session(A > 0);
    return this.tokenizer ? tokenSessionEngine(session, this.dynamics, this.tokenizer, A) : sessionEngine(session, this.dynamics, A);
  }

  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of sessions) await (await s.catch(() => null))?.release(); // a session that failed to open has nothing to release
  }
}
