// The training loop. Per step, on a minibatch of rollout windows (s_t, a_t, ..., s_{t+k}) of training episodes:
//   1. encode s_t with the context (online) encoder -> z_t
//   2. encode s_{t..t+k} with the target encoder, under stop-gradient -> targets
//   3. roll the predictor out k steps on its own outputs: zhat_{j+1} = P(zhat_j, a_{t+j}), zhat_0 = z_t
//   4. loss = mean_j latentLoss(zhat_j, target_j) + VICReg variance/covariance of z_t + probe loss on frozen latents
//   5. Adam step on the online encoder, the predictor and the probe
//   6. momentum update of the target encoder (EMA of the online encoder; no gradient ever reaches it)
// Then a probe-only phase on the final frozen latents.
import { episodeCount, lengthOf, stepsPerEpisode, type Episodes, type Rng, type RunContext } from '@worldbench/core';
import { Adam, learningRateAt, tf } from '@worldbench/neural';
import type { JepaConfig } from './config';
import { momentumAt, stopGradient, updateTargetEncoder } from './ema';
import { encodeActions, encodeContext, encodeEpisodeStates, type StateArrays } from './inputs';
import type { Geometry } from './model';
import { type Encoder, type Predictor, type Probe, type StateInput, rowsOf } from './model';
import { latentLoss, probeLoss, varianceCovariance } from './losses';

export interface Networks {
  online: Encoder;
  target: Encoder;
  predictor: Predictor;
  probe: Probe;
}

/** The training episodes as tensors, uploaded once per fit. */
export interface TrainingSet {
  /** Every step of every episode slot, index e * (T + 1) + t. */
  states: StateTensors;
  /** Context embedding rows per episode [E, R, S'] (int32), or null. */
  context: tf.Tensor3D | null;
  /** Actions per transition, index e * T + t: [E * T, A] (float32 real or int32 rows), or null. */
  actions: tf.Tensor2D | null;
  /** Valid transitions per episode. */
  lengths: Int32Array;
  /** The state view's kind (its windows are rolled out `rolloutSteps` or `realRolloutSteps` steps). */
  kind: 'categorical' | 'real';
  /** T: transitions per episode slot. */
  steps: number;
  /** State tokens N. */
  tokens: number;
  /** Real views with the change readout: std / deltaStd per token slot [N, S], turning standardised differences into probe targets; else null. */
  changeRatio: tf.Tensor2D | null;
  /** Training examples: (episode, start step) of every valid transition. */
  startEpisode: Int32Array;
  startStep: Int32Array;
}

/** StateArrays as tensors. */
export interface StateTensors {
  ids?: tf.Tensor3D; //      [M, N, S] int32
  x?: tf.Tensor3D; //        [M, N, lags * S]
  targets?: tf.Tensor3D; //  [M, N, S] (real probe targets)
  tokenMask: tf.Tensor2D; // [M, N]
  weights: tf.Tensor3D; //   [M, N, S]
  labels?: tf.Tensor3D; //   [M, N, S] int32 (categorical)
}

export function stateTensors(a: StateArrays, N: number, S: number): StateTensors {
  const M = a.count;
  return {
    ids: a.ids ? tf.tensor3d(a.ids, [M, N, S], 'int32') : undefined,
    x: a.x ? tf.tensor3d(a.x, [M, N, a.x.length / (M * N)]) : undefined,
    targets: a.targets ? tf.tensor3d(a.targets, [M, N, S]) : undefined,
    tokenMask: tf.tensor2d(a.tokenMask, [M, N]),
    weights: tf.tensor3d(a.weights, [M, N, S]),
    labels: a.labels ? tf.tensor3d(a.labels, [M, N, S], 'int32') : undefined,
  };
}

export function disposeStateTensors(s: StateTensors): void {
  tf.dispose([s.ids, s.x, s.targets, s.tokenMask, s.weights, s.labels].filter((t) => t !== undefined) as tf.Tensor[]);
}

