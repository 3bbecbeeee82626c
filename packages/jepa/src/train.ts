// The training loop, on neural's trainer. Per step, on a minibatch of rollout windows (s_t, a_t, ..., s_{t+k})
// of training episodes (batch.ts):
//   1. encode s_t with the context (online) encoder -> z_t
//   2. encode s_{t..t+k} with the target encoder, under stop-gradient -> targets
//   3. roll the predictor out k steps on its own outputs: zhat_{j+1} = P(zhat_j, a_{t+j}), zhat_0 = z_t
//   4. loss = mean_j latentLoss(zhat_j, target_j) + VICReg variance/covariance of z_t + probe loss on frozen
//      latents (losses.ts `jepaLoss`)
//   5. Adam step on the online encoder, the predictor and the probe
//   6. momentum update of the target encoder (EMA of the online encoder; no gradient ever reaches it): the
//      trainer's post-step hook
// Then a probe-only phase on the final frozen latents. A generalist (generalist.ts) trains several worlds' networks,
// which share a trunk, in one run (`trainWorlds`): each step is one world's batch and loss, one Adam over the union.
//
// Both phases run on the engine @worldbench/onnx's `trainOnEngineOrTfjs` chooses: the ONNX Runtime engine by
// default (the loss, written once against Ops, traced with its gradient into one graph per world; the target
// encoder's weights fed to it as arrays each step and updated by the EMA in JS), or tfjs
// (WORLDBENCH_TRAIN_ENGINE=tfjs, and where the engine cannot take the run, said on stderr). The same step arrays
// (batch.ts `windowArrays`) feed both.
import type { Rng, RunContext } from '@worldbench/core';
import {
  type Ops,
  shuffledBatches,
  type StepRecord,
  type TrainOptions,
  type TrainSchedule,
  type tf,
  tfjsOps,
} from '@worldbench/neural';
import { OrtEngine, type OrtEngineSpec, trainOnEngineOrTfjs } from '@worldbench/onnx';
import { stepBatchOf, tensorsOf, windowArrays, type StepBatch, type TrainingSet } from './batch';
import type { JepaConfig } from './config';
import { momentumAt, updateTargetArrays, updateTargetEncoder } from './ema';
import { changeWeightFor, frozenProbeInputs, frozenProbeLoss, jepaLoss, type ProbeInputs } from './losses';
import type { Networks } from './model';
import { apportion, scheduleForWorlds, type WorldShare } from './schedule';

/** The loss parts of a step (or their mean over steps). */
export interface LossValues {
  prediction: number;
  variance: number;
  covariance: number;
  probe: number;
}

export interface TrainSummary {
  /** Optimiser steps of the JEPA phase (over every world). */
  steps: number;
  /** k: predictor steps per training window. */
  rolloutSteps: number;
  probeSteps: number;
  batchSize: number;
  /** Each world's schedule (one world: the fields above): its steps of the JEPA and probe phases, batch, k. */
  worlds: { steps: number; batchSize: number; rolloutSteps: number; probeSteps: number }[];
  /** Mean loss parts over the last tenth of the JEPA phase. */
  final: LossValues;
  /** Loss parts every 5% of the steps. */
  history: ({ step: number } & LossValues)[];
  /** Probe loss over the last tenth of the probe-only phase. */
  probeFinal: number | null;
  /** The engine that trained (FitReport.backend): the ONNX Runtime engine's name, or the tfjs backend's. */
  engine: string;
}

/**
 * The variables the optimiser trains, each once (a generalist's predictor reads the online encoder's values for the
 * program: token-space.ts): never the target encoder's.
 */
export function trainableParams(nets: Networks): tf.Variable[] {
  return [
    ...new Set([
      ...nets.online.params(),
      ...nets.predictor.params(),
      ...nets.probe.params(),
      ...(nets.anchor?.params() ?? []),
    ]),
  ];
}

/** Running sums of loss parts. */
class Mean {
  private sums: LossValues = { prediction: 0, variance: 0, covariance: 0, probe: 0 };
  private count = 0;
  add(parts: LossValues): void {
    this.sums = {
      prediction: this.sums.prediction + parts.prediction,
      variance: this.sums.variance + parts.variance,
      covariance: this.sums.covariance + parts.covariance,
      probe: this.sums.probe + parts.probe,
    };
    this.count += 1;
  }
  /** The mean so far; `reset` starts a new window. */
  take(reset = false): LossValues {
    const c = Math.max(1, this.count);
    const mean = {
      prediction: this.sums.prediction / c,
      variance: this.sums.variance / c,
      covariance: this.sums.covariance / c,
      probe: this.sums.probe / c,
    };
    if (reset) (this.sums = { prediction: 0, variance: 0, covariance: 0, probe: 0 }), (this.count = 0);
    return mean;
  }
}

