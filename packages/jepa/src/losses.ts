// The losses: prediction in latent space, VICReg's variance and covariance terms against collapse, and
// the probe's readout loss. All take weights so that padding (masked objects, steps past an episode's end,
// pad slots of a patch) is left out.
import { batchMatMul, tf } from '@worldbench/neural';

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

/** Decoded values per slot [B, N, S]: the most likely class (categorical) or the standardised feature (real). */
export function decodeProbe(output: tf.Tensor): tf.Tensor3D {
  return (output.rank === 4 ? tf.cast(tf.argMax(output, 3), 'float32') : output) as tf.Tensor3D;
}