/** Rows `idx` of every state tensor. */
export function pickStates(s: StateTensors, idx: Int32Array): StateTensors {
  return {
    ids: s.ids ? rowsOf<tf.Tensor3D>(s.ids, idx) : undefined,
    x: s.x ? rowsOf<tf.Tensor3D>(s.x, idx) : undefined,
    targets: s.targets ? rowsOf<tf.Tensor3D>(s.targets, idx) : undefined,
    tokenMask: rowsOf<tf.Tensor2D>(s.tokenMask, idx),
    weights: rowsOf<tf.Tensor3D>(s.weights, idx),
    labels: s.labels ? rowsOf<tf.Tensor3D>(s.labels, idx) : undefined,
  };
}

export function inputOf(s: StateTensors): StateInput {
  return { ids: s.ids, x: s.x, tokenMask: s.tokenMask };
}

export function buildTrainingSet(geometry: Geometry, data: Episodes, view: string, changeReadout: boolean): TrainingSet {
  const E = episodeCount(data);
  const T = stepsPerEpisode(data);
  const lengths = Int32Array.from({ length: E }, (_, e) => lengthOf(data, e));
  const starts: [number, number][] = [];
  // a window starts where the encoder's history is whole (lags - 1 steps in), as at forecast time
  for (let e = 0; e < E; e++) for (let t = Math.min(geometry.state.lags - 1, lengths[e] - 1); t < lengths[e]; t++) starts.push([e, t]);
  const arrays = encodeEpisodeStates(geometry.state, data, view);
  const ctx = encodeContext(geometry.context, data.context, E);
  let actions: tf.Tensor2D | null = null;
  if (geometry.action && data.actions) {
    const A = geometry.action.size;
    const acts = data.actions;
    const enc = encodeActions(geometry.action, E * T, (i) => acts.data.subarray(acts.offset + i * A, acts.offset + (i + 1) * A));
    actions = enc.x ? tf.tensor2d(enc.x, [E * T, A]) : tf.tensor2d(enc.ids as Int32Array, [E * T, A], 'int32');
  }
  const layout = geometry.state;
  let changeRatio: tf.Tensor2D | null = null;
  if (layout.kind === 'real' && changeReadout) {
    const ratio = Float32Array.from(layout.elementOf, (i) => (i >= 0 ? (layout.std as number[])[i] / (layout.deltaStd as number[])[i] : 0));
    changeRatio = tf.tensor2d(ratio, [layout.tokens, layout.slots]);
  }
  return {
    changeRatio,
    states: stateTensors(arrays, geometry.state.tokens, geometry.state.slots),
    context: ctx ? tf.tensor3d(ctx.ids, [E, geometry.context.tokens, ctx.slots], 'int32') : null,
    actions,
    kind: layout.kind,
    lengths,
    steps: T,
    tokens: geometry.state.tokens,
    startEpisode: Int32Array.from(starts, (s) => s[0]),
    startStep: Int32Array.from(starts, (s) => s[1]),
  };
}

export function disposeTrainingSet(set: TrainingSet): void {
  disposeStateTensors(set.states);
  tf.dispose([set.context, set.actions, set.changeRatio].filter((t) => t !== null) as tf.Tensor[]);
}

/** A minibatch of rollout windows of k steps, episode-major: state row b * (k+1) + j is s_{t_b + j}. */
export interface WindowBatch {
  B: number;
  k: number;
  states: StateTensors; //            [B (k+1), ...]
  /** 1 while the window is inside its episode: [B, k+1]. */
  inside: tf.Tensor2D;
  context: tf.Tensor3D | null; //     [B, R, S']
  actions: tf.Tensor2D[] | null; //   k x [B, A]
  /** The set's change ratio (not owned by the batch). */
  changeRatio: tf.Tensor2D | null;
}