/** The step's graph inputs (names, static shapes, dtypes) from one batch's arrays: every training batch is full. */
function inputsOf(set: TrainingSet, batchSize: number, k: number) {
  const sample = windowArrays(
    set,
    Int32Array.from({ length: batchSize }, (_, i) => i),
    k,
  );
  return Object.entries(sample).map(([name, { data, dims }]) => ({
    name,
    shape: dims,
    dtype: data instanceof Int32Array ? ('int32' as const) : ('float32' as const),
  }));
}

/** The networks by name: the graph's inputs and initializers are named by their paths. */
function modulesOf(nets: Networks) {
  const named = { online: nets.online, target: nets.target, predictor: nets.predictor, probe: nets.probe };
  return nets.anchor ? { ...named, anchor: nets.anchor } : named;
}

/**
 * jepaLoss on the ONNX Runtime engine (train it with `params: trainableParams(nets)`): windows of `batchSize`
 * examples and k steps as the step's inputs, the target encoder's weights fed (never differentiated), the loss's
 * parts reported beside it.
 */
export function jepaEngineSpec(
  nets: Networks,
  set: TrainingSet,
  config: JepaConfig,
  batchSize: number,
  k: number,
): Omit<OrtEngineSpec, 'params' | 'adam'> {
  return {
    inputs: inputsOf(set, batchSize, k),
    fed: nets.target.params(),
    modules: modulesOf(nets),
    data: (examples) => windowArrays(set, examples, k),
    loss: (ops, i) => {
      const { total: loss, ...report } = jepaLoss(ops, nets, stepBatchOf(i, batchSize, k), config);
      return { loss, report };
    },
  };
}

/** One world of a training run: its networks, its training set and its config. */
export interface WorldTraining {
  /** In a generalist, built around the trunk the other worlds' networks share (model.ts `buildTrunk`). */
  nets: Networks;
  set: TrainingSet;
  config: JepaConfig;
}

/** Trains `nets` in place (steps 1-6 of the file comment, then the probe-only phase). */
export async function trainJepa(
  nets: Networks,
  set: TrainingSet,
  config: JepaConfig,
  rng: Rng,
  run: RunContext,
): Promise<TrainSummary> {
  return trainWorlds([{ nets, set, config }], config, rng, run);
}

/** The variables of `lists` (which may share some), each once, in order of first appearance. */
function union<V>(lists: readonly (readonly V[])[]): V[] {
  return [...new Set(lists.flat())];
}

/**
 * Several worlds' steps as one trainer's: world w's windows are examples offset_w .. offset_w + n_w - 1, each step a
 * batch of one world, the worlds in a seeded order holding each one's share of the steps (scheduleForWorlds).
 */
class Interleaved {
  readonly n: number;
  private readonly offsets: number[];
  private readonly order: number[];
  private at = 0;

  constructor(
    sizes: readonly number[],
    shares: readonly number[],
    private readonly streams: (() => Int32Array)[],
    rng: Rng,
  ) {
    this.offsets = sizes.map((_, w) => sizes.slice(0, w).reduce((a, b) => a + b, 0));
    this.n = sizes.reduce((a, b) => a + b, 0);
    this.order = rng.shuffle(shares.flatMap((count, w) => new Array<number>(count).fill(w)));
  }

  /** The next step's batch, as the trainer's example indices. */
  readonly next = (): Int32Array => {
    const w = this.order[this.at++ % this.order.length];
    return this.streams[w]().map((i) => i + this.offsets[w]);
  };

  /** The world of a batch and its examples among that world's windows. */
  readonly route = (batch: Int32Array): { graph: number; examples: Int32Array } => {
    let w = this.offsets.length - 1;
    while (this.offsets[w] > batch[0]) w--;
    return { graph: w, examples: batch.map((i) => i - this.offsets[w]) };
  };
}

/**
 * Trains several worlds' networks in place, one optimiser over the union of their weights (a generalist's worlds
 * share a trunk, model.ts `buildTrunk`): each step a batch of one world and that world's jepaLoss; the EMA target
 * follows the online encoder after every step. Then the probe-only phase, interleaved the same way. One world:
 * the specialist's run (trainJepa), draw for draw.
 */
