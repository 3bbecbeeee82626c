// The target encoder: an exponential moving average of the context encoder, never trained by gradients.
//
// Invariants the JEPA loss relies on (tested in test/ema.test.ts):
// 1. The target encoder's variables are not trainable: they are in no optimiser and no gradient list.
// 2. Its outputs enter the loss through neural's `stopGradient` (losses.ts), so no gradient reaches them even
//    if they were (the loss could not pull the targets toward the predictions: that shortcut is collapse).
// 3. Its weights change only in `updateTargetEncoder` (tfjs) or `updateTargetArrays` (the ONNX Runtime engine, which
//    feeds them to its graph as arrays and writes them back into the variables at the end): target <- m * target +
//    (1 - m) * online, after each optimiser step (the trainer's post-step hook, train.ts), with m from
//    `momentumAt` (cosine from emaMomentum to emaMomentumEnd).
import { tf } from '@worldbench/neural';

/**
 * Copies `online`'s weights into `target` and makes the target's variables non-trainable. Same architecture, same
 * order.
 */
export function initTargetEncoder(target: readonly tf.Variable[], online: readonly tf.Variable[]): void {
  checkPairs(target, online);
  tf.tidy(() => target.forEach((t, i) => t.assign(online[i])));
  for (const t of target) t.trainable = false;
}

/**
 * Momentum update of the target encoder, under no gradient: target <- m * target + (1 - m) * online.
 * Call after each optimiser step of the online encoder.
 */
export function updateTargetEncoder(
  target: readonly tf.Variable[],
  online: readonly tf.Variable[],
  momentum: number,
): void {
  if (!(momentum >= 0 && momentum <= 1))
    throw new RangeError(`updateTargetEncoder: momentum must be in [0, 1], got ${momentum}`);
  checkPairs(target, online);
  if (momentum === 1) return;
  tf.tidy(() => target.forEach((t, i) => t.assign(tf.add(tf.mul(t, momentum), tf.mul(online[i], 1 - momentum)))));
}

/**
 * The same update on the weights as arrays (the ONNX Runtime engine's fed target and trained online weights), in
 * place: target <- m * target + (1 - m) * online, each entry rounded to float32 as tfjs's update rounds it.
 */
export function updateTargetArrays(target: Float32Array[], online: readonly Float32Array[], momentum: number): void {
  if (!(momentum >= 0 && momentum <= 1))
    throw new RangeError(`updateTargetArrays: momentum must be in [0, 1], got ${momentum}`);
  if (target.length !== online.length)
    throw new Error(`target encoder has ${target.length} arrays, the online encoder ${online.length}`);
  if (momentum === 1) return;
  const [m, rest] = [Math.fround(momentum), Math.fround(1 - momentum)];
  target.forEach((t, i) => {
    const o = online[i];
    if (t.length !== o.length) throw new Error(`target array ${i} has ${t.length} entries, online ${o.length}`);
    for (let j = 0; j < t.length; j++) t[j] = Math.fround(t[j] * m) + Math.fround(o[j] * rest);
  });
}

/** EMA momentum at `step` of `total`: cosine from `start` (step 0) to `end` (the last step). */
export function momentumAt(step: number, total: number, start: number, end: number): number {
  const progress = total <= 1 ? 1 : Math.min(1, step / (total - 1));
  return end - (end - start) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

function checkPairs(target: readonly tf.Variable[], online: readonly tf.Variable[]): void {
  if (target.length !== online.length)
    throw new Error(`target encoder has ${target.length} variables, the online encoder ${online.length}`);
  target.forEach((t, i) => {
    if (t.shape.join() !== online[i].shape.join())
      throw new Error(`target variable ${i} has shape [${t.shape}], online [${online[i].shape}]`);
  });
}