/** Gathers windows starting at examples `examples` (indices into the set's starts). Call inside tf.tidy. */
export function windowBatch(set: TrainingSet, examples: Int32Array, k: number): WindowBatch {
  const B = examples.length;
  const T = set.steps;
  const stateIdx = new Int32Array((k + 1) * B);
  const inside = new Float32Array((k + 1) * B);
  const actionIdx = Array.from({ length: k }, () => new Int32Array(B));
  const episodes = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const e = set.startEpisode[examples[b]];
    const t = set.startStep[examples[b]];
    const len = set.lengths[e];
    episodes[b] = e;
    for (let j = 0; j <= k; j++) {
      stateIdx[b * (k + 1) + j] = e * (T + 1) + Math.min(t + j, len);
      inside[b * (k + 1) + j] = t + j <= len ? 1 : 0;
      if (j < k) actionIdx[j][b] = e * T + Math.min(t + j, len - 1);
    }
  }
  return {
    B,
    k,
    states: pickStates(set.states, stateIdx),
    inside: tf.tensor2d(inside, [B, k + 1]),
    context: set.context ? rowsOf<tf.Tensor3D>(set.context, episodes) : null,
    actions: set.actions ? actionIdx.map((idx) => rowsOf<tf.Tensor2D>(set.actions as tf.Tensor2D, idx)) : null,
    changeRatio: set.changeRatio,
  };
}

/** Steps [from, from + count) of an episode-major stacked tensor [B * steps, ...] -> [B * count, ...]. */
export function stepsOf<T extends tf.Tensor>(t: T, from: number, count: number, steps: number): T {
  if (steps === 1) return t;
  const rest = t.shape.slice(1);
  const B = t.shape[0] / steps;
  const cut = tf.slice(tf.reshape(t, [B, steps, ...rest]), [0, from, ...rest.map(() => 0)], [B, count, ...rest]);
  return tf.reshape(cut, [B * count, ...rest]) as T;
}

/** Every state tensor's rows repeated `times` times in place. */
export function repeatStatesEach(s: StateTensors, times: number): StateTensors {
  const at = <T extends tf.Tensor>(t: T) => repeatEach(t, times);
  return { ids: s.ids && at(s.ids), x: s.x && at(s.x), targets: s.targets && at(s.targets), tokenMask: at(s.tokenMask), weights: at(s.weights), labels: s.labels && at(s.labels) };
}

/** Steps [from, from + count) of every state tensor. */
export function statesOf(s: StateTensors, from: number, count: number, steps: number): StateTensors {
  const at = <T extends tf.Tensor>(t: T) => stepsOf(t, from, count, steps);
  return { ids: s.ids && at(s.ids), x: s.x && at(s.x), targets: s.targets && at(s.targets), tokenMask: at(s.tokenMask), weights: at(s.weights), labels: s.labels && at(s.labels) };
}

/** [B, ...] -> [B * times, ...], each row repeated `times` times in place (episode-major, like stacked states). */
export function repeatEach<T extends tf.Tensor>(t: T, times: number): T {
  if (times === 1) return t;
  const rest = t.shape.slice(1);
  const B = t.shape[0];
  return tf.reshape(tf.tile(tf.reshape(t, [B, 1, ...rest]), [1, times, ...rest.map(() => 1)]), [B * times, ...rest]) as T;
}

/**
 * What the probe is trained to output for latents of `end` states read from `start` states (same rows):
 * classes (categorical), standardised states (real, 'state'), or changes in deltaStd units (real, 'change').
 */
export function probeTargets(start: StateTensors, end: StateTensors, changeRatio: tf.Tensor2D | null): tf.Tensor3D {
  if (end.labels) return end.labels;
  if (!changeRatio) return end.targets as tf.Tensor3D;
  return tf.mul(tf.sub(end.targets as tf.Tensor3D, start.targets as tf.Tensor3D), changeRatio) as tf.Tensor3D; // [M, N, S]
}

