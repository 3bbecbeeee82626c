// Forecasting through ONNX Runtime: the rollout step (rollout.ts `rolloutStep`: the dynamics, clip to [0, 1],
// deadzone, halo patches of the prediction, the shifted context window) traced into one ONNX graph, and a step
// engine that runs it in an ORT session for rollout.ts's shared loop. The graph's state (context, current frame)
// stays in ORT tensors from step to step; only the prediction is read out. One layer takes another form in the
// graph: the neighbourhood attention (see exportNeighbourhoodAttention).
//
// Graph "step": context [n, C, P, J], current [n, P, pp], action [n, A] (float32 real actions, or int32 ids:
// element * vocab + value, or latent codes with A = 1; absent for models without actions)
//            -> next_context [n, C, P, J], prediction [n, P, pp].
// With the 'vq' tokenizer, graph "token step" (rollout.ts `tokenStep`): ids [n, C, P] int32 (the context frames'
// token ids), current [n, P, pp], action -> next_ids [n, C, P] int32, prediction [n, P, pp] (the argmax ids
// decoded by a Gather from the tokenizer's decoded table, a patch whose id stays keeping its pixels). The
// context frames' first ids are the tokenizer's (tfjs, once per chunk: the same ids on both paths).

import {
  exportOnnx,
  layerExporter,
  openSession,
  ortTensor,
  type ExportInput,
  type OnnxOps,
  type OrtFeeds,
  type OrtSession,
} from '@worldbench/onnx';
import { NeighbourhoodAttention, type Neighbourhood } from './attention';
import type { tf } from '@worldbench/neural';
import type { Dynamics } from './model';
import type { PatchGeometry } from './patches';
import { contextIds, rolloutStep, tokenStep, type ChunkStepper, type StepEngine } from './rollout';
import type { PatchTokenizer } from './tokenizer';

type OrtTensor = OrtFeeds[string];

/** Values per step of the action input: the action's size, 1 for a latent code, 0 without actions. */
function actionWidth(dynamics: Dynamics): number {
  const action = dynamics.shape.action;
  return action.kind === 'latent' ? 1 : action.kind === 'none' ? 0 : action.size;
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
  for (let p = 0; p < P; p++)
    for (let m = 0; m < hood.M; m++) if (hood.mask[p * hood.M + m] === 0) count[p * P + hood.index[p * hood.M + m]]++;
  return count.map((k) => (k > 0 ? Math.log(k) : -1e9));
}

/**
 * Neighbourhood attention on token rows x [n*P, D] -> [n*P, D], the same function as NeighbourhoodAttention's own
 * form (attention.ts) in another: there each token's M neighbours are gathered and scored elementwise, which in
 * ORT cost twice the dense layers' time (broadcast Mul, ReduceSum, Gather over [n, P, M, D]); here the scores of
 * all token pairs are one batched MatMul per head, masked to the neighbourhood (neighbourhoodMask), and the
 * weighted values another. Same projections, scale and softmax; the sums run in another order (differences
 * ~1e-7, inside the parity test's 1e-4). Its cost grows as P^2 (README, *What is weak*).
 */
function exportNeighbourhoodAttention(ops: OnnxOps, layer: NeighbourhoodAttention, x: string): string {
  const { heads: h, width: d, hood } = layer;
  const dh = d / h,
    P = hood.rows * hood.cols;
  const heads = (y: string, perm: number[]) => ops.transpose(ops.reshape(y, [-1, P, h, dh]), perm);
  const q = heads(layer.query.apply(ops, x), [0, 2, 1, 3]); //                                       [n, H, P, dh]
  const k = heads(layer.key.apply(ops, x), [0, 2, 3, 1]); //                                         [n, H, dh, P]
  const v = heads(layer.value.apply(ops, x), [0, 2, 1, 3]); //                                       [n, H, P, dh]
  // [n, H, P, P]
  const scores = ops.add(ops.mul(ops.matMul(q, k), 1 / Math.sqrt(dh)), ops.constant(neighbourhoodMask(hood), [P, P]));
  const out = ops.transpose(ops.matMul(ops.softmax(scores), v), [0, 2, 1, 3]); //                   [n, P, H, dh]
  return layer.output.apply(ops, ops.reshape(out, [-1, d])); //                                     [n*P, D]
}

