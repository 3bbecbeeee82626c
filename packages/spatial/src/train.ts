// The training loops. Stage 1 (when there are actions and a codebook): the latent action model learns, from
// (frame t, frame t+1) alone, the code its decoder needs to predict frame t+1 (no action labels). Stage 2:
// the dynamics learns the next frame from the last C frames and an action: the true one, or (action-free)
// the latent code stage 1 assigns to the transition; with rolloutSteps R > 0 it is also trained on its own
// rollouts (self-forcing: R more steps fed with its own clipped predictions, gradients through them). With
// the 'vq' tokenizer (trained before, tokenizer.ts), the dynamics instead learns the next frame's token ids
// from the context frames' ids (cross-entropy, teacher forcing: an argmax has no gradient to self-force through).
// Each stage's loss is in losses.ts (written once against Ops); here each step's data is cut from the training
// arrays, and stage.ts runs the stage on the engine the environment chooses (tfjs or ONNX Runtime).

import type { Rng } from '@worldbench/core';
import { tf, tfjsOps as ops, type TrainSchedule } from '@worldbench/neural';
import { type ExportInput, ForwardProbe, requestedEngine, rowsOf, type StepData } from '@worldbench/onnx';
import type { SpatialConfig } from './config';
import type { FrameTable, Samples, TrainingData } from './dataset';
import { dynamicsLoss, latentActionLoss, tokenDynamicsLoss } from './losses';
import { type DisagreementHeads, headsLoss } from './disagreement';
import type { Dynamics, LatentActionModel } from './model';
import type { PatchGeometry } from './patches';
import { type Stage, type StageResult, tensorsOf, trainStage } from './stage';
import { DeadCodeRestarts } from './vq';

/** The training data as tensors (and the frame tables they hold); free with dispose(). */
export interface DataTensors {
  halos: tf.Tensor3D; //   [F, P, J]
  cores: tf.Tensor3D; //   [F, P, pp]
  frames: FrameTable;
  dispose(): void;
}

export function dataTensors(g: PatchGeometry, d: TrainingData): DataTensors {
  const halos = tf.tensor3d(d.frames.halos, [d.frames.count, g.P, g.J]);
  const cores = tf.tensor3d(d.frames.cores, [d.frames.count, g.P, g.pp]);
  return { halos, cores, frames: d.frames, dispose: () => tf.dispose([halos, cores]) };
}

/** Rows of a data tensor (no gradient: data, not parameters). */
function tensorRows(table: tf.Tensor, rows: Int32Array): tf.Tensor3D {
  return tf.gatherND(table, tf.tensor2d(rows, [rows.length, 1], 'int32')) as tf.Tensor3D;
}

/**
 * The self-forcing schedule of n training transitions: rolloutSteps and teacherShare, or from largeFrom transitions
 * largeRolloutSteps and largeTeacherShare. rolloutSteps 0 is teacher forcing at every size: `spatial[rolloutSteps=0]`
 * is the twin that selfForcingGain compares against (runner summarize.ts), as `jepa[rolloutSteps=0]` is.
 */
export function selfForcingFor(config: SpatialConfig, n: number): { rolloutSteps: number; teacherShare: number } {
  return n >= config.largeFrom && config.rolloutSteps > 0
    ? { rolloutSteps: config.largeRolloutSteps, teacherShare: config.largeTeacherShare }
    : { rolloutSteps: config.rolloutSteps, teacherShare: config.teacherShare };
}

