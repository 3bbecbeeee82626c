// Forecasting: encode the last observed state, roll the predictor out H steps in latent space with the
// given actions, and decode every predicted latent with the probe. `forecastWith` holds everything but the
// networks (inputs, chunking, the change readout, decoding, masks, clipping); the networks run through a
// `RolloutNetworks` function: tfjs (`tfjsRollout`, here: model.ts's rollout run by tfjs) or ONNX Runtime
// (onnx.ts: the same networks traced into graphs).
import { block, episodeCount, tensor, type Query, type Tensor, type TensorSpec } from '@worldbench/core';
import { tf, tfjsOps as ops } from '@worldbench/neural';
import { decodeInto, encodeActions, encodeContext, encodeStates } from './inputs';
import { rollout, type Geometry, type Networks, type StateInput } from './model';

/**
 * Windows forecast per chunk: at most 256 (bounds the memory of long rollouts of big batches), and at most
 * CHUNK_TOKENS state tokens. A chunk whose activations fit in the core's caches runs faster per token: 7 windows of
 * a 24 x 24 grid at a time forecast life-like a quarter faster than 64 (1.9 s against 2.5 s a split).
 */
const CHUNK = 256;
const CHUNK_TOKENS = 4096;

/** One chunk of b windows as the networks read it (shapes: N state tokens, S slots, L lags, R context rows). */
export interface RolloutInput {
  count: number; //                          b
  horizon: number; //                        H
  ids?: Int32Array; //                       [b, N, S] categorical
  x?: Float32Array; //                       [b, N, L * S] real
  tokenMask: Float32Array; //                [b, N]
  contextIds: Int32Array | null; //          [b, R, contextSlots]
  contextSlots: number;
  /** The actions of step h [b, A]: embedding rows (int32) or values; null without actions. */
  actionsAt(h: number): Int32Array | Float32Array | null;
}

/**
 * Runs the networks over a chunk: [b, H, N, S], per step the probe's reading of the predicted latent: class
 * indices (categorical), the standardised change from the last observation (change readout) or the
 * standardised state.
 */
export type RolloutNetworks = (input: RolloutInput) => Float32Array | Promise<Float32Array>;

/**
 * [B, H, ...viewShape]. With the change readout (real views): last observation + the decoded change from z_0 to zhat_h.
 */
