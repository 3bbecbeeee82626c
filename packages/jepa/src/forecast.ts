// Forecasting: encode the last observed state, roll the predictor out H steps in latent space with the
// given actions, and decode every predicted latent with the probe.
import { block, episodeCount, tensor, type Query, type Tensor, type TensorSpec } from '@worldbench/core';
import { tf } from '@worldbench/neural';
import { decodeInto, encodeActions, encodeContext, encodeStates } from './inputs';
import { decodeProbe } from './losses';
import type { Geometry, StateInput } from './model';
import type { Networks } from './train';

/** Windows forecast per chunk: bounds the memory of long rollouts of big batches. */
const CHUNK = 256;

/** [B, H, ...viewShape]. With the change readout (real views): last observation + the decoded change from z_0 to zhat_h. */
export function forecastView(nets: Networks, geometry: Geometry, spec: TensorSpec, q: Query): Tensor {
  const layout = geometry.state;
  const hist = q.history.views[q.view]; //                                            [B, K, ...viewShape]
  const maskHist = layout.maskView ? q.history.views[layout.maskView] : null;
  if (!hist) throw new Error(`jepa: the query's history has no view "${q.view}"`);
  if (layout.maskView && !maskHist) throw new Error(`jepa: the query's history lacks the mask view "${layout.maskView}" of ${q.view}`);
  const B = episodeCount(q.history);
  const K = hist.shape[1];
  const H = q.horizon;
  const last = encodeStates(layout, B, (b, lag) => block(hist, b, Math.max(0, K - 1 - lag)), (b) => (maskHist ? block(maskHist, b, K - 1) : null));
  const L = layout.lags;
  const change = nets.probe.change;
  // change readout: standardised change = probe output * deltaStd / std, per token slot
  const ratio = change ? Float32Array.from(layout.elementOf, (i) => (i >= 0 ? (layout.deltaStd as number[])[i] / (layout.std as number[])[i] : 0)) : null;
  const ctx = encodeContext(geometry.context, q.history.context, B);
  const action = geometry.action;
  const A = action?.size ?? 0;
  const acts = action && q.actions ? encodeActions(action, B * H, (i) => block(q.actions as Tensor, Math.floor(i / H), i % H)) : null;
  const out = tensor([B, H, ...spec.shape]); //                                     [B, H, ...viewShape]
  const { tokens: N, slots: S } = layout;
  const R = geometry.context.tokens;
  const [lo, hi] = spec.range ?? [-Infinity, Infinity];
  for (let from = 0; from < B; from += CHUNK) {
    const b = Math.min(CHUNK, B - from);
    const decoded = tf.tidy(() => {
      const input: StateInput = {
        ids: last.ids ? tf.tensor3d(last.ids.subarray(from * N * S, (from + b) * N * S), [b, N, S], 'int32') : undefined,
        x: last.x ? tf.tensor3d(last.x.subarray(from * N * L * S, (from + b) * N * L * S), [b, N, L * S]) : undefined,
        tokenMask: tf.tensor2d(last.tokenMask.subarray(from * N, (from + b) * N), [b, N]),
      };
      const ctxIds = ctx ? tf.tensor3d(ctx.ids.subarray(from * R * ctx.slots, (from + b) * R * ctx.slots), [b, R, ctx.slots], 'int32') : null;
      const ctxTokens = nets.predictor.embedContext(ctxIds); //                       [b, R, D]
      let z = nets.online.apply(input, ctxIds); //                                    [b, N, D]
      const steps: tf.Tensor3D[] = [];
      const z0 = z;
      const scale = ratio ? tf.tensor2d(ratio, [N, S]) : null; //                      [N, S]
      for (let h = 0; h < H; h++) {
        let a: tf.Tensor2D | null = null;
        if (acts) {
          // actions of step h for windows [from, from + b): rows (from + i) * H + h
          const source = (acts.x ?? acts.ids) as Float32Array | Int32Array;
          const rows = source instanceof Float32Array ? new Float32Array(b * A) : new Int32Array(b * A);
          for (let i = 0; i < b; i++) rows.set(source.subarray(((from + i) * H + h) * A, ((from + i) * H + h + 1) * A), i * A);
          a = tf.tensor2d(rows, [b, A], rows instanceof Int32Array ? 'int32' : 'float32');
        }
        const values = ctxTokens && ctxIds && nets.predictor.pointer ? nets.probe.valuePointer(z, R) : null; // [b, N, R]
        z = nets.predictor.apply(z, a, ctxTokens, input.tokenMask, values);
        if (scale && input.x) {
          const delta = tf.mul(nets.probe.apply(z, z0), scale); //                       [b, N, S] standardised change
          steps.push(tf.add(tf.slice(input.x, [0, 0, 0], [b, N, S]), delta) as tf.Tensor3D); // lag 0 of x: the last observation
        } else steps.push(decodeProbe(nets.probe.apply(z))); //                         [b, N, S]
      }
      return tf.stack(steps, 1).dataSync() as Float32Array; //                      [b, H, N, S]
    });
    for (let i = 0; i < b; i++)
      for (let h = 0; h < H; h++) {
        const at = ((from + i) * H + h) * layout.size;
        decodeInto(layout, out.data, decoded.subarray((i * H + h) * N * S, (i * H + h + 1) * N * S), at);
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