export async function trainWorlds(
  worlds: readonly WorldTraining[],
  config: JepaConfig,
  rng: Rng,
  run: RunContext,
): Promise<TrainSummary> {
  // 0 (balanced) resolved per world
  const configs = worlds.map((w) => ({ ...w.config, changeWeight: changeWeightFor(w.set, w.config) }));
  const sizes = worlds.map((w) => w.set.startEpisode.length);
  const schedules = scheduleForWorlds(
    worlds.map((w, i) => ({ n: sizes[i], set: w.set })),
    config,
  );
  const total = schedules[0].steps;
  const probeSteps = Math.round(config.probeFraction * total);
  const every = Math.max(1, Math.round(total / 20));
  const tailFrom = total - Math.max(1, Math.round(total / 10)); // the last tenth of the steps (0-based)
  const history: TrainSummary['history'] = [];
  const window = new Mean();
  const tail = new Mean();
  let parts: LossValues = { prediction: 0, variance: 0, covariance: 0, probe: 0 };
  const momentum = (step: number) => momentumAt(step - 1, total, config.emaMomentum, config.emaMomentumEnd);
  const record = ({ step }: StepRecord) => {
    window.add(parts);
    if (step - 1 >= tailFrom) tail.add(parts);
    if (step % every !== 0 && step !== total) return;
    history.push({ step, ...window.take(true) });
    run.progress(step, total + probeSteps, `jepa loss ${history[history.length - 1].prediction.toExponential(2)}`);
  };
  // world 0 draws the specialist's streams, so that one world trains as trainJepa always has
  const stream = (name: string, w: number) => rng.fork(w === 0 ? name : `${name}/${w}`);
  const steps = new Interleaved(
    sizes,
    schedules.map((s) => s.share),
    schedules.map((s, w) => shuffledBatches(indices(sizes[w]), s.batch, stream('batches', w), true)),
    rng.fork('worlds'),
  );
  const params = union(worlds.map((w) => trainableParams(w.nets)));
  // the EMA pairs (target, online), each shared one once
  const targets = union(worlds.map((w) => w.nets.target.params()));
  const onlineOf = new Map(worlds.flatMap((w) => w.nets.target.params().map((t, i) => [t, w.nets.online.params()[i]])));
  const onlines = targets.map((t) => onlineOf.get(t) as tf.Variable);
  const paramAt = new Map(params.map((p, i) => [p, i]));
  const onlineAt = onlines.map((v) => paramAt.get(v) as number);
  const tfjs: TrainOptions<{ world: number; batch: StepBatch<tf.Tensor> }> = {
    params,
    n: steps.n,
    batchSize: Math.max(...schedules.map((s) => s.batch)),
    steps: total,
    lr: config.lr,
    warmup: Math.min(200, Math.round(total * 0.1)),
    adam: { weightDecay: config.weightDecay, beta2: 0.99 },
    batches: steps.next,
    prepare: (batch) => {
      const { graph: world, examples } = steps.route(batch);
      const { set } = worlds[world];
      const k = schedules[world].k;
      return { world, batch: stepBatchOf(tensorsOf(windowArrays(set, examples, k)), examples.length, k) };
    },
    loss: (_, { world, batch }) => {
      const p = jepaLoss(tfjsOps, worlds[world].nets, batch, configs[world]);
      parts = {
        prediction: value(p.prediction),
        variance: value(p.variance),
        covariance: value(p.covariance),
        probe: value(p.probe),
      };
      return p.total as tf.Scalar;
    },
    afterStep: (r) => {
      // 6. momentum update of the target encoder, after the online encoder's step
      updateTargetEncoder(targets, onlines, momentum(r.step));
      record(r);
    },
    signal: run.signal,
  };
  const open = () =>
    OrtEngine.createShared({
      params,
      fed: targets,
      graphs: worlds.map((w, i) => ({
        ...jepaEngineSpec(w.nets, w.set, configs[i], schedules[i].batch, schedules[i].k),
        params: trainableParams(w.nets),
      })),
      route: steps.route,
      adam: tfjs.adam,
    });
  const onEngine = (engine: OrtEngine): TrainSchedule => ({
    ...tfjs,
    afterStep: (r: StepRecord) => {
      // 6. on the engine's arrays: the online encoder's weights among its trained weights
      updateTargetArrays(
        engine.fed,
        onlineAt.map((i) => engine.weights[i]),
        momentum(r.step),
      );
      parts = engine.lastReport as unknown as LossValues;
      record(r);
    },
  });
  const trained = await trainOnEngineOrTfjs(tfjs, open, process.env, onEngine);
  const probe =
    probeSteps > 0 ? await trainProbes(worlds, configs, schedules, probeSteps, stream, rng, run, total) : null;
  const engine = probe && probe.engine !== trained.engine ? `${trained.engine}; probe ${probe.engine}` : trained.engine;
  const probeShares = apportion(
    probeSteps,
    schedules.map((s) => s.share),
  );
  return {
    steps: total,
    rolloutSteps: schedules[0].k,
    probeSteps,
    batchSize: schedules[0].batch,
    worlds: schedules.map((s, w) => ({
      steps: s.share,
      batchSize: s.batch,
      rolloutSteps: s.k,
      probeSteps: probeShares[w],
    })),
    final: tail.take(),
    history,
    probeFinal: probe?.final ?? null,
    engine,
  };
}

