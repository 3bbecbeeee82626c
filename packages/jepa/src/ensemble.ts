// The disagreement heads of act() (Plan2Explore, Sekar et al. 2020): K small MLPs, each predicting the next latent
// tokens from the current ones and the action. They are trained after the model's own training, on its final frozen
// latents (the online encoder's, as act() encodes the present), each on its own bootstrap resample of the training
// transitions and from its own initialisation, both drawn from the passed RNG. Where the training data went the heads
// agree; away from it each extrapolates its own way, so their disagreement marks what the model has not seen.
//
// Nothing of them reaches the encoder, the predictor or the probe: the latents are arrays computed once, and the
// heads train on their own optimiser after the model's training. The forecasts are the same, draw for draw, with K = 1
// (no heads) and any other K.
//
// Shapes: M examples, N state tokens, D = the token width, F action features (real: A values; categorical: a one-hot
// per action element, A V), Hd = actHeadHidden, K heads.
import type { Rng, RunContext } from '@worldbench/core';
import { Dense, Module, type Ops, tf, tfjsOps, train } from '@worldbench/neural';
import { inputOf, pickStates, type TrainingSet } from './batch';
import type { JepaConfig } from './config';
import type { ActionLayout } from './layout';
import { widthOf, type Geometry, type Networks } from './model';
import { batchSizeFor } from './schedule';

/** Action features per action element: its value (real) or a one-hot over its vocab (categorical). */
export function actionFeatures(action: ActionLayout): number {
  return action.kind === 'real' ? action.size : action.size * action.vocab;
}

/**
 * One head: z_{t+1} = z_t + out(relu(in([z_t, pooled z_t, a_t]))) per token, `pooled` the mean over the state's real
 * tokens, so a token's prediction sees the whole state (a grid cell, its neighbours' summary).
 */
export class DisagreementHead extends Module {
  /** [2 D + F, Hd]: the token's latent, the pooled latent, the action features. */
  readonly input: Dense;
  /** [Hd, D]: the change of the token's latent. */
  readonly output: Dense;

  constructor(
    rng: Rng,
    private readonly width: number,
    private readonly features: number,
    hidden: number,
  ) {
    super();
    this.input = new Dense(rng.fork('input'), 2 * width + features, hidden, { init: 'he' });
    this.output = new Dense(rng.fork('output'), hidden, width);
  }

  /** z [M, N, D], tokenMask [M, N], action features [M, F] -> the next latents [M, N, D]. */
  apply<T>(ops: Ops<T>, z: T, tokenMask: T, action: T): T {
    const D = this.width,
      F = this.features;
    const w = ops.param(this.input.w); //                                                [2D + F, Hd]
    const mask = ops.reshape(tokenMask, [0, 0, 1]); //                                   [M, N, 1]
    const pooled = ops.div(ops.sum(ops.mul(z, mask), 1), ops.maximum(ops.sum(mask, 1), 1)); // [M, D]
    // the state's and the action's share of the first layer, the same for every token: [M, 1, Hd]
    const shared = ops.add(
      ops.matMul(pooled, ops.slice(w, 0, D, 2 * D)),
      ops.matMul(action, ops.slice(w, 0, 2 * D, 2 * D + F)),
    );
    const h = ops.relu(
      ops.add(ops.dense(z, ops.slice(w, 0, 0, D), ops.param(this.input.b)), ops.reshape(shared, [0, 1, -1])),
    );
    return ops.add(z, this.output.apply(ops, h)); //                                     [M, N, D]
  }

  parts() {
    return { input: this.input, output: this.output };
  }
}

/** The K heads. */
export class DisagreementHeads extends Module {
  readonly heads: DisagreementHead[];

  constructor(
    rng: Rng,
    geometry: Geometry,
    config: JepaConfig,
    readonly action: ActionLayout,
  ) {
    super();
    const D = widthOf(geometry.state, config);
    this.heads = Array.from(
      { length: config.actHeads },
      (_, k) => new DisagreementHead(rng.fork(`head${k}`), D, actionFeatures(action), config.actHeadHidden),
    );
  }

  /** Encoded actions [M, A] (real values, or rows slot * V + value as inputs.ts's encodeActions) -> [M, F]. */
  featuresOf<T>(ops: Ops<T>, actions: T): T {
    if (this.action.kind === 'real') return actions;
    return ops.sum(ops.oneHot(actions, actionFeatures(this.action)), 1); //              [M, A V]
  }

  /**
   * The heads' disagreement along plans: each head rolls its own latents from z0 [M, N, D] under the actions of each
   * step (H x [M, F] features); per step the variance across heads, averaged over dimensions and real tokens; summed
   * over the steps: [M].
   */
  disagreement<T>(ops: Ops<T>, z0: T, tokenMask: T, actions: readonly T[]): T {
    const K = this.heads.length;
    const zs = this.heads.map(() => z0);
    const tokens = ops.maximum(ops.sum(tokenMask, 1), 1); //                             [M]
    let total: T | null = null;
    for (const a of actions) {
      for (let k = 0; k < K; k++) zs[k] = this.heads[k].apply(ops, zs[k], tokenMask, a);
      let mean = zs[0];
      for (let k = 1; k < K; k++) mean = ops.add(mean, zs[k]);
      mean = ops.div(mean, K); //                                                        [M, N, D]
      let spread: T | null = null;
      for (const z of zs) {
        const d = ops.sub(z, mean);
        spread = spread === null ? ops.mul(d, d) : ops.add(spread, ops.mul(d, d));
      }
      const variance = ops.mean(ops.div(spread as T, K), 2); //                          [M, N]
      const step = ops.div(ops.sum(ops.mul(variance, tokenMask), 1), tokens); //         [M]
      total = total === null ? step : ops.add(total, step);
    }
    return total as T;
  }