export interface LossParts {
  total: tf.Scalar;
  prediction: tf.Scalar;
  variance: tf.Scalar;
  covariance: tf.Scalar;
  probe: tf.Scalar;
}

/** Target latents of stacked states [B * steps, ...] (episode-major): the target encoder under stop-gradient. */
export function targetLatents(target: Encoder, states: StateTensors, context: tf.Tensor3D | null, steps: number): tf.Tensor3D {
  return stopGradient(target.apply(inputOf(states), context, steps)); //               [B * steps, N, D]
}

/** Rolls the predictor out k steps from z [B, N, D] on its own outputs: [zhat_1, ..., zhat_k]. */
export function rollout(nets: Networks, z: tf.Tensor3D, batch: WindowBatch, start: StateTensors, k: number): tf.Tensor3D[] {
  return rolloutFrom(nets, z, start.ids ?? null, batch.context, batch.actions, start.tokenMask, k);
}

/**
 * The predictor k steps from z [B, N, D], the latents of the observed states `ids` [B, N, S] (categorical), with
 * context ids [B, R, S'] and actions k x [B, A]. The first step reads the observed values (Probe.observedValues),
 * later steps the probe's reading of the predicted latents.
 */
export function rolloutFrom(nets: Networks, z: tf.Tensor3D, ids: tf.Tensor3D | null, contextIds: tf.Tensor3D | null, actions: (tf.Tensor2D | null)[] | null, tokenMask: tf.Tensor2D, k: number): tf.Tensor3D[] {
  const ctx = nets.predictor.embedContext(contextIds); //                               keys, values [B, R, D]
  const rows = contextIds ? contextIds.shape[1] : 0;
  const out: tf.Tensor3D[] = [];
  for (let j = 0; j < k; j++) {
    const reads = ctx !== null && nets.predictor.readsValues;
    const values = reads ? (j === 0 && ids ? nets.probe.observedValues(ids, rows) : nets.probe.valuePointer(z, rows)) : null; // [B, N, R]
    z = nets.predictor.apply(z, actions ? actions[j] : null, ctx, tokenMask, values); //   [B, N, D]
    out.push(z);
  }
  return out;
}

/** [k x [B, N, D]] -> [B * k, N, D], episode-major like the stacked states. */
export function stackSteps(zs: tf.Tensor3D[]): tf.Tensor3D {
  const [B, N, D] = zs[0].shape;
  return zs.length === 1 ? zs[0] : (tf.reshape(tf.stack(zs, 1), [B * zs.length, N, D]) as tf.Tensor3D);
}

/** The whole training loss of one window batch (steps 1-4 of the file comment). Call inside tf.tidy / variableGrads. */
export function jepaLoss(nets: Networks, batch: WindowBatch, config: JepaConfig): LossParts {
  const { B, k } = batch;
  const steps = k + 1;
  const s0 = statesOf(batch.states, 0, 1, steps);
  const z0 = nets.online.apply(inputOf(s0), batch.context); //                        [B, N, D]
  const targets = targetLatents(nets.target, batch.states, batch.context, steps); //   [B (k+1), N, D]
  // rollout on its own predictions: zhat_j = P(zhat_{j-1}, a_{t+j-1}), zhat_0 = z_t
  const predicted = stackSteps(rollout(nets, z0, batch, s0, k)); //          [B k, N, D]
  const later = statesOf(batch.states, 1, k, steps);
  const insideLater = tf.reshape(stepsOf(tf.reshape(batch.inside, [B * steps]), 1, k, steps), [B * k, 1]); // [B k, 1]
  const prediction = latentLoss(predicted, stepsOf(targets, 1, k, steps), tf.mul(later.tokenMask, insideLater) as tf.Tensor2D);
  const { variance, covariance } = varianceCovariance(z0, s0.tokenMask);
  // the probe reads frozen latents only: the targets of every step and (optionally) the rollout's predictions
  const change = batch.changeRatio !== null;
  const s0Each = statesOf(batch.states, 0, 1, steps);
  const allWeights = tf.mul(batch.states.weights, tf.reshape(batch.inside, [B * steps, 1, 1])) as tf.Tensor3D; // [B (k+1), N, S]
  const targetStart = change ? repeatEach(stepsOf(targets, 0, 1, steps), steps) : undefined; //       [B (k+1), N, D]
  let probe = probeLoss(nets.probe.apply(targets, targetStart), probeTargets(repeatStatesEach(s0Each, steps), batch.states, batch.changeRatio), allWeights);
  if (config.probeOnPredictions) {
    const predictedStart = change ? repeatEach(stopGradient(z0), k) : undefined; //                       [B k, N, D]
    const read = nets.probe.apply(stopGradient(predicted), predictedStart);
    probe = tf.mul(tf.add(probe, probeLoss(read, probeTargets(repeatStatesEach(s0Each, k), later, batch.changeRatio), stepsOf(allWeights, 1, k, steps))), 0.5) as tf.Scalar;
  }
  const total = tf.addN([prediction, tf.mul(variance, config.varianceWeight), tf.mul(covariance, config.covarianceWeight), probe]) as tf.Scalar;
  return { total, prediction, variance, covariance, probe };
}

