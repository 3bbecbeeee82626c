// The losses: prediction in latent space, VICReg's variance and covariance terms against collapse, and
// the probe's readout loss, each alone; then the whole loss of a window batch (`jepaLoss`) and the probe-only
// phase's (`frozenProbeInputs`, `probeLoss`). All take weights so that padding (masked objects, steps past an
// episode's end, pad slots of a patch) is left out. Each is written once against neural's Ops: tfjs runs it
// (tfjsOps, inside tf.variableGrads), and the ONNX Runtime training engine traces it into its step's graph.
import type { Ops } from '@worldbench/neural';
import {
  inputOf,
  repeatAt,
  repeatStatesAt,
  stackAt,
  statesAt,
  stepsAt,
  type StateValues,
  type StepBatch,
  type TrainingSet,
} from './batch';
import type { JepaConfig } from './config';
import { rollout, type Networks } from './model';

/** The sum of every entry of x: a scalar. */
function sumAll<T>(ops: Ops<T>, x: T): T {
  return ops.sum(ops.reshape(x, [-1]), 0);
}

/** sum(x w) / max(sum(w), 1): the mean of x over the entries of weight w (x and w of one shape). */
function weightedMean<T>(ops: Ops<T>, x: T, w: T): T {
  return ops.div(sumAll(ops, ops.mul(x, w)), ops.maximum(sumAll(ops, w), 1));
}

/** Mean over weighted tokens of the squared distance per latent dimension: pred, target [B, N, D], weight [B, N]. */
export function latentLoss<T>(ops: Ops<T>, pred: T, target: T, weight: T): T {
  const d = ops.sub(pred, target);
  return weightedMean(ops, ops.mean(ops.mul(d, d), 2), weight); //                   per token [B, N]
}

/**
 * VICReg's regularisers on latents z [B, N, D], computed per token position n over the batch (pooling
 * positions would let position embeddings alone satisfy them), counting only tokens with mask 1 [B, N]:
 * - variance: mean over d of relu(1 - std_d), the hinge that keeps every dimension varying across states;
 * - covariance: the sum of squared off-diagonal covariances / D, which decorrelates dimensions.
 * Positions with fewer than 2 real tokens in the batch are left out.
 */
export function varianceCovariance<T>(ops: Ops<T>, z: T, mask: T): { variance: T; covariance: T } {
  const [, N, D] = ops.shape(z) as number[];
  const m = ops.reshape(mask, [0, 0, 1]); //                                          [B, N, 1]
  const count = ops.sum(mask, 0); //                                                  [N]
  const valid = ops.sub(1, ops.cast(ops.less(count, 2), 'float32')); //               [N]: count >= 2
  const nValid = ops.maximum(ops.sum(valid, 0), 1);
  const denom = ops.maximum(count, 2); //                                             [N]
  const mean = ops.div(ops.sum(ops.mul(z, m), 0), ops.reshape(denom, [N, 1])); //    [N, D]
  const centred = ops.mul(ops.sub(z, mean), m); //                                    [B, N, D]
  const bessel = ops.sub(denom, 1); //                                                [N]
  const variance = ops.div(ops.sum(ops.mul(centred, centred), 0), ops.reshape(bessel, [N, 1])); // [N, D]
  const std = ops.sqrt(ops.add(variance, 1e-4)); //                                  [N, D]
  const hinge = ops.mean(ops.relu(ops.sub(1, std)), 1); //                             [N]
  const varianceLoss = ops.div(ops.sum(ops.mul(hinge, valid), 0), nValid);
  const byPosition = ops.transpose(centred, [1, 0, 2]); //                            [N, B, D]
  const gram = ops.matMul(ops.transpose(centred, [1, 2, 0]), byPosition); //         [N, D, D]
  const cov = ops.div(gram, ops.reshape(bessel, [N, 1, 1])); //                       [N, D, D]
  const squares = ops.sum(ops.sum(ops.mul(cov, cov), 2), 1); //                       [N]
  const offDiagonal = ops.sub(squares, ops.sum(ops.mul(variance, variance), 1)); //   [N]
  const covarianceLoss = ops.div(ops.sum(ops.mul(ops.div(offDiagonal, D), valid), 0), nValid);
  return { variance: varianceLoss, covariance: covarianceLoss };
}

/**
 * The probe's loss on decoded latents. Categorical: cross-entropy of logits [B, N, S, V] against labels
 * [B, N, S]; real: squared error of standardised features [B, N, S] against x [B, N, S]. weights [B, N, S].
 */