export async function forecastWith(
  run: RolloutNetworks,
  geometry: Geometry,
  spec: TensorSpec,
  q: Query,
  change: boolean,
  rolloutMode: 'latent' | 'decoded' = 'latent',
  anchorEvery = 0,
): Promise<Tensor> {
  const layout = geometry.state;
  if (rolloutMode === 'decoded' && layout.kind === 'categorical') run = decodedRollout(run, layout.vocab as number);
  const hist = q.history.views[q.view]; //                                            [B, K, ...viewShape]
  const maskHist = layout.maskView ? q.history.views[layout.maskView] : null;
  if (!hist) throw new Error(`jepa: the query's history has no view "${q.view}"`);
  if (layout.maskView && !maskHist)
    throw new Error(`jepa: the query's history lacks the mask view "${layout.maskView}" of ${q.view}`);
  const B = episodeCount(q.history);
  const K = hist.shape[1];
  const H = q.horizon;
  const last = encodeStates(
    layout,
    B,
    (b, lag) => block(hist, b, Math.max(0, K - 1 - lag)),
    (b) => (maskHist ? block(maskHist, b, K - 1) : null),
  );
  const { tokens: N, slots: S, lags: L } = layout;
  // change readout: standardised change = probe output * deltaStd / std, per token slot
  const ratio = change
    ? Float32Array.from(layout.elementOf, (i) =>
        i >= 0 ? (layout.deltaStd as number[])[i] / (layout.std as number[])[i] : 0,
      )
    : null;
  const ctx = encodeContext(geometry.context, q.history.context, B);
  const action = geometry.action;
  const A = action?.size ?? 0;
  const acts =
    action && q.actions
      ? encodeActions(action, B * H, (i) => block(q.actions as Tensor, Math.floor(i / H), i % H))
      : null;
  const actionSource = acts ? ((acts.x ?? acts.ids) as Float32Array | Int32Array) : null;
  const out = tensor([B, H, ...spec.shape]); //                                     [B, H, ...viewShape]
  const R = geometry.context.tokens;
  if (ratio && anchorEvery > 0 && H > anchorEvery) run = reanchoredRollout(run, anchorEvery, layout.lags, ratio);
  const [lo, hi] = spec.range ?? [-Infinity, Infinity];
  const step = new Float32Array(N * S);
  const chunk = Math.max(1, Math.min(CHUNK, Math.floor(CHUNK_TOKENS / N)));
  for (let from = 0; from < B; from += chunk) {
    const b = Math.min(chunk, B - from);
    const actionsAt = (h: number): Int32Array | Float32Array | null => {
      if (!actionSource) return null;
      // actions of step h for windows [from, from + b): rows (from + i) * H + h
      const rows = actionSource instanceof Float32Array ? new Float32Array(b * A) : new Int32Array(b * A);
      for (let i = 0; i < b; i++)
        rows.set(actionSource.subarray(((from + i) * H + h) * A, ((from + i) * H + h + 1) * A), i * A);
      return rows;
    };
    const x = last.x?.subarray(from * N * L * S, (from + b) * N * L * S);
    const decoded = await run({
      count: b,
      horizon: H,
      ids: last.ids?.subarray(from * N * S, (from + b) * N * S),
      x,
      tokenMask: last.tokenMask.subarray(from * N, (from + b) * N),
      contextIds: ctx ? ctx.ids.subarray(from * R * ctx.slots, (from + b) * R * ctx.slots) : null,
      contextSlots: ctx?.slots ?? 0,
      actionsAt,
    }); //                                                                          [b, H, N, S]
    for (let i = 0; i < b; i++)
      for (let h = 0; h < H; h++) {
        const y = decoded.subarray((i * H + h) * N * S, (i * H + h + 1) * N * S);
        if (ratio && x) {
          // lag 0 of x (the last observation) + the standardised change
          for (let n = 0; n < N; n++)
            for (let j = 0; j < S; j++) step[n * S + j] = x[(i * N + n) * L * S + j] + y[n * S + j] * ratio[n * S + j];
        } else step.set(y);
        const at = ((from + i) * H + h) * layout.size;
        decodeInto(layout, out.data, step, at);
        const maskRow = maskHist ? block(maskHist, from + i, K - 1) : null;
        for (let e = 0; e < layout.size; e++) {
          // padding (masked-out objects) is forecast as the zeros the scenario shows there
          if (maskRow && maskRow[Math.floor(e / (layout.size / layout.maskSize))] < 0.5) out.data[at + e] = 0;
          else out.data[at + e] = Math.min(hi, Math.max(lo, out.data[at + e]));
        }
      }
  }
  return out;
}

/** The networks in tfjs (the training backend). */
export function tfjsRollout(nets: Networks, geometry: Geometry): RolloutNetworks {
  const { tokens: N, slots: S, lags: L } = geometry.state;
  const R = geometry.context.tokens;
  const A = geometry.action?.size ?? 0;
  return (input) =>
    tf.tidy(() => {
      const { count: b, horizon: H } = input;
      const state: StateInput<tf.Tensor> = {
        ids: input.ids ? tf.tensor3d(input.ids, [b, N, S], 'int32') : undefined,
        x: input.x ? tf.tensor3d(input.x, [b, N, L * S]) : undefined,
        tokenMask: tf.tensor2d(input.tokenMask, [b, N]),
      };
      const ctxIds = input.contextIds ? tf.tensor3d(input.contextIds, [b, R, input.contextSlots], 'int32') : null;
      const z0 = nets.online.apply(ops, state); //                                           [b, N, D]
      const actions = Array.from({ length: H }, (_, h) => {
        const rows = input.actionsAt(h);
        return rows ? tf.tensor2d(rows, [b, A], rows instanceof Int32Array ? 'int32' : 'float32') : null;
      });
      // the training rollout: the observed values at the first step, the probe's reading after
      const latents = rollout(ops, nets, z0, state.ids ?? null, ctxIds, actions, state.tokenMask, H); // H x [b, N, D]
      const steps = latents.map((z) =>
        nets.probe.read(ops, nets.probe.apply(ops, z, nets.probe.change ? z0 : undefined)),
      ); // H x [b, N, S]
      return tf.stack(steps, 1).dataSync() as Float32Array; //                      [b, H, N, S]
    });
}