const exporters = [layerExporter(NeighbourhoodAttention, exportNeighbourhoodAttention)];

/**
 * The graph inputs of a step: the window (`window`, its shape), the current frame, and the action when `withActions`.
 */
function stepInputs(dynamics: Dynamics, window: ExportInput, withActions: boolean): ExportInput[] {
  const { geometry: g } = dynamics.shape;
  const kind = dynamics.shape.action.kind;
  if (withActions && kind === 'none')
    throw new Error('spatial: this model has no actions to export an action input for');
  const inputs: ExportInput[] = [window, { name: 'current', shape: ['batch', g.P, g.pp] }];
  if (withActions)
    inputs.push({
      name: 'action',
      shape: ['batch', actionWidth(dynamics)],
      dtype: kind === 'real' ? 'float32' : 'int32',
    });
  return inputs;
}

/** ONNX bytes of one token step (see the file header): the 'vq' tokenizer's counterpart of exportRolloutStep. */
export function exportTokenRolloutStep(dynamics: Dynamics, table: tf.Tensor2D, withActions: boolean): Uint8Array {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  return exportOnnx(
    (ops) => {
      const next = tokenStep(ops, dynamics, ops.param(table), 'ids', 'current', withActions ? 'action' : null);
      return { next_ids: next.ids, prediction: next.prediction };
    },
    stepInputs(dynamics, { name: 'ids', shape: ['batch', C, g.P], dtype: 'int32' }, withActions),
    {
      name: 'spatial-token-step',
      docString: 'spatial: one rollout step of the token dynamics (argmax ids, decoded patches)',
      modules: { dynamics },
      exporters,
    },
  );
}

/**
 * ONNX bytes of one rollout step (see the file header). `withActions` declares the action input; a model
 * with actions forecast without them runs unconditioned, as the tfjs step does.
 */
export function exportRolloutStep(dynamics: Dynamics, deadzone: number, withActions: boolean): Uint8Array {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  return exportOnnx(
    (ops) => {
      const next = rolloutStep(
        ops,
        dynamics,
        deadzone,
        'context',
        'current',
        withActions ? 'action' : null,
        ops.constant(g.haloIndex, [g.P * g.J]),
      );
      return { next_context: next.context, prediction: next.prediction };
    },
    stepInputs(dynamics, { name: 'context', shape: ['batch', C, g.P, g.J] }, withActions),
    {
      name: 'spatial-rollout-step',
      docString: 'spatial: one rollout step of the dynamics (clip, deadzone, shifted halo context)',
      modules: { dynamics },
      exporters,
    },
  );
}

/**
 * A chunk stepper over an exported step: the context `window` (fed as `input`, returned as `output`) and the last
 * frame stay in ORT tensors from step to step; only the prediction is read out.
 */
function sessionStepper(
  session: OrtSession,
  input: string,
  output: string,
  window: OrtTensor,
  last: Float32Array,
  n: number,
  g: PatchGeometry,
  A: number,
): ChunkStepper {
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
  return (halos, last, n) =>
    sessionStepper(session, 'context', 'next_context', ortTensor(halos, [n, C, g.P, g.J]), last, n, g, A);
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
  static async open(
    dynamics: Dynamics,
    deadzone: number,
    tokenizer: PatchTokenizer | null = null,
  ): Promise<OnnxRollout> {
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
          throw new Error(
            `spatial: cannot forecast through ONNX Runtime (${(e as Error).message}); set forecastBackend=tfjs to ` +
              `forecast with tfjs`,
          );
        }
      })();
      this.sessions.set(withActions, s);
    }
    return s;
  }

  /** The engine for rollout.ts, for actions of A values per step (A = 0: none). */
  async engine(A: number): Promise<StepEngine> {
    const session = await this.session(A > 0);
    return this.tokenizer
      ? tokenSessionEngine(session, this.dynamics, this.tokenizer, A)
      : sessionEngine(session, this.dynamics, A);
  }

  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    // a session that failed to open has nothing to release
    for (const s of sessions) await (await s.catch(() => null))?.release();
  }
}
