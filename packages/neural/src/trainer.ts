// The training loop every neural model shares: seeded minibatches, Adam with warm-up and cosine decay,
// early stopping on a held-out slice of the training data (best weights restored), a hook after every
// optimiser step (e.g. a target network's momentum update), and no tensor left behind (each step runs inside
// tf.tidy; the optimiser state and the best-weight snapshot are freed). `train` takes the steps on tfjs;
// `trainWith` runs the same loop on another engine (a TrainEngine: @worldbench/onnx's ONNX Runtime graph).

import type { Rng } from '@worldbench/core';
import { Adam, type AdamOptions, learningRateAt } from './adam';
import { tf } from './backend';

/** What a training run is, whatever engine takes its steps: the examples, minibatches, schedule, early stopping. */
export interface TrainSchedule {
  /** Number of training examples the indices range over. */
  n: number;
  /** Examples per step; the last batch of an epoch may be smaller. */
  batchSize: number;
  /** Passes over the training part; give this or `steps`. */
  epochs?: number;
  /** Optimiser steps; give this or `epochs`. */
  steps?: number;
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warm-up to `lr`; a few hundred steady Adam's early, badly-scaled updates. Default 0. */
  warmup?: number;
  /** Learning rate at the last step, reached by cosine decay. Default lr / 10 (as nanoGPT). */
  minLr?: number;
  /** Source of the holdout split and of every minibatch order (not needed with `batches`). */
  rng?: Rng;
  /**
   * The minibatch of each step, instead of seeded epochs of the training examples (e.g. shuffledBatches with dropLast);
   * no holdout then.
   */
  batches?: () => Int32Array;
  /** Fraction of the n examples held out for early stopping (0: none, train on all). Default 0. */
  holdout?: number;
  /** Evaluations without a new best holdout loss before stopping. Default 10. */
  patience?: number;
  /** Steps between evaluations (holdout loss, progress, history). Default one epoch. */
  evalEvery?: number;
  /** Called after every optimiser step, before any evaluation: e.g. the momentum update of a target network. */
  afterStep?: (record: StepRecord) => void;
  /** Called after every evaluation. */
  onProgress?: (record: TrainRecord & { totalSteps: number }) => void;
  /** Stops training (the loop checks it every step and throws its reason). */
  signal?: AbortSignal;
}

/** A run on tfjs: the variables, the loss as a tfjs computation, Adam's options. */
export interface TrainOptions<P = undefined> extends TrainSchedule {
  /** The variables to train (e.g. [...encoder.params(), ...predictor.params()]). */
  params: tf.Variable[];
  /**
   * What a step needs without gradients (the minibatch's data, a frozen network's outputs), made before the
   * loss is taped (what `torch.no_grad()` scopes) inside the step's tf.tidy; passed to `loss`.
   */
  prepare?: (batchIdx: Int32Array) => P;
  /**
   * Mean loss over the examples `batchIdx` (indices into 0..n-1). Build the batch inside (e.g. with takeRows) or in
   * `prepare`.
   */
  loss: (batchIdx: Int32Array, prepared: P) => tf.Scalar;
  /** Adam's betas, epsilon and decoupled weight decay. */
  adam?: AdamOptions;
}

/**
 * What takes the steps of a run (`trainWith`): tfjs (`train`), or another engine such as @worldbench/onnx's ONNX
 * Runtime training graph. It owns the weights and the optimiser during the run.
 */
export interface TrainEngine {
  /** One optimiser step on the examples `batch` at learning rate `lr`; its loss, before the update. */
  step(batch: Int32Array, lr: number): number | Promise<number>;
  /** Mean loss over `batch` at the current weights, no update (the holdout loss). */
  loss(batch: Int32Array): number | Promise<number>;
  /** Keeps a copy of the current weights as the best so far (early stopping). */
  keepBest(): void;
  /** Puts the kept best weights back (after the last step). */
  restoreBest(): void;
  /** Leaves the trained weights in the model's variables and frees what the run held (always called). */
  finish(): void | Promise<void>;
}

/** One optimiser step, as `afterStep` sees it. */
export interface StepRecord {
  /** Steps done, this one included (1 after the first). */
  step: number;
  /** Planned steps. */
  totalSteps: number;
  /** Its learning rate. */
  lr: number;
  /** Its loss (before the update). */
  loss: number;
}