/** The probe-only phase's loss of one world on the ONNX Runtime engine (train it with its probe's params). */
function probeEngineSpec(nets: Networks, set: TrainingSet, config: JepaConfig, batchSize: number, k: number) {
  return {
    inputs: inputsOf(set, batchSize, k),
    // the frozen networks are the graph's initializers (their weights now); only the probe's values are taped
    modules: modulesOf(nets),
    data: (examples: Int32Array) => windowArrays(set, examples, k),
    loss: (ops: Ops<string>, i: Record<string, string>) =>
      frozenProbeLoss(ops, nets, frozenProbeInputs(ops, nets, stepBatchOf(i, batchSize, k), config)),
  };
}

/**
 * Probe-only phase: the encoders and predictors are frozen; only the probes' weights are trained, `probeSteps` steps
 * shared among the worlds as the JEPA phase's were.
 */
async function trainProbes(
  worlds: readonly WorldTraining[],
  configs: readonly JepaConfig[],
  schedules: readonly WorldShare[],
  probeSteps: number,
  stream: (name: string, w: number) => Rng,
  rng: Rng,
  run: RunContext,
  done: number,
): Promise<{ final: number; engine: string }> {
  const config = configs[0];
  const sizes = worlds.map((w) => w.set.startEpisode.length);
  const steps = new Interleaved(
    sizes,
    apportion(
      probeSteps,
      schedules.map((s) => s.share),
    ),
    schedules.map((s, w) => shuffledBatches(indices(sizes[w]), s.batch, stream('probe', w), true)),
    rng.fork('probe-worlds'),
  );
  const params = union(worlds.map((w) => w.nets.probe.params()));
  const tailFrom = probeSteps - Math.max(1, Math.round(probeSteps / 10));
  let tail = 0,
    count = 0;
  const tfjs: TrainOptions<{ world: number; inputs: ProbeInputs<tf.Tensor> }> = {
    params,
    n: steps.n,
    batchSize: Math.max(...schedules.map((s) => s.batch)),
    steps: probeSteps,
    lr: config.lr,
    adam: { weightDecay: config.weightDecay, beta2: 0.99 },
    batches: steps.next,
    // the frozen networks' latents, made before the loss is taped
    prepare: (batch) => {
      const { graph: world, examples } = steps.route(batch);
      const { nets, set } = worlds[world];
      const k = schedules[world].k;
      const windows = stepBatchOf(tensorsOf(windowArrays(set, examples, k)), examples.length, k);
      return { world, inputs: frozenProbeInputs(tfjsOps, nets, windows, configs[world]) };
    },
    loss: (_, { world, inputs }) => frozenProbeLoss(tfjsOps, worlds[world].nets, inputs) as tf.Scalar,
    afterStep: ({ step, loss }) => {
      if (step - 1 >= tailFrom) (tail += loss), (count += 1);
      if (step % 50 === 0) run.progress(done + step, done + probeSteps, `probe loss ${loss.toExponential(2)}`);
    },
    signal: run.signal,
  };
  const open = () =>
    OrtEngine.createShared({
      params,
      graphs: worlds.map((w, i) => ({
        ...probeEngineSpec(w.nets, w.set, configs[i], schedules[i].batch, schedules[i].k),
        params: w.nets.probe.params(),
      })),
      route: steps.route,
      adam: tfjs.adam,
    });
  const result = await trainOnEngineOrTfjs(tfjs, open);
  return { final: tail / Math.max(1, count), engine: result.engine };
}

function indices(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function value(t: tf.Tensor): number {
  return t.dataSync()[0];
}
