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
import type { Rng, RunContext } from '@worldbench/core';
import { shuffledBatches, type tf, tfjsOps, train } from '@worldbench/neural';
import { windowBatch, type TrainingSet, type WindowBatch } from './batch';
import type { JepaConfig } from './config';
import { momentumAt, updateTargetEncoder } from './ema';
import { frozenProbeInputs, jepaLoss, probeLoss, type ProbeInputs } from './losses';
import type { Networks } from './model';
import { batchSizeFor, plannedSteps, rolloutStepsFor } from './schedule';

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
}

/** The variables the optimiser trains: never the target encoder's. */
export function trainableParams(nets: Networks): tf.Variable[] {
  return [...nets.online.params(), ...nets.predictor.params(), ...nets.probe.params()];
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

/** Trains `nets` in place (steps 1-6 of the file comment, then the probe-only phase). */
export async function trainJepa(
  nets: Networks,
  set: TrainingSet,
  config: JepaConfig,
  rng: Rng,
  run: RunContext,
): Promise<TrainSummary> {
  const n = set.startEpisode.length;
  const batchSize = batchSizeFor(n, set.tokens, config);
  const total = plannedSteps(n, config, batchSize);
  const probeSteps = Math.round(config.probeFraction * total);
  const k = rolloutStepsFor(set.kind, n, config);
  const every = Math.max(1, Math.round(total / 20));
  const tailFrom = total - Math.max(1, Math.round(total / 10)); // the last tenth of the steps (0-based)
  const history: TrainSummary['history'] = [];
  const window = new Mean();
  const tail = new Mean();
  let parts: LossValues = { prediction: 0, variance: 0, covariance: 0, probe: 0 };
  await train<WindowBatch>({
    params: trainableParams(nets),
    n,
    batchSize,
    steps: total,
    lr: config.lr,
    warmup: Math.min(200, Math.round(total * 0.1)),
    adam: { weightDecay: config.weightDecay, beta2: 0.99 },
    batches: shuffledBatches(indices(n), batchSize, rng.fork('batches'), true),
    prepare: (examples) => windowBatch(set, examples, k),
    loss: (_, batch) => {
      const p = jepaLoss(nets, batch, config);
      parts = {
        prediction: value(p.prediction),
        variance: value(p.variance),
        covariance: value(p.covariance),
        probe: value(p.probe),
      };
      return p.total;
    },
    afterStep: ({ step }) => {
      // 6. momentum update of the target encoder, after the online encoder's step
      updateTargetEncoder(
        nets.target.params(),
        nets.online.params(),
        momentumAt(step - 1, total, config.emaMomentum, config.emaMomentumEnd),
      );
      window.add(parts);
      if (step - 1 >= tailFrom) tail.add(parts);
      if (step % every !== 0 && step !== total) return;
      history.push({ step, ...window.take(true) });
      run.progress(step, total + probeSteps, `jepa loss ${history[history.length - 1].prediction.toExponential(2)}`);
    },
    signal: run.signal,
  });
  const probeFinal =
    probeSteps > 0 ? await trainProbe(nets, set, config, k, probeSteps, rng.fork('probe'), run, total) : null;
  return { steps: total, rolloutSteps: k, probeSteps, batchSize, final: tail.take(), history, probeFinal };
}

/** Probe-only phase: the encoder, target and predictor are frozen; their latents are made outside any gradient. */
async function trainProbe(
  nets: Networks,
  set: TrainingSet,
  config: JepaConfig,
  k: number,
  probeSteps: number,
  rng: Rng,
  run: RunContext,
  done: number,
): Promise<number> {
  const n = set.startEpisode.length;
  const batchSize = batchSizeFor(n, set.tokens, config);
  const tailFrom = probeSteps - Math.max(1, Math.round(probeSteps / 10));
  let tail = 0,
    count = 0;
  await train<ProbeInputs>({
    params: nets.probe.params(),
    n,
    batchSize,
    steps: probeSteps,
    lr: config.lr,
    adam: { weightDecay: config.weightDecay, beta2: 0.99 },
    batches: shuffledBatches(indices(n), batchSize, rng, true),
    prepare: (examples) => frozenProbeInputs(nets, windowBatch(set, examples, k), config),
    loss: (_, b) => probeLoss(nets.probe.apply(tfjsOps, b.x, b.start), b.y, b.w),
    afterStep: ({ step, loss }) => {
      if (step - 1 >= tailFrom) (tail += loss), (count += 1);
      if (step % 50 === 0) run.progress(done + step, done + probeSteps, `probe loss ${loss.toExponential(2)}`);
    },
    signal: run.signal,
  });
  return tail / Math.max(1, count);
}

function indices(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function value(t: tf.Scalar): number {
  return t.dataSync()[0];
}