export interface TrainRecord {
  /** Steps done when this evaluation ran. */
  step: number;
  /** Learning rate of the last step before it. */
  lr: number;
  /** Mean training loss over the steps since the previous evaluation. */
  trainLoss: number;
  /** Loss on the holdout slice, when there is one. */
  holdoutLoss?: number;
}

export interface TrainResult {
  /** Optimiser steps taken. */
  steps: number;
  /** With a holdout: its lowest loss (the weights are restored to that point). Without: the last train loss. */
  bestLoss: number;
  /** True when patience ran out before the planned steps. */
  stoppedEarly: boolean;
  /** One record per evaluation. */
  history: TrainRecord[];
  /** The held-out example indices (empty without a holdout), e.g. to report a validation metric. */
  holdout: Int32Array;
}

/**
 * Minibatches of `indices`: each epoch a fresh seeded permutation, cut into slices of `batchSize`; the last
 * slice is smaller, or, with `dropLast`, skipped (every batch full).
 */
export function shuffledBatches(
  indices: readonly number[],
  batchSize: number,
  rng: Rng,
  dropLast = false,
): () => Int32Array {
  let order: number[] = [];
  let cursor = 0;
  return () => {
    if (dropLast ? cursor + batchSize > order.length : cursor >= order.length) {
      order = rng.shuffle(indices as number[]);
      cursor = 0;
    }
    const batch = Int32Array.from(order.slice(cursor, cursor + batchSize));
    cursor += batchSize;
    return batch;
  };
}

/** Train `params` by minimising `loss` on tfjs. Synchronous work inside; async so a caller can await it uniformly. */
export async function train<P = undefined>(options: TrainOptions<P>): Promise<TrainResult> {
  checkParams(options.params);
  return trainWith(tfjsEngine(options), options);
}

/**
 * The tfjs engine: forward + backward + Adam update of each step in one tf.tidy; the best weights kept as
 * clones; the optimiser state and the snapshot freed by `finish`.
 */
function tfjsEngine<P>(options: TrainOptions<P>): TrainEngine {
  const { params, loss } = options;
  const prepare = options.prepare ?? (() => undefined as P);
  const adam = new Adam(params, options.adam);
  let best: tf.Tensor[] | null = null;
  return {
    step: (batch, lr) =>
      tf.tidy(() => {
        const prepared = prepare(batch);
        const { value, grads } = tf.variableGrads(() => loss(batch, prepared), params);
        adam.step(
          params.map((p) => grads[p.name]),
          lr,
        );
        return value.dataSync()[0];
      }),
    loss: (batch) => tf.tidy(() => loss(batch, prepare(batch)).dataSync()[0]),
    keepBest: () => {
      tf.dispose(best ?? []);
      best = params.map((p) => tf.clone(p));
    },
    restoreBest: () => {
      // assign keeps the snapshot's data alive; finish frees the snapshot
      if (best) params.forEach((p, i) => p.assign((best as tf.Tensor[])[i]));
    },
    finish: () => {
      adam.dispose();
      tf.dispose(best ?? []);
    },
  };
}

