// Autoregressive rollouts: from the last C observed frames, predict a frame, clip it into [0, 1], drop
// changes below the deadzone, make it the newest context frame, repeat. Batched over episodes, in chunks so
// memory stays bounded. One step is written once (`rolloutStep`, and `tokenStep` with the 'vq' tokenizer, whose
// state is the context frames' token ids: it predicts the next ids (argmax), decodes them through the
// tokenizer's table, and feeds the predicted ids back) against @worldbench/neural's Ops; a step engine runs it:
// tfjs here, or ONNX Runtime on its traced graph (onnx.ts). The loop (halos from the history, actions per step,
// writing the forecasts) is shared.

import { tf, tfjsOps, type Ops } from '@worldbench/neural';
import type { Dynamics, DynamicsShape } from './model';
import { haloOf, haloPatches, type PatchGeometry } from './patches';
import type { PatchTokenizer } from './tokenizer';

/**
 * The context window moved on by one frame: the oldest of the C frames [n, C, P, J] dropped, the halo patches of
 * `frame` [n, P, pp] appended.
 */
export function nextWindow<T>(ops: Ops<T>, g: PatchGeometry, C: number, context: T, frame: T, haloIndex: T): T {
  // [n, 1, P, J]
  const halo = ops.reshape(haloPatches(ops, g, ops.reshape(frame, [0, g.pixels]), haloIndex), [-1, 1, g.P, g.J]);
  return C > 1 ? ops.concat([ops.slice(context, 1, 1, C), halo], 1) : halo;
}

/**
 * One rollout step on pixels: context halo patches [n, C, P, J], last frame [n, P, pp], actions [n, A] (or
 * null), `haloIndex` (g.haloIndex as an int32 value) -> the prediction [n, P, pp], clipped into [0, 1] with
 * changes below `deadzone` dropped (the residual head's faint noise would otherwise compound), and the next window.
 */
export function rolloutStep<T>(
  ops: Ops<T>,
  dynamics: Dynamics,
  deadzone: number,
  context: T,
  current: T,
  actions: T | null,
  haloIndex: T,
): { context: T; prediction: T } {
  return settle(ops, dynamics, deadzone, context, current, dynamics.step(ops, context, current, actions), haloIndex);
}

/**
 * A predicted frame [n, P, pp] (unclipped) made what a rollout feeds back: clipped into [0, 1], changes from `current`
 * below `deadzone` dropped, and appended to the context window [n, C, P, J] (the oldest frame dropped).
 */
export function settle<T>(
  ops: Ops<T>,
  dynamics: Dynamics,
  deadzone: number,
  context: T,
  current: T,
  predicted: T,
  haloIndex: T,
): { context: T; prediction: T } {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  let prediction = ops.clip(predicted, 0, 1); //                                                    [n, P, pp]
  if (deadzone > 0)
    prediction = ops.where(ops.less(ops.abs(ops.sub(prediction, current)), deadzone), current, prediction);
  return { context: nextWindow(ops, g, C, context, prediction, haloIndex), prediction };
}

/**
 * One rollout step on tokens: context token ids [n, C, P], last frame [n, P, pp], actions, the tokenizer's
 * decoded patch of every code `table` [K, pp] -> the next ids [n, C, P] and the frame [n, P, pp]: each patch's
 * argmax id decoded, but a patch whose predicted id is its last id keeps its last pixels (the token's deadzone: a
 * patch the dynamics leaves alone is not replaced by its lossy reconstruction).
 */
export function tokenStep<T>(
  ops: Ops<T>,
  dynamics: Dynamics,
  table: T,
  ids: T,
  current: T,
  actions: T | null,
): { ids: T; prediction: T } {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  const predicted = ops.cast(ops.argMax(dynamics.logits(ops, ids, actions), 2), 'int32'); //            [n, P]
  const decoded = ops.reshape(ops.gather(table, 0, ops.reshape(predicted, [-1])), [-1, g.P, g.pp]); //   [n, P, pp]
  const last = ops.reshape(ops.slice(ids, 1, C - 1, C), [-1, g.P]); //                                 [n, P]
  const prediction = ops.where(ops.reshape(ops.equal(last, predicted), [-1, g.P, 1]), current, decoded);
  const newest = ops.reshape(predicted, [-1, 1, g.P]); //                                               [n, 1, P]
  return { ids: C > 1 ? ops.concat([ops.slice(ids, 1, 1, C), newest], 1) : newest, prediction };
}

/** One chunk of n episodes being rolled out: its context window and last frame, held by the engine. */
export interface ChunkStepper {
  /**
   * One step with the chunk's actions [n * A] (or null) -> the predicted frames [n * pixels] in core layout, valid
   * until the next step.
   */
  step(actions: Float32Array | Int32Array | null): Promise<Float32Array>;
  /** Frees the chunk's state. */
  dispose(): void;
}

/**
 * Starts a chunk from its context halo patches [n * C * P * J] (oldest first), last frames [n * pixels] and
 * context frames [n * C * pixels] (core layout, oldest first; what a token engine tokenizes).
 */
export type StepEngine = (halos: Float32Array, last: Float32Array, n: number, frames: Float32Array) => ChunkStepper;

/**
 * What a rollout starts from, for histories start..start+n-1 of `history` (episodes of K frames in core layout): the
 * last C frames of each (the first repeated when K < C) as halo patches [n * C * P * J] and as frames [n * C * pixels],
 * and the last frame [n * pixels].
 */