export function probeLoss<T>(ops: Ops<T>, output: T, target: T, weights: T): T {
  const shape = ops.shape(output);
  let perSlot: T; //                                                                  [B, N, S]
  if (shape.length === 4) {
    const logp = ops.logSoftmax(output); //                                           [B, N, S, V]
    const truth = ops.oneHot(ops.cast(target, 'int32'), shape[3] as number); //       [B, N, S, V]
    perSlot = ops.neg(ops.sum(ops.mul(logp, truth), 3));
  } else {
    const d = ops.sub(output, target);
    perSlot = ops.mul(d, d);
  }
  return weightedMean(ops, perSlot, weights);
}

/**
 * What the probe is trained to output for latents of `end` states read from `start` states (same rows):
 * classes (categorical), standardised states (real, 'state'), or changes in deltaStd units (real, 'change').
 */
export function probeTargets<T>(ops: Ops<T>, start: StateValues<T>, end: StateValues<T>, changeRatio: T | null): T {
  if (end.labels) return end.labels;
  if (changeRatio === null) return end.targets as T;
  return ops.mul(ops.sub(end.targets as T, start.targets as T), changeRatio); //      [M, N, S]
}

export interface LossParts<T> {
  total: T;
  prediction: T;
  variance: T;
  covariance: T;
  probe: T;
}

/** The predictor rolled out k steps from z [B, N, D], the latents of the batch's first states `start`: [B k, N, D]. */
function rolloutOf<T>(ops: Ops<T>, nets: Networks, z: T, batch: StepBatch<T>, start: StateValues<T>, k: number): T {
  return stackAt(ops, rollout(ops, nets, z, start.ids ?? null, batch.context, batch.actions, start.tokenMask, k));
}

/** Each state row's loss weights, zero past its episode's end: [B (k+1), N, S]. */
function stateWeights<T>(ops: Ops<T>, batch: StepBatch<T>): T {
  return ops.mul(batch.states.weights, ops.reshape(batch.inside, [batch.B * (batch.k + 1), 1, 1]));
}

/**
 * The whole training loss of one window batch (steps 1-4 of train.ts's header). On tfjs call it inside
 * tf.variableGrads; on the ONNX Runtime engine it is the traced loss (the target encoder's weights fed, not trained).
 */
export function jepaLoss<T>(ops: Ops<T>, nets: Networks, batch: StepBatch<T>, config: JepaConfig): LossParts<T> {
  const { B, k } = batch;
  const steps = k + 1;
  const s0 = statesAt(ops, batch.states, 0, 1, steps);
  const z0 = nets.online.apply(ops, inputOf(s0)); //                                             [B, N, D]
  // [B (k+1), N, D], the target encoder under stop-gradient
  const targets = ops.stopGradient(nets.target.apply(ops, inputOf(batch.states)));
  // rollout on its own predictions: zhat_j = P(zhat_{j-1}, a_{t+j-1}), zhat_0 = z_t
  const predicted = rolloutOf(ops, nets, z0, batch, s0, k); //                                   [B k, N, D]
  const later = statesAt(ops, batch.states, 1, k, steps);
  const insideLater = ops.reshape(stepsAt(ops, ops.reshape(batch.inside, [B * steps]), 1, k, steps), [B * k, 1]);
  let weight = ops.mul(later.tokenMask, insideLater); //                                        [B k, N]
  if (config.changeWeight !== 1 && later.labels !== undefined) {
    // a token changes when any of its slots' values does: 1 - min over slots of [label_j == label_{j-1}]
    const before = statesAt(ops, batch.states, 0, k, steps).labels as T; //                     [B k, N, S]
    const changed = ops.max(ops.sub(1, ops.cast(ops.equal(later.labels, before), 'float32')), 2); // [B k, N]
    weight = ops.mul(weight, ops.add(ops.mul(changed, config.changeWeight - 1), 1));
  }
  const prediction = latentLoss(ops, predicted, stepsAt(ops, targets, 1, k, steps), weight);
  const { variance, covariance } = varianceCovariance(ops, z0, s0.tokenMask);
  // the probe reads frozen latents only: the targets of every step and (optionally) the rollout's predictions
  const change = batch.changeRatio !== null;
  const allWeights = stateWeights(ops, batch); //                                                [B (k+1), N, S]
  const targetStart = change ? repeatAt(ops, stepsAt(ops, targets, 0, 1, steps), steps) : undefined; // [B (k+1), N, D]
  let probe = probeLoss(
    ops,
    nets.probe.apply(ops, targets, targetStart),
    probeTargets(ops, repeatStatesAt(ops, s0, steps), batch.states, batch.changeRatio),
    allWeights,
  );
  if (config.probeOnPredictions) {
    const predictedStart = change ? repeatAt(ops, ops.stopGradient(z0), k) : undefined; //       [B k, N, D]
    const read = nets.probe.apply(ops, ops.stopGradient(predicted), predictedStart);
    const onPredictions = probeLoss(
      ops,
      read,
      probeTargets(ops, repeatStatesAt(ops, s0, k), later, batch.changeRatio),
      stepsAt(ops, allWeights, 1, k, steps),
    );
    probe = ops.mul(ops.add(probe, onPredictions), 0.5);
  }
  let total = ops.add(
    ops.add(
      ops.add(prediction, ops.mul(variance, config.varianceWeight)),
      ops.mul(covariance, config.covarianceWeight),
    ),
    probe,
  );
  if (nets.anchor) {
    // the anchor reads s_t from the online latents z_t, its gradient reaching the encoder
    const anchor = probeLoss(ops, nets.anchor.apply(ops, z0), probeTargets(ops, s0, s0, null), s0.weights);
    total = ops.add(total, ops.mul(anchor, config.anchorWeight));
  }
  return { total, prediction, variance, covariance, probe };
}