/** A training run whose steps `engine` takes: holdout split, minibatches, schedule, early stopping, hooks. */
export async function trainWith(engine: TrainEngine, options: TrainSchedule): Promise<TrainResult> {
  const { n, lr } = options;
  try {
    checkSchedule(options);
  } catch (error) {
    await engine.finish();
    throw error;
  }

  // Holdout split: a seeded shuffle; the first nHoldout indices are held out.
  const holdoutFraction = options.holdout ?? 0;
  const nHoldout = holdoutFraction > 0 && n >= 2 ? Math.min(n - 1, Math.max(1, Math.round(n * holdoutFraction))) : 0;
  const all = options.batches
    ? Array.from({ length: n }, (_, i) => i)
    : (options.rng as Rng).shuffle(Array.from({ length: n }, (_, i) => i));
  const holdoutIdx = all.slice(0, nHoldout);
  const trainIdx = all.slice(nHoldout);

  const batchSize = Math.min(options.batchSize, trainIdx.length);
  const stepsPerEpoch = Math.ceil(trainIdx.length / batchSize);
  const totalSteps = options.steps ?? (options.epochs as number) * stepsPerEpoch;
  const warmup = Math.min(options.warmup ?? 0, totalSteps);
  const minLr = options.minLr ?? lr / 10;
  const evalEvery = options.evalEvery ?? stepsPerEpoch;
  const patience = options.patience ?? 10;
  // minibatch: the next slice of this epoch's seeded permutation of the training indices
  const nextBatch = options.batches ?? shuffledBatches(trainIdx, batchSize, options.rng as Rng);

  const history: TrainRecord[] = [];
  let bestLoss = Infinity;
  let bestEval = -1; // index in history of the best holdout loss
  let kept = false;
  let stoppedEarly = false;
  let windowSum = 0;
  let windowSteps = 0;
  let lrNow = lr;
  let step = 0;

  try {
    while (step < totalSteps) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('training aborted');
      const batch = nextBatch();
      lrNow = learningRateAt(step, totalSteps, lr, warmup, minLr);
      const stepLoss = await engine.step(batch, lrNow);
      if (!Number.isFinite(stepLoss)) {
        throw new Error(
          `training diverged: loss is ${stepLoss} at step ${step + 1} (lr ${lrNow.toExponential(2)}); ` +
            'lower lr, add warmup, or check the inputs for NaN/Infinity',
        );
      }
      windowSum += stepLoss;
      windowSteps += 1;
      step += 1;
      options.afterStep?.({ step, totalSteps, lr: lrNow, loss: stepLoss });

      if (step % evalEvery !== 0 && step !== totalSteps) continue;
      // evaluation: holdout loss, history, early stopping
      const record: TrainRecord = { step, lr: lrNow, trainLoss: windowSum / windowSteps };
      windowSum = 0;
      windowSteps = 0;
      if (nHoldout > 0) {
        record.holdoutLoss = await meanLoss(engine, holdoutIdx, batchSize);
        if (record.holdoutLoss < bestLoss) {
          bestLoss = record.holdoutLoss;
          bestEval = history.length;
          engine.keepBest();
          kept = true;
        }
      }
      history.push(record);
      options.onProgress?.({ ...record, totalSteps });
      if (nHoldout > 0 && history.length - 1 - bestEval >= patience && step < totalSteps) {
        stoppedEarly = true;
        break;
      }
    }
    if (kept) engine.restoreBest();
  } finally {
    await engine.finish();
  }

  if (nHoldout === 0) bestLoss = history[history.length - 1]?.trainLoss ?? NaN;
  return { steps: step, bestLoss, stoppedEarly, history, holdout: Int32Array.from(holdoutIdx) };
}

/** Mean of the engine's loss over `indices`, in chunks of `chunk`, weighted by chunk size; no update. */
async function meanLoss(engine: TrainEngine, indices: number[], chunk: number): Promise<number> {
  let sum = 0;
  for (let start = 0; start < indices.length; start += chunk) {
    const idx = Int32Array.from(indices.slice(start, start + chunk));
    sum += (await engine.loss(idx)) * idx.length;
  }
  return sum / indices.length;
}

function checkSchedule(o: TrainSchedule): void {
  const bad = (what: string) => {
    throw new Error(`train: ${what}`);
  };
  if (!(Number.isInteger(o.n) && o.n >= 1)) bad(`n must be a positive integer, got ${o.n}`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1))
    bad(`batchSize must be a positive integer, got ${o.batchSize}`);
  if ((o.epochs === undefined) === (o.steps === undefined)) bad('give exactly one of epochs and steps');
  const count = o.epochs ?? o.steps;
  if (!(Number.isInteger(count) && (count as number) >= 1))
    bad(`epochs/steps must be a positive integer, got ${count}`);
  if (!(o.lr > 0)) bad(`lr must be positive, got ${o.lr}`);
  const h = o.holdout ?? 0;
  if (!(h >= 0 && h < 1)) bad(`holdout must be a fraction in [0, 1), got ${h}`);
  if (o.batches && h > 0)
    bad('batches and holdout do not mix: the holdout slice is drawn from the seeded epochs; give one of them');
  if (!o.batches && !o.rng) bad('give rng (the holdout split and minibatch order are drawn from it), or batches');
  if (o.evalEvery !== undefined && !(Number.isInteger(o.evalEvery) && o.evalEvery >= 1))
    bad(`evalEvery must be a positive integer, got ${o.evalEvery}`);
}

function checkParams(params: tf.Variable[]): void {
  const names = new Set(params.map((p) => p.name));
  if (names.size !== params.length)
    throw new Error('train: params contain duplicate variable names (or the same variable twice)');
  if (params.some((p) => !p.trainable)) throw new Error('train: params contain a non-trainable variable');
}