export interface TrainSummary {
  steps: number;
  /** k: predictor steps per training window. */
  rolloutSteps: number;
  probeSteps: number;
  batchSize: number;
  /** Mean loss parts over the last tenth of the JEPA phase. */
  final: { prediction: number; variance: number; covariance: number; probe: number };
  /** Loss parts every `every` steps. */
  history: { step: number; prediction: number; variance: number; covariance: number; probe: number }[];
  /** Probe loss over the last tenth of the probe-only phase. */
  probeFinal: number | null;
}

/** Lazily gathered batch (inside the step's tidy). */
function windowBatchOf(set: TrainingSet, examples: Int32Array, k: number): () => WindowBatch {
  return () => windowBatch(set, examples, k);
}

/**
 * One training step: loss and gradients of the online encoder, predictor and probe (`params`), an Adam
 * update, then the momentum update of the target encoder. Returns the loss parts
 * [prediction, variance, covariance, probe].
 */
export function trainStep(nets: Networks, adam: Adam, params: tf.Variable[], batchOf: () => WindowBatch, config: JepaConfig, lr: number, momentum: number): number[] {
  const parts = tf.tidy(() => {
    const batch = batchOf();
    // the loss parts are kept out of variableGrads' own scope (it frees everything but the loss), then freed here
    let kept: tf.Tensor[] = [];
    const { grads } = tf.variableGrads(() => {
      const p = jepaLoss(nets, batch, config);
      kept = [p.prediction, p.variance, p.covariance, p.probe].map((t) => tf.keep(t));
      return p.total;
    }, params);
    adam.step(params.map((p) => grads[p.name]), lr);
    const values = kept.map((t) => t.dataSync()[0]);
    tf.dispose(kept);
    return values;
  });
  // momentum update of the target encoder, after the online encoder's step
  updateTargetEncoder(nets.target.params(), nets.online.params(), momentum);
  return parts;
}

/** The variables the optimiser trains: never the target encoder's. */
export function trainableParams(nets: Networks): tf.Variable[] {
  return [...nets.online.params(), ...nets.predictor.params(), ...nets.probe.params()];
}

/**
 * Passes over n training windows: `epochs` up to `growFrom` windows, then growing as sqrt(n / growFrom).
 * Small datasets overfit with more passes (code-trace at 1024); larger ones were under-trained at 6 (hidden-laws
 * and bouncing-balls at 4096: README).
 */
export function epochsFor(n: number, config: JepaConfig): number {
  return config.epochs * Math.sqrt(Math.max(1, n / config.growFrom));
}