  parts() {
    return { heads: this.heads };
  }
}

/** States encoded per call when the latents of a training set are made. */
const LATENT_CHUNK = 256;

/** The online encoder's latents of every state of the training set (index e * (T + 1) + t): [E (T + 1), N, D]. */
function latentsOf(nets: Networks, set: TrainingSet): tf.Tensor3D {
  const rows = set.arrays.states.count;
  const parts: tf.Tensor[] = [];
  for (let from = 0; from < rows; from += LATENT_CHUNK) {
    const idx = Int32Array.from({ length: Math.min(LATENT_CHUNK, rows - from) }, (_, i) => from + i);
    parts.push(
      tf.tidy(() => {
        const states = pickStates(set.states, idx);
        return nets.online.apply(tfjsOps, inputOf(states)) as tf.Tensor;
      }),
    );
  }
  const all = tf.concat(parts, 0) as tf.Tensor3D;
  tf.dispose(parts);
  return all;
}

/**
 * Trains the heads in place on the training set's transitions (z_t, a_t) -> z_{t+1}, the latents of the networks as
 * they are now (frozen): `actHeadSteps` Adam steps on minibatches of the model's size (schedule.ts batchSizeFor), head
 * k's loss weighted by how often its bootstrap resample holds each transition. Returns the mean loss of the heads over
 * the last tenth of the steps.
 */
export async function trainHeads(
  heads: DisagreementHeads,
  nets: Networks,
  set: TrainingSet,
  config: JepaConfig,
  rng: Rng,
  run: RunContext,
): Promise<number> {
  const actions = set.actions;
  if (!actions) throw new Error('jepa: the disagreement heads need training data with actions');
  const M = set.startEpisode.length,
    T = set.steps,
    K = heads.heads.length;
  const from = Int32Array.from(set.startEpisode, (e, i) => e * (T + 1) + set.startStep[i]);
  const step = Int32Array.from(set.startEpisode, (e, i) => e * T + set.startStep[i]);
  // bootstrap: head k weighs transition i by the times it is drawn in M draws with replacement
  const boot = new Float32Array(K * M);
  for (let k = 0; k < K; k++) {
    const draws = rng.fork(`bootstrap${k}`);
    for (let i = 0; i < M; i++) boot[k * M + draws.int(M)] += 1;
  }
  const latents = latentsOf(nets, set);
  const data = tf.tidy(() => {
    const at = tf.tensor1d(from, 'int32'),
      next = tf.tensor1d(
        from.map((i) => i + 1),
        'int32',
      );
    return {
      z: tf.gather(latents, at), //                                                      [M, N, D]
      next: tf.gather(latents, next), //                                                 [M, N, D]
      // a token counts where it is real at both ends of the step
      mask: tf.mul(tf.gather(set.states.tokenMask, at), tf.gather(set.states.tokenMask, next)), // [M, N]
      action: heads.featuresOf(tfjsOps, tf.gather(actions, tf.tensor1d(step, 'int32')) as tf.Tensor), // [M, F]
      boot: tf.tensor2d(boot, [K, M]),
    };
  });
  latents.dispose();
  const tailFrom = config.actHeadSteps - Math.max(1, Math.round(config.actHeadSteps / 10));
  let tail = 0,
    count = 0;
  try {
    await train({
      params: heads.params(),
      n: M,
      // the model's own batch rule: a grid read cell by cell takes cellBatch windows a step, many tokens fewer windows
      batchSize: batchSizeFor(M, set, config),
      steps: config.actHeadSteps,
      lr: config.lr,
      warmup: Math.min(50, Math.round(config.actHeadSteps * 0.1)),
      rng: rng.fork('batches'),
      adam: { weightDecay: config.weightDecay, beta2: 0.99 },
      loss: (batch) => {
        const idx = tf.tensor1d(batch, 'int32');
        const z = tf.gather(data.z, idx),
          next = tf.gather(data.next, idx),
          mask = tf.gather(data.mask, idx),
          action = tf.gather(data.action, idx),
          weights = tf.gather(data.boot, idx, 1); //                                     [K, b]
        let loss: tf.Tensor | null = null;
        heads.heads.forEach((head, k) => {
          const d = tf.sub(head.apply(tfjsOps, z, mask, action) as tf.Tensor, next);
          const w = tf.mul(mask, tf.reshape(tf.slice(weights, [k, 0], [1, -1]), [-1, 1])); // [b, N]
          const l = tf.div(tf.sum(tf.mul(tf.mean(tf.mul(d, d), 2), w)), tf.maximum(tf.sum(w), 1));
          loss = loss === null ? l : tf.add(loss, l);
        });
        return tf.div(loss as unknown as tf.Tensor, K) as tf.Scalar;
      },
      afterStep: ({ step: s, loss }) => {
        if (s - 1 >= tailFrom) (tail += loss), (count += 1);
      },
      signal: run.signal,
    });
  } finally {
    tf.dispose(Object.values(data));
  }
  return tail / Math.max(1, count);
}
