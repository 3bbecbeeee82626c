// Autoregressive rollouts: from the last C observed frames, predict a frame, clip it into [0, 1], drop
// changes below the deadzone, make it the newest context frame, repeat. Batched over episodes, in chunks so
// memory stays bounded. The loop (halos from the history, actions per step, writing the forecasts) is shared;
// a step engine runs the steps: tfjs here, or ONNX Runtime on the exported step (onnx.ts).

import { tf } from '@worldbench/neural';
import type { Dynamics, DynamicsShape } from './model';
import { haloOf, haloPatches } from './patches';

/** One chunk of n episodes being rolled out: its context window and last frame, held by the engine. */
export interface ChunkStepper {
  /** One step with the chunk's actions [n * A] (or null) -> the predicted frames [n * pixels] in core layout, valid until the next step. */
  step(actions: Float32Array | Int32Array | null): Promise<Float32Array>;
  /** Frees the chunk's state. */
  dispose(): void;
}

/** Starts a chunk from its context halo patches [n * C * P * J] (oldest first) and last frames [n * pixels] (core layout). */
export type StepEngine = (halos: Float32Array, last: Float32Array, n: number) => ChunkStepper;

/**
 * history: B episodes of K frames in core layout [B * K * pixels]; actions: the encoder input of each
 * forecast step [B * H * A] (float32 values or int32 ids), or null. Returns [B * H * pixels] in core layout.
 */
export async function rollout(engine: StepEngine, shape: Pick<DynamicsShape, 'geometry' | 'contextFrames'>, history: Float32Array, B: number, K: number, actions: Float32Array | Int32Array | null, A: number, H: number, chunk = 128): Promise<Float32Array> {
  const { geometry: g, contextFrames: C } = shape;
  const out = new Float32Array(B * H * g.pixels);
  for (let start = 0; start < B; start += chunk) {
    const n = Math.min(chunk, B - start);
    // the last C frames of each history (the first repeated when K < C), as halo patches
    const halos = new Float32Array(n * C * g.P * g.J);
    const last = new Float32Array(n * g.pixels);
    for (let b = 0; b < n; b++) {
      for (let c = 0; c < C; c++) {
        const k = Math.max(0, K - C + c);
        const frame = history.subarray(((start + b) * K + k) * g.pixels, ((start + b) * K + k + 1) * g.pixels);
        haloOf(g, frame, halos.subarray((b * C + c) * g.P * g.J, (b * C + c + 1) * g.P * g.J));
      }
      last.set(history.subarray(((start + b) * K + K - 1) * g.pixels, ((start + b) * K + K) * g.pixels), b * g.pixels);
    }
    const stepper = engine(halos, last, n);
    try {
      for (let h = 0; h < H; h++) {
        let a: Float32Array | Int32Array | null = null;
        if (actions) {
          a = actions instanceof Int32Array ? new Int32Array(n * A) : new Float32Array(n * A);
          for (let b = 0; b < n; b++) a.set(actions.subarray(((start + b) * H + h) * A, ((start + b) * H + h + 1) * A), b * A);
        }
        const predicted = await stepper.step(a);
        for (let b = 0; b < n; b++) out.set(predicted.subarray(b * g.pixels, (b + 1) * g.pixels), ((start + b) * H + h) * g.pixels);
      }
    } finally {
      stepper.dispose();
    }
  }
  return out;
}

/** The tfjs step engine: the dynamics' step, clip, deadzone, the prediction's halo patches and the shifted context, in one tidy. */
export function tfjsEngine(dynamics: Dynamics, deadzone = 0): StepEngine {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  return (halos, last, n) => {
    let context = tf.tensor4d(halos, [n, C, g.P, g.J]);
    let current = tf.tensor3d(last, [n, g.P, g.pp]);
    const haloIndex = tf.tensor1d(g.haloIndex, 'int32');
    return {
      async step(actions) {
        const a = actions ? tf.tensor2d(actions, [n, actions.length / n], actions instanceof Int32Array ? 'int32' : 'float32') : null;
        const [nextContext, next] = tf.tidy(() => {
          let predicted = tf.clipByValue(dynamics.step(context, current, a), 0, 1) as tf.Tensor3D; // [n, P, pp]
          // changes smaller than the deadzone are noise of the residual head: keep the pixel as it was
          if (deadzone > 0) predicted = tf.where(tf.less(tf.abs(tf.sub(predicted, current)), deadzone), current, predicted);
          const halo = haloPatches(g, tf.reshape(predicted, [n, g.pixels]) as tf.Tensor2D, haloIndex); // [n, P, J]
          const shifted = tf.concat([tf.slice(context, [0, 1, 0, 0], [n, C - 1, g.P, g.J]), tf.reshape(halo, [n, 1, g.P, g.J])], 1) as tf.Tensor4D;
          return [shifted, predicted] as [tf.Tensor4D, tf.Tensor3D];
        });
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
        haloIndex.dispose();
      },
    };
  };
}