export function contextWindows(
  shape: Pick<DynamicsShape, 'geometry' | 'contextFrames'>,
  history: Float32Array,
  K: number,
  start: number,
  n: number,
): { halos: Float32Array; last: Float32Array; frames: Float32Array } {
  const { geometry: g, contextFrames: C } = shape;
  const halos = new Float32Array(n * C * g.P * g.J);
  const last = new Float32Array(n * g.pixels);
  const frames = new Float32Array(n * C * g.pixels);
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < C; c++) {
      const k = Math.max(0, K - C + c);
      const frame = history.subarray(((start + b) * K + k) * g.pixels, ((start + b) * K + k + 1) * g.pixels);
      haloOf(g, frame, halos.subarray((b * C + c) * g.P * g.J, (b * C + c + 1) * g.P * g.J));
      frames.set(frame, (b * C + c) * g.pixels);
    }
    last.set(history.subarray(((start + b) * K + K - 1) * g.pixels, ((start + b) * K + K) * g.pixels), b * g.pixels);
  }
  return { halos, last, frames };
}

/**
 * history: B episodes of K frames in core layout [B * K * pixels]; actions: the encoder input of each
 * forecast step [B * H * A] (float32 values or int32 ids), or null. Returns [B * H * pixels] in core layout.
 */
export async function rollout(
  engine: StepEngine,
  shape: Pick<DynamicsShape, 'geometry' | 'contextFrames'>,
  history: Float32Array,
  B: number,
  K: number,
  actions: Float32Array | Int32Array | null,
  A: number,
  H: number,
  chunk = 128,
): Promise<Float32Array> {
  const { geometry: g } = shape;
  const out = new Float32Array(B * H * g.pixels);
  for (let start = 0; start < B; start += chunk) {
    const n = Math.min(chunk, B - start);
    const { halos, last, frames } = contextWindows(shape, history, K, start, n);
    const stepper = engine(halos, last, n, frames);
    try {
      for (let h = 0; h < H; h++) {
        let a: Float32Array | Int32Array | null = null;
        if (actions) {
          a = actions instanceof Int32Array ? new Int32Array(n * A) : new Float32Array(n * A);
          for (let b = 0; b < n; b++)
            a.set(actions.subarray(((start + b) * H + h) * A, ((start + b) * H + h + 1) * A), b * A);
        }
        const predicted = await stepper.step(a);
        for (let b = 0; b < n; b++)
          out.set(predicted.subarray(b * g.pixels, (b + 1) * g.pixels), ((start + b) * H + h) * g.pixels);
      }
    } finally {
      stepper.dispose();
    }
  }
  return out;
}

/**
 * A tfjs chunk stepper: `advance` maps (context window, last frame [n, P, pp], actions [n, A] or null) to (the
 * next window, the prediction) inside a tidy; the stepper keeps them as its state and frees the previous ones,
 * and frees `owned` (tensors the engine made for this chunk) with its state.
 */
function tfjsStepper<W extends tf.Tensor>(
  window: W,
  last: Float32Array,
  n: number,
  g: PatchGeometry,
  advance: (window: W, current: tf.Tensor3D, a: tf.Tensor2D | null) => [W, tf.Tensor3D],
  owned: tf.Tensor[] = [],
): ChunkStepper {
  let context = window;
  let current = tf.tensor3d(last, [n, g.P, g.pp]);
  return {
    async step(actions) {
      const a = actions
        ? tf.tensor2d(actions, [n, actions.length / n], actions instanceof Int32Array ? 'int32' : 'float32')
        : null;
      const [nextContext, next] = tf.tidy(() => advance(context, current, a));
      a?.dispose();
      context.dispose();
      current.dispose();
      context = nextContext;
      current = next;
      return next.dataSync() as Float32Array;
    },
    dispose() {
      context.dispose();
      current.dispose();
      tf.dispose(owned);
    },
  };
}

/** The tfjs step engine: rolloutStep in one tidy. */
export function tfjsEngine(dynamics: Dynamics, deadzone = 0): StepEngine {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  return (halos, last, n) => {
    const haloIndex = tf.tensor1d(g.haloIndex, 'int32');
    return tfjsStepper(
      tf.tensor4d(halos, [n, C, g.P, g.J]),
      last,
      n,
      g,
      (context, current, a) => {
        const next = rolloutStep<tf.Tensor>(tfjsOps, dynamics, deadzone, context, current, a, haloIndex);
        return [next.context as tf.Tensor4D, next.prediction as tf.Tensor3D];
      },
      [haloIndex],
    );
  };
}

/** Token ids [n, C, P] (int32) of context frames [n * C * pixels] in core layout. */
export function contextIds(
  tokenizer: PatchTokenizer,
  g: PatchGeometry,
  frames: Float32Array,
  n: number,
  C: number,
): tf.Tensor3D {
  const patches = tf.tensor2d(frames, [n * C * g.P, g.pp]);
  const ids = tokenizer.ids(patches);
  patches.dispose();
  return tf.tensor3d(ids, [n, C, g.P], 'int32');
}

/**
 * The tfjs step engine on tokens: tokenStep in one tidy, decoding through `table` [K, pp] (the tokenizer's
 * decodedTable()).
 */
export function tfjsTokenEngine(dynamics: Dynamics, tokenizer: PatchTokenizer, table: tf.Tensor2D): StepEngine {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  return (_halos, last, n, frames) =>
    tfjsStepper(contextIds(tokenizer, g, frames, n, C), last, n, g, (ids, current, a) => {
      const next = tokenStep<tf.Tensor>(tfjsOps, dynamics, table, ids, current, a);
      return [next.ids as tf.Tensor3D, next.prediction as tf.Tensor3D];
    });
}
