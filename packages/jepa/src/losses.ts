// The losses: prediction in latent space, VICReg's variance and covariance terms against collapse, and
// the probe's readout loss, each alone; then the whole loss of a window batch (`jepaLoss`) and the probe-only
// phase's (`frozenProbeInputs`, `probeLoss`). All take weights so that padding (masked objects, steps past an
// episode's end, pad slots of a patch) is left out.
import { batchMatMul, stopGradient, tf, tfjsOps } from '@worldbench/neural';
import {
  inputOf,
  repeatEach,
  repeatStatesEach,
  stackSteps,
  statesOf,
  stepsOf,
  type StateTensors,
  type WindowBatch,
} from './batch';
import type { JepaConfig } from './config';
import { rollout, type Networks } from './model';

/** Mean over weighted tokens of the squared distance per latent dimension: pred, target [B, N, D], weight [B, N]. */
export function latentLoss(pred: tf.Tensor3D, target: tf.Tensor3D, weight: tf.Tensor2D): tf.Scalar {
  const perToken = tf.mean(tf.square(tf.sub(pred, target)), 2); //                [B, N]
  return tf.div(tf.sum(tf.mul(perToken, weight)), tf.maximum(tf.sum(weight), 1)) as tf.Scalar;
}

/**
 * VICReg's regularisers on latents z [B, N, D], computed per token position n over the batch (pooling
 * positions would let position embeddings alone satisfy them), counting only tokens with mask 1 [B, N]:
 * - variance: mean over d of relu(1 - std_d), the hinge that keeps every dimension varying across states;
 * - covariance: the sum of squared off-diagonal covariances / D, which decorrelates dimensions.
 * Positions with fewer than 2 real tokens in the batch are left out.
 */
export function varianceCovariance(z: tf.Tensor3D, mask: tf.Tensor2D): { variance: tf.Scalar; covariance: tf.Scalar } {
  const [, N, D] = z.shape;
  const m = tf.expandDims(mask, 2); //                                               [B, N, 1]
  const count = tf.sum(mask, 0); //                                                   [N]
  const valid = tf.cast(tf.greaterEqual(count, 2), 'float32'); //                     [N]
  const nValid = tf.maximum(tf.sum(valid), 1);
  const denom = tf.reshape(tf.maximum(count, 2), [1, N, 1]); //                       [1, N, 1]
  const mean = tf.div(tf.sum(tf.mul(z, m), 0, true), denom); //                       [1, N, D]
  const centred = tf.mul(tf.sub(z, mean), m); //                                      [B, N, D]
  const variance = tf.div(tf.sum(tf.square(centred), 0), tf.sub(tf.reshape(denom, [N, 1]), 1)); // [N, D]
  const std = tf.sqrt(tf.add(variance, 1e-4)); //                                    [N, D]
  const hinge = tf.mean(tf.relu(tf.sub(1, std)), 1); //                               [N]
  const varianceLoss = tf.div(tf.sum(tf.mul(hinge, valid)), nValid) as tf.Scalar;
  const byPosition = tf.transpose(centred, [1, 0, 2]) as tf.Tensor3D; //             [N, B, D]
  const gram = batchMatMul(tf.transpose(byPosition, [0, 2, 1]) as tf.Tensor3D, byPosition); // [N, D, D]
  const cov = tf.div(gram, tf.reshape(tf.sub(tf.maximum(count, 2), 1), [N, 1, 1])); // [N, D, D]
  const offDiagonal = tf.sub(tf.sum(tf.square(cov), [1, 2]), tf.sum(tf.square(variance), 1)); // [N]
  const covarianceLoss = tf.div(tf.sum(tf.mul(tf.div(offDiagonal, D), valid)), nValid) as tf.Scalar;
  return { variance: varianceLoss, covariance: covarianceLoss };
}

/**
 * The probe's loss on decoded latents. Categorical: cross-entropy of logits [B, N, S, V] against labels
 * [B, N, S]; real: squared error of standardised features [B, N, S] against x [B, N, S]. weights [B, N, S].
 */
export function probeLoss(output: tf.Tensor, target: tf.Tensor, weights: tf.Tensor): tf.Scalar {
  let perSlot: tf.Tensor; //                                                          [B, N, S]
  if (output.rank === 4) {
    const V = output.shape[3] as number;
    const logp = tf.logSoftmax(output); //                                           [B, N, S, V]
    perSlot = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(tf.cast(target, 'int32') as tf.Tensor3D, V)), 3));
  } else perSlot = tf.square(tf.sub(output, target));
  return tf.div(tf.sum(tf.mul(perSlot, weights)), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
}

/**
 * What the probe is trained to output for latents of `end` states read from `start` states (same rows):
 * classes (categorical), standardised states (real, 'state'), or changes in deltaStd units (real, 'change').
 */
export function probeTargets(start: StateTensors, end: StateTensors, changeRatio: tf.Tensor2D | null): tf.Tensor3D {
  if (end.labels) return end.labels;
  if (!changeRatio) return end.targets as tf.Tensor3D;
  // [M, N, S]
  return tf.mul(tf.sub(end.targets as tf.Tensor3D, start.targets as tf.Tensor3D), changeRatio) as tf.Tensor3D;
}

export interface LossParts {
  total: tf.Scalar;
  prediction: tf.Scalar;
  variance: tf.Scalar;
  covariance: tf.Scalar;
  probe: tf.Scalar;
}

