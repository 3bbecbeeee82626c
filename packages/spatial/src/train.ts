// The training loops. Stage 1 (when there are actions and a codebook): the latent action model learns, from
// (frame t, frame t+1) alone, the code its decoder needs to predict frame t+1 (no action labels). Stage 2:
// the dynamics learns the next frame from the last C frames and an action: the true one, or (action-free)
// the latent code stage 1 assigns to the transition; with rolloutSteps R > 0 it is also trained on its own
// rollouts (self-forcing: R more steps fed with its own clipped predictions, gradients through them). With
// the 'vq' tokenizer (trained before, tokenizer.ts), the dynamics instead learns the next frame's token ids
// from the context frames' ids (cross-entropy, teacher forcing: an argmax has no gradient to self-force through).

import type { Rng } from '@worldbench/core';
import { tf, tfjsOps as ops, train, type TrainResult } from '@worldbench/neural';
import type { SpatialConfig } from './config';
import type { Samples, TrainingData } from './dataset';
import type { Dynamics, LatentActionModel } from './model';
import type { PatchGeometry } from './patches';
import { nextWindow } from './rollout';
import { DeadCodeRestarts } from './vq';

/** The training data as tensors; free with dispose(). */
export interface DataTensors {
  halos: tf.Tensor3D; //   [F, P, J]
  cores: tf.Tensor3D; //   [F, P, pp]
  haloIndex: tf.Tensor1D; // [P * J] int32, for nextWindow
  dispose(): void;
}

export function dataTensors(g: PatchGeometry, d: TrainingData): DataTensors {
  const halos = tf.tensor3d(d.frames.halos, [d.frames.count, g.P, g.J]);
  const cores = tf.tensor3d(d.frames.cores, [d.frames.count, g.P, g.pp]);
  const haloIndex = tf.tensor1d(g.haloIndex, 'int32');
  return { halos, cores, haloIndex, dispose: () => tf.dispose([halos, cores, haloIndex]) };
}

/** Rows of a data tensor (no gradient: data, not parameters). */
export function rowsOf<R extends tf.Rank>(table: tf.Tensor, rows: Int32Array): tf.Tensor<R> {
  return tf.gatherND(table, tf.tensor2d(rows, [rows.length, 1], 'int32')) as tf.Tensor<R>;
}

/** Step count of a training stage: epochs over n examples, clamped. */
export function stepsFor(config: SpatialConfig, n: number, share = 1): number {
  const planned = Math.round((config.epochs * n) / config.batchSize);
  return Math.max(1, Math.round(share * Math.min(config.maxSteps, Math.max(config.minSteps, planned))));
}

function column(samples: Int32Array, width: number, batch: Int32Array, col: number): Int32Array {
  return Int32Array.from(batch, (s) => samples[s * width + col]);
}

/** The frame rows of a minibatch's C context frames, sample-major [b * C]. */
function contextRows(samples: Samples, C: number, batch: Int32Array): Int32Array {
  const rows = new Int32Array(batch.length * C);
  batch.forEach((s, i) => rows.set(samples.context.subarray(s * C, (s + 1) * C), i * C));
  return rows;
}

/**
 * The trainer settings of every dynamics stage: warm-up, early stopping on a held-out share (from 20 samples), Adam
 * with beta2 0.99.
 */
function dynamicsSchedule(samples: Samples, config: SpatialConfig, steps: number, rng: Rng, signal?: AbortSignal) {
  const holdout = samples.count >= 20 ? config.holdout : 0;
  const trainCount = samples.count - Math.round(samples.count * holdout);
  return {
    n: samples.count,
    batchSize: config.batchSize,
    steps,
    lr: config.lr,
    warmup: Math.min(100, Math.floor(steps / 5)),
    rng,
    holdout,
    patience: config.patience,
    evalEvery: Math.max(25, Math.ceil(trainCount / config.batchSize)),
    adam: { beta2: 0.99 },
    signal,
  };
}

/**
 * A minibatch's inputs: the halo patches of its C context frames [b, C, P, J] and its last frame's core patches [b, P,
 * pp].
 */