/** Optimiser steps for n training windows: epochsFor(n) passes at `batchSize`, clamped to [minSteps, maxSteps]. */
export function plannedSteps(n: number, config: JepaConfig): number {
  return Math.max(config.minSteps, Math.min(config.maxSteps, Math.round((epochsFor(n, config) * n) / config.batchSize)));
}

/**
 * k, the predictor steps per training window, for a state view of this kind and n training windows (at least 1).
 * `rolloutSteps` <= 1 is teacher forcing for every view (so `jepa[rolloutSteps=0]` is the teacher-forced twin
 * that selfForcingGain compares against); otherwise large real datasets roll out `realRolloutSteps`.
 */
export function rolloutStepsFor(kind: 'categorical' | 'real', n: number, config: JepaConfig): number {
  if (config.rolloutSteps <= 1) return 1;
  return Math.max(1, kind === 'real' && n > config.largeFrom ? config.realRolloutSteps : config.rolloutSteps);
}

/** Examples per step: at most batchSize, and at most batchTokens state tokens (never below 8, never above n). */
export function batchSizeFor(n: number, tokens: number, config: JepaConfig): number {
  return Math.max(1, Math.min(n, config.batchSize, Math.max(8, Math.floor(config.batchTokens / tokens))));
}

/** Trains `nets` in place (steps 1-6 of the file comment, then the probe-only phase). */
export async function trainJepa(nets: Networks, set: TrainingSet, config: JepaConfig, rng: Rng, run: RunContext): Promise<TrainSummary> {
  const n = set.startEpisode.length;
  const total = plannedSteps(n, config);
  const probeSteps = Math.round(config.probeFraction * total);
  const k = rolloutStepsFor(set.kind, n, config);
  const batchSize = batchSizeFor(n, set.tokens, config);
  const warmup = Math.min(200, Math.round(total * 0.1));
  const params = trainableParams(nets);
  const adam = new Adam(params, { weightDecay: config.weightDecay, beta2: 0.99 });
  const every = Math.max(1, Math.round(total / 20));
  const history: TrainSummary['history'] = [];
  const sums = { prediction: 0, variance: 0, covariance: 0, probe: 0, count: 0 };
  const tail = { prediction: 0, variance: 0, covariance: 0, probe: 0, count: 0 };
  const order = batchOrder(n, batchSize, rng.fork('batches'));
  try {
    for (let step = 0; step < total; step++) {
      if (run.signal.aborted) throw run.signal.reason ?? new Error('training aborted');
      const examples = order();
      const lr = learningRateAt(step, total, config.lr, warmup, config.lr / 10);
      const parts = trainStep(nets, adam, params, windowBatchOf(set, examples, k), config, lr, momentumAt(step, total, config.emaMomentum, config.emaMomentumEnd));
      if (!parts.every(Number.isFinite)) throw new Error(`jepa: training diverged at step ${step + 1} (loss parts ${parts.join(', ')}); lower lr`);
      const [prediction, variance, covariance, probe] = parts;
      for (const acc of step >= total - Math.max(1, Math.round(total / 10)) ? [sums, tail] : [sums]) {
        acc.prediction += prediction;
        acc.variance += variance;
        acc.covariance += covariance;
        acc.probe += probe;
        acc.count += 1;
      }
      if ((step + 1) % every === 0 || step === total - 1) {
        history.push({ step: step + 1, ...averages(sums) });
        sums.prediction = sums.variance = sums.covariance = sums.probe = sums.count = 0;
        run.progress(step + 1, total + probeSteps, `jepa loss ${history[history.length - 1].prediction.toExponential(2)}`);
      }
    }
  } finally {
    adam.dispose();
  }
  const probeFinal = probeSteps > 0 ? await trainProbe(nets, set, config, k, probeSteps, rng.fork('probe'), run, total) : null;
  return { steps: total, rolloutSteps: k, probeSteps, batchSize, final: averages(tail), history, probeFinal };
}