/** The predictor rolled out k steps from z [B, N, D], the latents of the batch's first states `start`. */
function rolloutOf(nets: Networks, z: tf.Tensor, batch: WindowBatch, start: StateTensors, k: number): tf.Tensor3D {
  return stackSteps(
    rollout(tfjsOps, nets, z, start.ids ?? null, batch.context, batch.actions, start.tokenMask, k) as tf.Tensor3D[],
  ); // [B k, N, D]
}

/**
 * The whole training loss of one window batch (steps 1-4 of train.ts's header). Call inside tf.tidy / variableGrads.
 */
export function jepaLoss(nets: Networks, batch: WindowBatch, config: JepaConfig): LossParts {
  const { B, k } = batch;
  const steps = k + 1;
  const s0 = statesOf(batch.states, 0, 1, steps);
  const z0 = nets.online.apply(tfjsOps, inputOf(s0)) as tf.Tensor3D; //                      [B, N, D]
  // [B (k+1), N, D], the target encoder under stop-gradient
  const targets = stopGradient(nets.target.apply(tfjsOps, inputOf(batch.states))) as tf.Tensor3D;
  // rollout on its own predictions: zhat_j = P(zhat_{j-1}, a_{t+j-1}), zhat_0 = z_t
  const predicted = rolloutOf(nets, z0, batch, s0, k); //                                    [B k, N, D]
  const later = statesOf(batch.states, 1, k, steps);
  const insideLater = tf.reshape(stepsOf(tf.reshape(batch.inside, [B * steps]), 1, k, steps), [B * k, 1]); // [B k, 1]
  const prediction = latentLoss(
    predicted,
    stepsOf(targets, 1, k, steps),
    tf.mul(later.tokenMask, insideLater) as tf.Tensor2D,
  );
  const { variance, covariance } = varianceCovariance(z0, s0.tokenMask);
  // the probe reads frozen latents only: the targets of every step and (optionally) the rollout's predictions
  const change = batch.changeRatio !== null;
  // [B (k+1), N, S]
  const allWeights = tf.mul(batch.states.weights, tf.reshape(batch.inside, [B * steps, 1, 1])) as tf.Tensor3D;
  const targetStart = change ? repeatEach(stepsOf(targets, 0, 1, steps), steps) : undefined; //       [B (k+1), N, D]
  let probe = probeLoss(
    nets.probe.apply(tfjsOps, targets, targetStart),
    probeTargets(repeatStatesEach(s0, steps), batch.states, batch.changeRatio),
    allWeights,
  );
  if (config.probeOnPredictions) {
    const predictedStart = change ? repeatEach(stopGradient(z0), k) : undefined; //                       [B k, N, D]
    const read = nets.probe.apply(tfjsOps, stopGradient(predicted), predictedStart);
    probe = tf.mul(
      tf.add(
        probe,
        probeLoss(
          read,
          probeTargets(repeatStatesEach(s0, k), later, batch.changeRatio),
          stepsOf(allWeights, 1, k, steps),
        ),
      ),
      0.5,
    ) as tf.Scalar;
  }
  const total = tf.addN([
    prediction,
    tf.mul(variance, config.varianceWeight),
    tf.mul(covariance, config.covarianceWeight),
    probe,
  ]) as tf.Scalar;
  return { total, prediction, variance, covariance, probe };
}

/**
 * The probe-only phase's batch: the frozen networks' latents (inputs x, start latents for 'change'), targets y and
 * weights w.
 */
export interface ProbeInputs {
  x: tf.Tensor3D;
  start?: tf.Tensor3D;
  y: tf.Tensor3D;
  w: tf.Tensor3D;
}

/**
 * The latents the probe reads in its own phase: targets of every step and (optionally) the rollout's predictions. Make
 * them outside any gradient.
 */
export function frozenProbeInputs(nets: Networks, batch: WindowBatch, config: JepaConfig): ProbeInputs {
  const { B, k } = batch;
  const steps = k + 1;
  const latents = nets.target.apply(tfjsOps, inputOf(batch.states)) as tf.Tensor3D; //     [B (k+1), N, D]
  const change = batch.changeRatio !== null;
  const s0 = statesOf(batch.states, 0, 1, steps);
  const weights = tf.mul(batch.states.weights, tf.reshape(batch.inside, [B * steps, 1, 1])) as tf.Tensor3D;
  const inputs: tf.Tensor3D[] = [latents];
  const starts: tf.Tensor3D[] = change ? [repeatEach(stepsOf(latents, 0, 1, steps), steps)] : [];
  const targetsOf: tf.Tensor3D[] = [probeTargets(repeatStatesEach(s0, steps), batch.states, batch.changeRatio)];
  const weightsOf: tf.Tensor3D[] = [weights];
  if (config.probeOnPredictions) {
    const z0 = nets.online.apply(tfjsOps, inputOf(s0)) as tf.Tensor3D;
    inputs.push(rolloutOf(nets, z0, batch, s0, k));
    if (change) starts.push(repeatEach(z0, k));
    targetsOf.push(probeTargets(repeatStatesEach(s0, k), statesOf(batch.states, 1, k, steps), batch.changeRatio));
    weightsOf.push(stepsOf(weights, 1, k, steps));
  }
  const cat = (ts: tf.Tensor3D[]) => tf.concat(ts, 0) as tf.Tensor3D;
  return { x: cat(inputs), start: change ? cat(starts) : undefined, y: cat(targetsOf), w: cat(weightsOf) };
}