function contextOf(
  t: DataTensors,
  samples: Samples,
  g: PatchGeometry,
  C: number,
  batch: Int32Array,
): { context: tf.Tensor4D; current: tf.Tensor3D } {
  const context = tf.reshape(rowsOf(t.halos, contextRows(samples, C, batch)), [
    batch.length,
    C,
    g.P,
    g.J,
  ]) as tf.Tensor4D;
  return { context, current: rowsOf<tf.Rank.R3>(t.cores, column(samples.context, C, batch, C - 1)) };
}

// region latent action model ------------------------------------------------------------------------

export interface LatentTraining {
  result: TrainResult;
  /** Code restarts done (codes unused over a window, moved onto badly reconstructed transitions). */
  restarts: number;
}

/** Stage 1: trains `lam` on the samples (R = 0: one context, one target each). */
export async function trainLatentActionModel(
  lam: LatentActionModel,
  t: DataTensors,
  samples: Samples,
  config: SpatialConfig,
  steps: number,
  rng: Rng,
  signal?: AbortSignal,
): Promise<LatentTraining> {
  const { geometry: g, contextFrames: C } = lam.shape;
  const restartEvery = 25;
  const restarts = new DeadCodeRestarts(lam.quantizer, rng.fork('restart'), steps);
  const result = await train({
    params: lam.params(),
    n: samples.count,
    batchSize: config.batchSize,
    steps,
    lr: config.lr,
    warmup: Math.min(100, Math.floor(steps / 5)),
    rng: rng.fork('batches'),
    evalEvery: restartEvery,
    signal,
    loss: (batch) => {
      const b = batch.length;
      const { context, current } = contextOf(t, samples, g, C, batch); //                       [b, C, P, J], [b, P, pp]
      const lastRows = column(samples.context, C, batch, C - 1);
      const nextRows = column(samples.targets, samples.targets.length / samples.count, batch, 0);
      const next = rowsOf<tf.Rank.R3>(t.cores, nextRows); //                                    [b, P, pp]
      const z = lam.encode(
        ops,
        rowsOf<tf.Rank.R3>(t.halos, lastRows),
        rowsOf<tf.Rank.R3>(t.halos, nextRows),
      ) as tf.Tensor2D; // [b, latentDim]
      const q = lam.quantizer.quantise(z);
      const predicted = lam.decode(ops, context, current, q.st); //                             [b, P, pp]
      //                     [b] squared error per frame
      const perRow = tf.sum(tf.square(tf.sub(predicted, next)), [1, 2]);
      // bookkeeping for code restarts: usage, and the encoder outputs of the worst-reconstructed rows
      restarts.record(q, perRow as tf.Tensor1D, Math.floor(b / 4));
      return tf.add(tf.mean(perRow), q.loss) as tf.Scalar;
    },
    onProgress: (record) => restarts.restartDead(record.step),
  });
  return { result, restarts: restarts.restarts };
}

/** The latent code of every transition (frame rows `current` -> `next`). */
export function latentCodes(
  lam: LatentActionModel,
  t: DataTensors,
  current: Int32Array,
  next: Int32Array,
  chunk = 256,
): Int32Array {
  const out = new Int32Array(current.length);
  for (let start = 0; start < current.length; start += chunk) {
    const a = current.subarray(start, start + chunk),
      b = next.subarray(start, start + chunk);
    const z = tf.tidy(
      () => lam.encode(ops, rowsOf<tf.Rank.R3>(t.halos, a), rowsOf<tf.Rank.R3>(t.halos, b)) as tf.Tensor2D,
    );
    out.set(lam.quantizer.nearest(z), start);
    z.dispose();
  }
  return out;
}

// endregion
// region dynamics -----------------------------------------------------------------------------------------

/**
 * Stage 2: trains `dynamics` on the samples. `actions` holds the encoder input of every transition row
 * ([transitions, A]: float32 real values, or int32 ids / latent codes), or null without actions; `weights`
 * [P, pp] weighs each pixel's squared error (see pixelWeights). Two phases when the samples hold rollouts:
 * teacher forcing for `teacherShare` of the steps, then self-forcing (each phase with its own warm-up,
 * cosine decay and early stopping: a self-forcing loss is not comparable with a one-step loss, so one
 * early-stopping record across both would restore the teacher-forced weights).
 */