/**
 * The probe-only phase's batch: the frozen networks' latents (inputs x, start latents for 'change'), targets y and
 * weights w.
 */
export interface ProbeInputs<T> {
  x: T;
  start?: T;
  y: T;
  w: T;
}

/**
 * The latents the probe reads in its own phase: targets of every step and (optionally) the rollout's predictions.
 * Make them outside any gradient on tfjs; on the engine the frozen networks are fixed initializers, so nothing of
 * them is taped.
 */
export function frozenProbeInputs<T>(
  ops: Ops<T>,
  nets: Networks,
  batch: StepBatch<T>,
  config: JepaConfig,
): ProbeInputs<T> {
  const { k } = batch;
  const steps = k + 1;
  const latents = ops.stopGradient(nets.target.apply(ops, inputOf(batch.states))); //           [B (k+1), N, D]
  const change = batch.changeRatio !== null;
  const s0 = statesAt(ops, batch.states, 0, 1, steps);
  const weights = stateWeights(ops, batch);
  const inputs: T[] = [latents];
  const starts: T[] = change ? [repeatAt(ops, stepsAt(ops, latents, 0, 1, steps), steps)] : [];
  const targetsOf: T[] = [probeTargets(ops, repeatStatesAt(ops, s0, steps), batch.states, batch.changeRatio)];
  const weightsOf: T[] = [weights];
  if (config.probeOnPredictions) {
    const z0 = ops.stopGradient(nets.online.apply(ops, inputOf(s0)));
    inputs.push(ops.stopGradient(rolloutOf(ops, nets, z0, batch, s0, k)));
    if (change) starts.push(repeatAt(ops, z0, k));
    const later = statesAt(ops, batch.states, 1, k, steps);
    targetsOf.push(probeTargets(ops, repeatStatesAt(ops, s0, k), later, batch.changeRatio));
    weightsOf.push(stepsAt(ops, weights, 1, k, steps));
  }
  const cat = (xs: T[]) => (xs.length === 1 ? xs[0] : ops.concat(xs, 0));
  return { x: cat(inputs), start: change ? cat(starts) : undefined, y: cat(targetsOf), w: cat(weightsOf) };
}

/** The probe-only phase's loss: the probe's readout of the frozen latents against their targets. */
export function frozenProbeLoss<T>(ops: Ops<T>, nets: Networks, inputs: ProbeInputs<T>): T {
  return probeLoss(ops, nets.probe.apply(ops, inputs.x, inputs.start), inputs.y, inputs.w);
}

/** The most a balanced change weight (config changeWeight 0) gives a changing token. */
export const MAX_CHANGE_WEIGHT = 20;

/**
 * The latent loss's weight of a changing categorical token: config.changeWeight, or for 0 (balanced) the square root
 * of the training transitions' still-to-changed token ratio, clamped to [1, MAX_CHANGE_WEIGHT]: about 16 where one
 * token in 250 changes (an agent on a grid), about 1.5 where a third of them do (a program's registers).
 */
export function changeWeightFor(set: TrainingSet, config: JepaConfig): number {
  if (config.changeWeight > 0) return config.changeWeight;
  const { labels, tokenMask } = set.arrays.states;
  if (!labels) return 1;
  const N = set.tokens,
    S = labels.length / tokenMask.length,
    T = set.steps;
  let changed = 0,
    still = 0;
  set.lengths.forEach((length, e) => {
    for (let t = 0; t < length; t++) {
      const row = e * (T + 1) + t; //                                          state t; state t + 1 is the next row
      for (let n = 0; n < N; n++) {
        if (tokenMask[(row + 1) * N + n] === 0) continue;
        let differs = false;
        for (let s = 0; s < S && !differs; s++)
          differs = labels[(row * N + n) * S + s] !== labels[((row + 1) * N + n) * S + s];
        if (differs) changed += 1;
        else still += 1;
      }
    }
  });
  return changed === 0 ? 1 : Math.min(MAX_CHANGE_WEIGHT, Math.max(1, Math.sqrt(still / changed)));
}
