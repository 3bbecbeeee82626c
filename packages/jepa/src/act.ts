// act(): Plan2Explore's choice of experience. Encode each episode's present state with the online encoder (as a
// forecast starts), draw candidate action sequences of `actHorizon` steps from the scenario's action spec, roll each
// through every disagreement head in latent space (ensemble.ts), score it by the heads' disagreement summed over its
// steps, refine by the cross-entropy method (core's searchPlans), and take the first action of the best sequence.
// Receding horizon: the rest of each episode's plan, shifted by one, warm-starts the next step's search.
import {
  block,
  episodeCount,
  searchPlans,
  shiftPlans,
  sizeOf,
  tensor,
  type Episodes,
  type Rng,
  type Tensor,
  type TensorSpec,
} from '@worldbench/core';
import { tf, tfjsOps } from '@worldbench/neural';
import type { JepaConfig } from './config';
import type { DisagreementHeads } from './ensemble';
import { encodeActions, encodeStates } from './inputs';
import type { Geometry, Networks } from './model';

/** The plans of the last act() call and the history length they were made at (to warm-start the next step). */
export interface ActPlans {
  episodes: number;
  steps: number;
  plans: Float32Array; //                                                             [B, H, A]
}

/** The online encoder's latents of each episode's last observed state: z [B, N, D], tokenMask [B, N]. */
export function presentLatents(
  nets: Networks,
  geometry: Geometry,
  view: string,
  history: Episodes,
): { z: tf.Tensor3D; tokenMask: tf.Tensor2D } {
  const layout = geometry.state;
  const hist = history.views[view]; //                                                [B, T, ...viewShape]
  if (!hist) throw new Error(`jepa act: the history has no view "${view}"`);
  const maskHist = layout.maskView ? history.views[layout.maskView] : null;
  if (layout.maskView && !maskHist) throw new Error(`jepa act: the history lacks the mask view "${layout.maskView}"`);
  const B = episodeCount(history),
    T = hist.shape[1];
  const states = encodeStates(
    layout,
    B,
    (b, lag) => block(hist, b, Math.max(0, T - 1 - lag)),
    (b) => (maskHist ? block(maskHist, b, T - 1) : null),
  );
  const { tokens: N, slots: S } = layout;
  return tf.tidy(() => {
    const tokenMask = tf.tensor2d(states.tokenMask, [B, N]);
    const z = nets.online.apply(tfjsOps, {
      ids: states.ids ? tf.tensor3d(states.ids, [B, N, S], 'int32') : undefined,
      x: states.x ? tf.tensor3d(states.x, [B, N, states.x.length / (B * N)]) : undefined,
      tokenMask,
    }) as tf.Tensor3D;
    return { z, tokenMask };
  });
}

/**
 * The heads' disagreement (ensemble.ts) of plans [P, C, H, A] (flat; act()'s values) from P present latents z
 * [P, N, D]: [P * C].
 */
export function planDisagreement(
  heads: DisagreementHeads,
  geometry: Geometry,
  z: tf.Tensor3D,
  tokenMask: tf.Tensor2D,
  plans: Float32Array,
  P: number,
  C: number,
): Float64Array {
  const action = geometry.action;
  if (!action) throw new Error('jepa act: the model was built without actions');
  const A = action.size,
    H = plans.length / (P * C * A);
  // encoded actions per step: rows (p * C + c) of step h
  const encoded = encodeActions(action, P * C * H, (i) => {
    const row = Math.floor(i / H),
      h = i % H;
    return plans.subarray((row * H + h) * A, (row * H + h + 1) * A);
  });
  const scores = tf.tidy(() => {
    const byStep = encoded.x
      ? tf.tensor3d(encoded.x, [P * C, H, A])
      : tf.tensor3d(encoded.ids as Int32Array, [P * C, H, A], 'int32');
    const steps = Array.from({ length: H }, (_, h) =>
      heads.featuresOf(tfjsOps, tf.reshape(tf.slice(byStep, [0, h, 0], [-1, 1, -1]), [P * C, A])),
    );
    const problem = tf.tensor1d(
      Int32Array.from({ length: P * C }, (_, i) => Math.floor(i / C)),
      'int32',
    );
    const score = heads.disagreement(tfjsOps, tf.gather(z, problem), tf.gather(tokenMask, problem), steps); // [P C]
    return score as tf.Tensor1D;
  });
  const values = Float64Array.from(scores.dataSync());
  scores.dispose();
  return values;
}

/**
 * The next action of every episode of `history` [B, ...actionShape], and the plans it came from. `previous`: the
 * last call's plans, which warm-start this one when it is the next step of the same episodes.
 */
export async function actByDisagreement(
  nets: Networks,
  heads: DisagreementHeads,
  geometry: Geometry,
  config: JepaConfig,
  view: string,
  action: TensorSpec,
  history: Episodes,
  rng: Rng,
  previous: ActPlans | null,
): Promise<{ actions: Tensor; plans: ActPlans }> {
  const B = episodeCount(history),
    T = history.views[view]?.shape[1] ?? 0,
    A = sizeOf(action),
    H = config.actHorizon;
  const warm =
    previous && previous.episodes === B && previous.steps === T - 1 ? shiftPlans(previous.plans, B, H) : null;
  const { z, tokenMask } = presentLatents(nets, geometry, view, history);
  try {
    const { plans } = await searchPlans(
      action,
      B,
      { horizon: H, candidates: config.actCandidates, iterations: config.actIterations },
      async (candidates, P, C) => planDisagreement(heads, geometry, z, tokenMask, candidates, P, C),
      rng,
      warm,
    );
    const actions = tensor([B, ...action.shape]);
    for (let b = 0; b < B; b++) actions.data.set(plans.subarray(b * H * A, b * H * A + A), b * A);
    return { actions, plans: { episodes: B, steps: T, plans } };
  } finally {
    tf.dispose([z, tokenMask]);
  }
}