/** Probe-only phase: the encoder, target and predictor are frozen; their latents are computed outside any gradient. */
async function trainProbe(nets: Networks, set: TrainingSet, config: JepaConfig, k: number, probeSteps: number, rng: Rng, run: RunContext, done: number): Promise<number> {
  const n = set.startEpisode.length;
  const batchSize = batchSizeFor(n, set.tokens, config);
  const params = nets.probe.params();
  const adam = new Adam(params, { weightDecay: config.weightDecay, beta2: 0.99 });
  const order = batchOrder(n, batchSize, rng);
  let tail = 0, count = 0;
  try {
    for (let step = 0; step < probeSteps; step++) {
      if (run.signal.aborted) throw run.signal.reason ?? new Error('training aborted');
      const examples = order();
      const lr = learningRateAt(step, probeSteps, config.lr, 0, config.lr / 10);
      const loss = tf.tidy(() => {
        const batch = windowBatch(set, examples, k);
        const { B } = batch;
        const steps = k + 1;
        // frozen latents: targets of every step, and the rollout's predictions
        const latents = nets.target.apply(inputOf(batch.states), batch.context, steps); //   [B (k+1), N, D]
        const change = batch.changeRatio !== null;
        const s0 = statesOf(batch.states, 0, 1, steps);
        const weights = tf.mul(batch.states.weights, tf.reshape(batch.inside, [B * steps, 1, 1])) as tf.Tensor3D;
        const inputs: tf.Tensor3D[] = [latents];
        const starts: tf.Tensor3D[] = change ? [repeatEach(stepsOf(latents, 0, 1, steps), steps)] : [];
        const targetsOf: tf.Tensor3D[] = [probeTargets(repeatStatesEach(s0, steps), batch.states, batch.changeRatio)];
        const weightsOf: tf.Tensor3D[] = [weights];
        if (config.probeOnPredictions) {
          const z0 = nets.online.apply(inputOf(s0), batch.context);
          inputs.push(stackSteps(rollout(nets, z0, batch, s0, k)));
          if (change) starts.push(repeatEach(z0, k));
          targetsOf.push(probeTargets(repeatStatesEach(s0, k), statesOf(batch.states, 1, k, steps), batch.changeRatio));
          weightsOf.push(stepsOf(weights, 1, k, steps));
        }
        const x = tf.concat(inputs, 0) as tf.Tensor3D, y = tf.concat(targetsOf, 0) as tf.Tensor3D, w = tf.concat(weightsOf, 0) as tf.Tensor3D;
        const start = change ? (tf.concat(starts, 0) as tf.Tensor3D) : undefined;
        const { value, grads } = tf.variableGrads(() => probeLoss(nets.probe.apply(x, start), y, w), params);
        adam.step(params.map((p) => grads[p.name]), lr);
        return value.dataSync()[0];
      });
      if (step >= probeSteps - Math.max(1, Math.round(probeSteps / 10))) {
        tail += loss;
        count += 1;
      }
      if ((step + 1) % 50 === 0) run.progress(done + step + 1, done + probeSteps, `probe loss ${loss.toExponential(2)}`);
    }
  } finally {
    adam.dispose();
  }
  return tail / Math.max(1, count);
}

/** A seeded stream of minibatches: each epoch a fresh permutation of the examples. */
function batchOrder(n: number, batchSize: number, rng: Rng): () => Int32Array {
  let order: number[] = [];
  let cursor = 0;
  return () => {
    if (cursor + batchSize > order.length) {
      order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
      cursor = 0;
    }
    const out = Int32Array.from(order.slice(cursor, cursor + batchSize));
    cursor += batchSize;
    return out;
  };
}

function averages(acc: { prediction: number; variance: number; covariance: number; probe: number; count: number }) {
  const c = Math.max(1, acc.count);
  return { prediction: acc.prediction / c, variance: acc.variance / c, covariance: acc.covariance / c, probe: acc.probe / c };
}