export async function trainDynamics(
  dynamics: Dynamics,
  t: DataTensors,
  samples: Samples,
  actions: tf.Tensor2D | null,
  weights: tf.Tensor,
  config: SpatialConfig,
  steps: number,
  rng: Rng,
  signal?: AbortSignal,
): Promise<TrainResult[]> {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  const stride = samples.targets.length / Math.max(1, samples.count); // R + 1 targets per sample
  const phase = (width: number, phaseSteps: number, phaseRng: Rng) =>
    train({
      params: dynamics.params(),
      ...dynamicsSchedule(samples, config, phaseSteps, phaseRng, signal),
      loss: (batch) => {
        let { context, current } = contextOf(t, samples, g, C, batch); //                       [b, C, P, J], [b, P, pp]
        let loss: tf.Tensor = tf.scalar(0);
        for (let r = 0; r < width; r++) {
          // [b, A]
          const a = actions ? rowsOf<tf.Rank.R2>(actions, column(samples.transitions, stride, batch, r)) : null;
          const predicted = dynamics.step(ops, context, current, a) as tf.Tensor3D; //                     [b, P, pp]
          const target = rowsOf<tf.Rank.R3>(t.cores, column(samples.targets, stride, batch, r));
          loss = tf.add(loss, tf.mean(tf.mul(tf.square(tf.sub(predicted, target)), weights)));
          if (r + 1 < width) {
            // self-forcing: the clipped prediction becomes the newest context frame
            current = tf.clipByValue(predicted, 0, 1) as tf.Tensor3D;
            context = nextWindow(ops, g, C, context, current, t.haloIndex) as tf.Tensor4D; //             [b, C, P, J]
          }
        }
        return tf.div(loss, width) as tf.Scalar;
      },
    });
  if (stride === 1) return [await phase(1, steps, rng)];
  const teacherSteps = Math.round(steps * config.teacherShare);
  const results: TrainResult[] = [];
  if (teacherSteps > 0) results.push(await phase(1, teacherSteps, rng.fork('teacher')));
  if (steps - teacherSteps > 0) results.push(await phase(stride, steps - teacherSteps, rng.fork('self-forcing')));
  return results;
}

/**
 * Stage 2 on tokens: trains `dynamics` (shape.tokens = K) to predict each patch's next token id from the
 * context frames' ids: `ids` [frames, P] int32 holds the tokenizer's id of every patch of every training
 * frame; the samples' first target is the next frame (R = 0); `actions` as in trainDynamics. Loss: the
 * mean cross-entropy over patches.
 */
export async function trainTokenDynamics(
  dynamics: Dynamics,
  ids: tf.Tensor2D,
  samples: Samples,
  actions: tf.Tensor2D | null,
  config: SpatialConfig,
  steps: number,
  rng: Rng,
  signal?: AbortSignal,
): Promise<TrainResult> {
  const { geometry: g, contextFrames: C, tokens: K } = dynamics.shape;
  const stride = samples.targets.length / Math.max(1, samples.count);
  return train({
    params: dynamics.params(),
    ...dynamicsSchedule(samples, config, steps, rng, signal),
    loss: (batch) => {
      const b = batch.length;
      // [b, C, P] int32
      const context = tf.reshape(rowsOf(ids, contextRows(samples, C, batch)), [b, C, g.P]) as tf.Tensor3D;
      const a = actions ? rowsOf<tf.Rank.R2>(actions, column(samples.transitions, stride, batch, 0)) : null;
      const target = rowsOf<tf.Rank.R2>(ids, column(samples.targets, stride, batch, 0)); //           [b, P] int32
      const logits = tf.reshape(dynamics.logits(ops, context, a), [b * g.P, K]); //                       [b*P, K]
      const onehot = tf.oneHot(tf.reshape(target, [b * g.P]) as tf.Tensor1D, K); //                 [b*P, K]
      return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    },
  });
}

// endregion
