// The training losses of the latent action model and the dynamics (the 'vq' tokenizer's is beside it, in
// tokenizer.ts), written once against Ops: tfjs runs them, the ONNX Runtime engine traces them (forward and backward
// in one graph). Each reads a step's data by name (train.ts cuts it); shapes: b examples, C context frames, P
// patches, J values per halo patch, pp per core patch, K codes.

import type { Ops } from '@worldbench/neural';
import type { Dynamics, LatentActionModel } from './model';
import { nextWindow } from './rollout';
import type { StageValues } from './stage';

/** The mean over every entry of x (a scalar). */
function meanAll<T>(ops: Ops<T>, x: T): T {
  return ops.mean(ops.reshape(x, [-1]), 0);
}

/**
 * Stage 1, the latent action model: the code of each transition from its halo patches `lastHalo`, `nextHalo` [b, P, J],
 * the next frame `next` [b, P, pp] decoded from the context [b, C, P, J], the last frame `current` [b, P, pp] and the
 * code; loss the mean over rows of each row's squared error (summed over its pixels) plus the VQ loss.
 */
export function latentActionLoss<T>(ops: Ops<T>, lam: LatentActionModel, i: Record<string, T>): StageValues<T> {
  const z = lam.encode(ops, i.lastHalo, i.nextHalo); //                                       [b, latentDim]
  const q = lam.quantizer.quantise(ops, z);
  const predicted = lam.decode(ops, i.context, i.current, q.st); //                           [b, P, pp]
  const d = ops.sub(predicted, i.next);
  const perRow = ops.sum(ops.reshape(ops.mul(d, d), [0, -1]), 1); //                          [b]
  return {
    loss: ops.add(ops.mean(perRow, 0), q.loss),
    restart: { codes: q.codes, errors: perRow, normalised: q.normalised },
  };
}

/**
 * Stage 2 on pixels: the dynamics rolled `width` steps from the context [b, C, P, J] and last frame `current` [b, P,
 * pp] with actions `action0..` [b, A] (absent without actions); step r's pixel-weighted squared error against
 * `target{r}` [b, P, pp] (`weights` [P, pp]); after each step but the last, the clipped prediction becomes the
 * newest context frame (self-forcing, gradients through it; `haloIndex` [P * J] int32, needed when width > 1).
 * Loss: the mean over steps.
 */
export function dynamicsLoss<T>(
  ops: Ops<T>,
  dynamics: Dynamics,
  width: number,
  weights: T,
  haloIndex: T | null,
  i: Record<string, T>,
): StageValues<T> {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  let context = i.context;
  let current = i.current;
  let first: T | null = null;
  let later: T | null = null;
  for (let r = 0; r < width; r++) {
    const predicted = dynamics.step(ops, context, current, i[`action${r}`] ?? null); //        [b, P, pp]
    const d = ops.sub(predicted, i[`target${r}`]);
    const term = meanAll(ops, ops.mul(ops.mul(d, d), weights));
    if (r === 0) first = term;
    else later = later === null ? term : ops.add(later, term);
    if (r + 1 < width) {
      current = ops.clip(predicted, 0, 1);
      context = nextWindow(ops, g, C, context, current, haloIndex as T); //                        [b, C, P, J]
    }
  }
  if (later === null) return { loss: first as T };
  // the one-step term weighs as much as the rollout's later steps together, whatever their number
  return { loss: ops.mul(ops.add(first as T, ops.div(later, width - 1)), 0.5) };
}

/**
 * Stage 2 on tokens: next-token logits from the context ids `context` [b, C, P] (int32) and `action0` [b, A];
 * loss the mean cross-entropy over patches against `target` [b, P] (int32).
 */
export function tokenDynamicsLoss<T>(ops: Ops<T>, dynamics: Dynamics, i: Record<string, T>): StageValues<T> {
  const K = dynamics.shape.tokens;
  const logits = ops.reshape(dynamics.logits(ops, i.context, i.action0 ?? null), [-1, K]); //     [b*P, K]
  const onehot = ops.oneHot(ops.reshape(i.target, [-1]), K); //                                    [b*P, K]
  return { loss: ops.neg(ops.mean(ops.sum(ops.mul(onehot, ops.logSoftmax(logits)), 1), 0)) };
}