/** Dynamics networks of the ensemble for n training transitions: largeEnsemble from largeFrom, unless set above 1. */
export function membersFor(config: SpatialConfig, n: number): number {
  return config.ensemble === 1 && n >= config.largeFrom ? config.largeEnsemble : config.ensemble;
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

/** Rows `rows` of a table of rows `rowShape`, as step data of dims [...lead, ...rowShape]. */
function cut(table: Float32Array | Int32Array, rowShape: number[], rows: Int32Array, lead: number[]): StepData[string] {
  return { data: rowsOf(table, rowShape, rows).data, dims: [...lead, ...rowShape] };
}

/** A step input of shape [batch, ...rest] ("batch": an epoch's last step may be smaller). */
function input(name: string, rest: number[], dtype: 'float32' | 'int32' = 'float32'): ExportInput {
  return { name, shape: ['batch', ...rest], dtype };
}

/** What every frame stage reads first: the C context frames' halos `context` [b, C, P, J], the last frame `current`. */
function contextInputs(g: PatchGeometry, C: number): ExportInput[] {
  return [input('context', [C, g.P, g.J]), input('current', [g.P, g.pp])];
}

/** Their data on the examples `batch`: each sample's context frames' halos and its last frame [b, P, pp]. */
function contextData(g: PatchGeometry, C: number, frames: FrameTable, samples: Samples, batch: Int32Array): StepData {
  const b = batch.length;
  return {
    context: cut(frames.halos, [g.P, g.J], contextRows(samples, C, batch), [b, C]),
    current: cut(frames.cores, [g.P, g.pp], column(samples.context, C, batch, C - 1), [b]),
  };
}

/** The encoder input of every transition row [transitions * A] (float32 values or int32 ids), or null. */
export interface ActionTable {
  values: Float32Array | Int32Array;
  A: number;
}

/** A tensor's values as an action table (what world-model.ts made for tfjs). */
export function actionTable(actions: tf.Tensor2D | null): ActionTable | null {
  return actions ? { values: actions.dataSync() as Float32Array | Int32Array, A: actions.shape[1] } : null;
}

/**
 * The trainer settings of every dynamics stage: warm-up, early stopping on a held-out share (from 20 samples), Adam
 * with beta2 0.99.
 */
function dynamicsSchedule(count: number, config: SpatialConfig, steps: number, rng: Rng, signal?: AbortSignal) {
  const holdout = count >= 20 ? config.holdout : 0;
  const trainCount = count - Math.round(count * holdout);
  return {
    n: count,
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

// region latent action model ------------------------------------------------------------------------

export interface LatentTraining {
  result: StageResult;
  /** Code restarts done (codes unused over a window, moved onto badly reconstructed transitions). */
  restarts: number;
}

/**
 * Stage 1's loss and data: per sample its C context frames' halos, last frame, the halos of its last and next frames
 * and the next frame (R = 0 samples: one context, one target each).
 */
export function latentActionStage(lam: LatentActionModel, frames: FrameTable, samples: Samples): Stage {
  const { geometry: g, contextFrames: C } = lam.shape;
  return {
    params: lam.params(),
    modules: { lam },
    inputs: [
      ...contextInputs(g, C),
      input('lastHalo', [g.P, g.J]),
      input('nextHalo', [g.P, g.J]),
      input('next', [g.P, g.pp]),
    ],
    data: (batch) => {
      const b = batch.length;
      const last = column(samples.context, C, batch, C - 1);
      const next = column(samples.targets, samples.targets.length / samples.count, batch, 0);
      return {
        ...contextData(g, C, frames, samples, batch),
        lastHalo: cut(frames.halos, [g.P, g.J], last, [b]),
        nextHalo: cut(frames.halos, [g.P, g.J], next, [b]),
        next: cut(frames.cores, [g.P, g.pp], next, [b]),
      };
    },
    forward: (o, i) => latentActionLoss(o, lam, i),
  };
}

/** Stage 1: trains `lam` on the samples, on the engine `env` chooses. */
export async function trainLatentActionModel(
  lam: LatentActionModel,
  t: DataTensors,
  samples: Samples,
  config: SpatialConfig,
  steps: number,
  rng: Rng,
  signal?: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LatentTraining> {
  const book = new DeadCodeRestarts(lam.quantizer, rng.fork('restart'), steps);
  const schedule: TrainSchedule = {
    n: samples.count,
    batchSize: config.batchSize,
    steps,
    lr: config.lr,
    warmup: Math.min(100, Math.floor(steps / 5)),
    rng: rng.fork('batches'),
    evalEvery: 25, // restarts every 25 steps
    signal,
  };
  const result = await trainStage(latentActionStage(lam, t.frames, samples), schedule, env, {
    book,
    codebook: lam.quantizer.codebook,
    worst: (rows) => Math.floor(rows / 4),
  });
  return { result, restarts: book.restarts };
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
    const z = tf.tidy(() => lam.encode(ops, tensorRows(t.halos, a), tensorRows(t.halos, b)) as tf.Tensor2D);
    out.set(lam.quantizer.nearest(z), start);
    z.dispose();
  }
  return out;
}

// endregion
// region dynamics -----------------------------------------------------------------------------------------

/**
 * Stage 2's loss and data for rollouts of `width` steps (1: teacher forcing): per sample its C context frames' halos,
 * last frame, and per step its action and target frame; `weights` [P * pp] weighs each pixel's squared error.
 */
export function dynamicsStage(
  dynamics: Dynamics,
  frames: FrameTable,
  samples: Samples,
  actions: ActionTable | null,
  weights: Float32Array,
  width: number,
): Stage {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  const stride = samples.targets.length / Math.max(1, samples.count); // R + 1 targets per sample
  const steps = Array.from({ length: width }, (_, r) => r);
  const actionType = actions?.values instanceof Int32Array ? 'int32' : 'float32';
  return {
    params: dynamics.params(),
    modules: { dynamics },
    inputs: [
      ...contextInputs(g, C),
      ...steps.map((r) => input(`target${r}`, [g.P, g.pp])),
      ...(actions ? steps.map((r) => input(`action${r}`, [actions.A], actionType)) : []),
    ],
    data: (batch) => {
      const b = batch.length;
      const data = contextData(g, C, frames, samples, batch);
      for (const r of steps) {
        data[`target${r}`] = cut(frames.cores, [g.P, g.pp], column(samples.targets, stride, batch, r), [b]);
        if (actions)
          data[`action${r}`] = cut(actions.values, [actions.A], column(samples.transitions, stride, batch, r), [b]);
      }
      return data;
    },
    // the halo index table only where a rollout makes halos of its own predictions (an unused constant costs
    // ORT a warning)
    forward: (o, i) =>
      dynamicsLoss(
        o,
        dynamics,
        width,
        o.constant(weights, [g.P, g.pp]),
        width > 1 ? o.constant(g.haloIndex, [g.P * g.J]) : null,
        i,
      ),
  };
}

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
  env: NodeJS.ProcessEnv = process.env,
): Promise<StageResult[]> {
  const stride = samples.targets.length / Math.max(1, samples.count);
  const table = actionTable(actions);
  const pixelWeights = weights.dataSync() as Float32Array;
  const phase = (width: number, phaseSteps: number, phaseRng: Rng) =>
    trainStage(
      dynamicsStage(dynamics, t.frames, samples, table, pixelWeights, width),
      dynamicsSchedule(samples.count, config, phaseSteps, phaseRng, signal),
      env,
    );
  if (stride === 1) return [await phase(1, steps, rng)];
  const teacherSteps = Math.round(steps * config.teacherShare);
  const results: StageResult[] = [];
  if (teacherSteps > 0) results.push(await phase(1, teacherSteps, rng.fork('teacher')));
  if (steps - teacherSteps > 0) results.push(await phase(stride, steps - teacherSteps, rng.fork('self-forcing')));
  return results;
}

/** Stage 2 on tokens: loss and data (the context frames' ids [b, C, P], the action, the next frame's ids [b, P]). */
export function tokenDynamicsStage(
  dynamics: Dynamics,
  ids: Int32Array,
  samples: Samples,
  actions: ActionTable | null,
): Stage {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  const stride = samples.targets.length / Math.max(1, samples.count);
  return {
    params: dynamics.params(),
    modules: { dynamics },
    inputs: [
      input('context', [C, g.P], 'int32'),
      input('target', [g.P], 'int32'),
      ...(actions ? [input('action0', [actions.A], actions.values instanceof Int32Array ? 'int32' : 'float32')] : []),
    ],
    data: (batch) => {
      const b = batch.length;
      const data: StepData = {
        context: cut(ids, [g.P], contextRows(samples, C, batch), [b, C]),
        target: cut(ids, [g.P], column(samples.targets, stride, batch, 0), [b]),
      };
      if (actions) data.action0 = cut(actions.values, [actions.A], column(samples.transitions, stride, batch, 0), [b]);
      return data;
    },
    forward: (o, i) => tokenDynamicsLoss(o, dynamics, i),
  };
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
  env: NodeJS.ProcessEnv = process.env,
): Promise<StageResult> {
  return trainStage(
    tokenDynamicsStage(dynamics, ids.dataSync() as Int32Array, samples, actionTable(actions)),
    dynamicsSchedule(samples.count, config, steps, rng, signal),
    env,
  );
}

// endregion
// region disagreement heads ---------------------------------------------------------------------------------

/** The heads' training data: the trunk's token features [count * P * D], each patch's change [count * P * pp]. */
export interface HeadData {
  count: number;
  features: Float32Array;
  change: Float32Array;
}

/**
 * The heads' training data on the samples `rows` (one-step samples: C context frames, one target): the trunk's features
 * of each, computed once from the fitted `dynamics` in chunks (data to the heads: no gradient reaches the trunk), and
 * the change from its last frame to its target. `actions` as in trainDynamics. The features run where the training
 * engine `env` asks for: a forward graph in ONNX Runtime (the trunk's weights as its constants), or tfjs.
 */
export async function headData(
  dynamics: Dynamics,
  frames: FrameTable,
  samples: Samples,
  actions: ActionTable | null,
  rows: Int32Array,
  env: NodeJS.ProcessEnv = process.env,
  chunk = 256,
): Promise<HeadData> {
  const { geometry: g, contextFrames: C, width: D } = dynamics.shape;
  const stride = samples.targets.length / Math.max(1, samples.count);
  const inputs = [
    ...contextInputs(g, C),
    ...(actions ? [input('action', [actions.A], actions.values instanceof Int32Array ? 'int32' : 'float32')] : []),
  ];
  const probe =
    requestedEngine(env) === 'onnx'
      ? await ForwardProbe.compile({
          params: [],
          inputs,
          modules: { dynamics },
          outputs: (o, i) => ({ features: dynamics.features(o, i.context, i.action ?? null) }),
        })
      : null;
  const features = new Float32Array(rows.length * g.P * D);
  const change = new Float32Array(rows.length * g.pixels);
  try {
    for (let start = 0; start < rows.length; start += chunk) {
      const batch = rows.subarray(start, start + chunk);
      const b = batch.length;
      const data = contextData(g, C, frames, samples, batch);
      if (actions) data.action = cut(actions.values, [actions.A], column(samples.transitions, stride, batch, 0), [b]);
      if (probe) features.set((await probe.run(data, [])).features as Float32Array, start * g.P * D);
      else {
        const f = tf.tidy(() => {
          const t = tensorsOf(data);
          return dynamics.features<tf.Tensor>(ops, t.context, t.action ?? null);
        });
        features.set(f.dataSync(), start * g.P * D);
        f.dispose();
      }
      const current = data.current.data as Float32Array;
      const next = cut(frames.cores, [g.P, g.pp], column(samples.targets, stride, batch, 0), [b]).data as Float32Array;
      for (let i = 0; i < current.length; i++) change[start * g.pixels + i] = next[i] - current[i];
    }
  } finally {
    await probe?.release();
  }
  return { count: rows.length, features, change };
}

/** The heads' loss and data: per example its token features [b, P, D] and its patches' change [b, P, pp]. */
export function headsStage(heads: DisagreementHeads, P: number, data: HeadData): Stage {
  const D = heads.heads[0].width,
    pp = heads.heads[0].pp;
  return {
    params: heads.params(),
    modules: { heads },
    inputs: [input('features', [P, D]), input('change', [P, pp])],
    data: (batch) => ({
      features: cut(data.features, [P, D], batch, [batch.length]),
      change: cut(data.change, [P, pp], batch, [batch.length]),
    }),
    forward: (o, i) => headsLoss(o, heads, i),
  };
}

/** Trains the disagreement heads on their data (the dynamics' schedule: warm-up, holdout, early stopping). */
export async function trainHeads(
  heads: DisagreementHeads,
  P: number,
  data: HeadData,
  config: SpatialConfig,
  steps: number,
  rng: Rng,
  signal?: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StageResult> {
  return trainStage(headsStage(heads, P, data), dynamicsSchedule(data.count, config, steps, rng, signal), env);
}

// endregion