/**
 * A categorical view rolled out through its decoded states: each step is forecast one step ahead from the state
 * the probe read at the step before, re-encoded, so the predictor always starts from the encoder's latents of a
 * state (what it was trained on) instead of its own drifting latents. ids are j * (V + 1) + value per slot
 * (inputs.ts encodeStates; value V is a pad slot, left as it is).
 */
export function decodedRollout(run: RolloutNetworks, V: number): RolloutNetworks {
  return async (input) => {
    const { count: b, horizon: H } = input;
    let ids = input.ids as Int32Array;
    const NS = ids.length / b;
    const out = new Float32Array(b * H * NS);
    for (let h = 0; h < H; h++) {
      const y = await run({ ...input, horizon: 1, ids, actionsAt: () => input.actionsAt(h) }); //   [b, 1, N, S]
      for (let i = 0; i < b; i++) out.set(y.subarray(i * NS, (i + 1) * NS), (i * H + h) * NS);
      ids = ids.map((id, at) => (id % (V + 1) === V ? id : id - (id % (V + 1)) + Math.round(y[at])));
    }
    return out;
  };
}

/**
 * A real view read by its change (the change readout) rolled out in blocks of k steps: after each block the decoded
 * states become the observed history of the next, encoded again. The probe learnt the change over h steps only for
 * h <= k (the rollout length of training), so no latent is read further than that from the state it started at.
 * Returns, as the plain rollout does, each step's standardised change from the input's last observation.
 * ratio [N S] is deltaStd / std per slot (0 on pad slots, which stay as they are); L the lags of x [b, N, L S]:
 * lag 0 the standardised state, lag l the change from l to l - 1 steps back in deltaStd units (inputs.ts).
 */
export function reanchoredRollout(run: RolloutNetworks, k: number, L: number, ratio: Float32Array): RolloutNetworks {
  const NS = ratio.length;
  return async (input) => {
    const { count: b, horizon: H } = input;
    if (H <= k) return run(input);
    const x0 = input.x as Float32Array;
    const N = input.tokenMask.length / b,
      slots = NS / N;
    const out = new Float32Array(b * H * NS);
    let x = x0;
    for (let from = 0; from < H; from += k) {
      const len = Math.min(k, H - from);
      const y = await run({ ...input, horizon: len, x, actionsAt: (h) => input.actionsAt(from + h) }); // [b, len, N, S]
      const next = x.slice();
      for (let i = 0; i < b; i++)
        for (let n = 0; n < N; n++) {
          if (input.tokenMask[i * N + n] === 0) continue;
          const base = (i * N + n) * L * slots;
          for (let j = 0; j < slots; j++) {
            const r = ratio[n * slots + j];
            if (r === 0) continue;
            // standardised state at block step h (0: the block's start)
            const at = (h: number) =>
              h === 0 ? x[base + j] : x[base + j] + y[((i * len + h - 1) * N + n) * slots + j] * r;
            for (let h = 1; h <= len; h++)
              out[((i * H + from + h - 1) * N + n) * slots + j] = (at(h) - x0[base + j]) / r;
            next[base + j] = at(len);
            // lag l: the change from step len - l to len - l + 1, in the block or before it
            for (let l = 1; l < L; l++)
              next[base + l * slots + j] =
                l <= len ? (at(len - l + 1) - at(len - l)) / r : x[base + (l - len) * slots + j];
          }
        }
      x = next;
    }
    return out;
  };
}
