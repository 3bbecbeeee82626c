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
// Then a probe-only phase on the final frozen latents.
//
// Both phases run on the engine @worldbench/onnx's `trainOnChosenEngine` chooses: the ONNX Runtime engine by
// default (the loss, written once against Ops, traced with its gradient into one graph; the target encoder's weights
// fed to it as arrays each step and updated by the EMA in JS), or tfjs (WORLDBENCH_TRAIN_ENGINE=tfjs, and where the
// engine cannot take the run, said on stderr). The same step arrays (batch.ts `windowArrays`) feed both.
import type { Rng, RunContext } from '@worldbench/core';
import { shuffledBatches, type StepRecord, type tf, tfjsOps } from '@worldbench/neural';
import { type EngineRun, type OrtEngine, type OrtEngineSpec, trainOnChosenEngine } from '@worldbench/onnx';
import { stepBatchOf, tensorsOf, windowArrays, type StepBatch, type TrainingSet } from './batch';
import type { JepaConfig } from './config';
import { momentumAt, updateTargetArrays, updateTargetEncoder } from './ema';
import { changeWeightFor, frozenProbeInputs, frozenProbeLoss, jepaLoss, type ProbeInputs } from './losses';
import type { Networks } from './model';
import { batchSizeFor, scheduleFor } from './schedule';

/** The loss parts of a step (or their mean over steps). */
export interface LossValues {
  prediction: number;
  variance: number;
  covariance: number;
  probe: number;
}

export interface TrainSummary {
  steps: number;
  /** k: predictor steps per training window. */
  rolloutSteps: number;
  probeSteps: number;
  batchSize: number;
  /** Mean loss parts over the last tenth of the JEPA phase. */
  final: LossValues;
  /** Loss parts every 5% of the steps. */
  history: ({ step: number } & LossValues)[];
  /** Probe loss over the last tenth of the probe-only phase. */
  probeFinal: number | null;
  /** The engine that trained (FitReport.backend): the ONNX Runtime engine's name, or the tfjs backend's. */
  engine: string;
}

/** The variables the optimiser trains: never the target encoder's. */
export function trainableParams(nets: Networks): tf.Variable[] {
  return [
    ...nets.online.params(),
    ...nets.predictor.params(),
    ...nets.probe.params(),
    ...(nets.anchor?.params() ?? []),
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

/** Trains `nets` in place (steps 1-6 of the file comment, then the probe-only phase). */
export async function trainJepa(
  nets: Networks,
  set: TrainingSet,
  config: JepaConfig,
  rng: Rng,
  run: RunContext,
): Promise<TrainSummary> {
  config = { ...config, changeWeight: changeWeightFor(set, config) }; //                  0 (balanced) resolved
  const n = set.startEpisode.length;
  const { batch: batchSize, steps: total, k } = scheduleFor(n, set, config);
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
  const online = nets.online.params().length;
  const main: EngineRun<StepBatch<tf.Tensor>> = {
    tfjs: {
      params: trainableParams(nets),
      n,
      batchSize,
      steps: total,
      lr: config.lr,
      warmup: Math.min(200, Math.round(total * 0.1)),
      adam: { weightDecay: config.weightDecay, beta2: 0.99 },
      batches: shuffledBatches(indices(n), batchSize, rng.fork('batches'), true),
      prepare: (examples) => stepBatchOf(tensorsOf(windowArrays(set, examples, k)), examples.length, k),
      loss: (_, batch) => {
        const p = jepaLoss(tfjsOps, nets, batch, config);
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
        updateTargetEncoder(nets.target.params(), nets.online.params(), momentum(r.step));
        record(r);
      },
      signal: run.signal,
    },
    onnx: {
      ...jepaEngineSpec(nets, set, config, batchSize, k),
      afterStep: (r: StepRecord, engine: OrtEngine) => {
        // 6. on the engine's arrays: the online encoder's weights lead its trained weights (trainableParams)
        updateTargetArrays(engine.fed, engine.weights.slice(0, online), momentum(r.step));
        parts = engine.lastReport as unknown as LossValues;
        record(r);
      },
    },
  };
  const trained = await trainOnChosenEngine(main);
  const probe =
    probeSteps > 0 ? await trainProbe(nets, set, config, k, probeSteps, rng.fork('probe'), run, total) : null;
  const engine = probe && probe.engine !== trained.engine ? `${trained.engine}; probe ${probe.engine}` : trained.engine;
  return {
    steps: total,
    rolloutSteps: k,
    probeSteps,
    batchSize,
    final: tail.take(),
    history,
    probeFinal: probe?.final ?? null,
    engine,
  };
}

/** Probe-only phase: the encoder, target and predictor are frozen; only the probe's weights are trained. */
async function trainProbe(
  nets: Networks,
  set: TrainingSet,
  config: JepaConfig,
  k: number,
  probeSteps: number,
  rng: Rng,
  run: RunContext,
  done: number,
): Promise<{ final: number; engine: string }> {
  const n = set.startEpisode.length;
  const batchSize = batchSizeFor(n, set, config);
  const tailFrom = probeSteps - Math.max(1, Math.round(probeSteps / 10));
  let tail = 0,
    count = 0;
  const result = await trainOnChosenEngine<ProbeInputs<tf.Tensor>>({
    tfjs: {
      params: nets.probe.params(),
      n,
      batchSize,
      steps: probeSteps,
      lr: config.lr,
      adam: { weightDecay: config.weightDecay, beta2: 0.99 },
      batches: shuffledBatches(indices(n), batchSize, rng, true),
      // the frozen networks' latents, made before the loss is taped
      prepare: (examples) =>
        frozenProbeInputs(
          tfjsOps,
          nets,
          stepBatchOf(tensorsOf(windowArrays(set, examples, k)), examples.length, k),
          config,
        ),
      loss: (_, inputs) => frozenProbeLoss(tfjsOps, nets, inputs) as tf.Scalar,
      afterStep: ({ step, loss }) => {
        if (step - 1 >= tailFrom) (tail += loss), (count += 1);
        if (step % 50 === 0) run.progress(done + step, done + probeSteps, `probe loss ${loss.toExponential(2)}`);
      },
      signal: run.signal,
    },
    onnx: {
      inputs: inputsOf(set, batchSize, k),
      // the frozen networks are the graph's initializers (their weights now); only the probe's values are taped
      modules: modulesOf(nets),
      data: (examples) => windowArrays(set, examples, k),
      loss: (ops, i) => frozenProbeLoss(ops, nets, frozenProbeInputs(ops, nets, stepBatchOf(i, batchSize, k), config)),
    },
  });
  return { final: tail / Math.max(1, count), engine: result.engine };
}

function indices(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function value(t: tf.Tensor): number {
  return t.dataSync()[0];
}
