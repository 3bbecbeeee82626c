// What act() maximises (Plan2Explore, Sekar et al. 2020, made light): K small heads on the dynamics' trunk, each
// predicting every patch's change to the next frame from the trunk's token features, trained after the dynamics with
// the trunk fixed (its features are data to them: the forecasts do not change). Where the training data showed the
// world, the heads agree; away from it their random initialisations are all that shapes them, and they disagree.
// act() imagines candidate action sequences with the dynamics' own rollout and scores each by the heads' disagreement
// (the variance across heads of their predicted next frames, per pixel, averaged over the frame) summed over the
// imagined steps; it takes the first action of the best. Shapes: n rows, C context frames, P patches, J values per
// halo patch, pp per core patch, D width, K heads, H imagined steps, A action values.

import { isCategorical, sizeOf, type Rng, type TensorSpec } from '@worldbench/core';
import { Dense, Module, tf, tfjsOps, type Ops } from '@worldbench/neural';
import { ForwardProbe } from '@worldbench/onnx';
import type { StageValues } from './stage';
import type { Dynamics } from './model';
import { settle } from './rollout';

/** One head: a ReLU layer [D, D] then a linear layer [D, pp] from a token's features to its patch's change. */
export class DisagreementHead extends Module {
  readonly hidden: Dense;
  readonly out: Dense;

  constructor(
    rng: Rng,
    readonly width: number,
    readonly pp: number,
  ) {
    super();
    this.hidden = new Dense(rng, width, width, { activation: 'relu' });
    this.out = new Dense(rng, width, pp, { init: 'zero' });
  }

  /** Token features [m, D] -> the predicted change [m, pp]. */
  apply<T>(ops: Ops<T>, features: T): T {
    return this.out.apply(ops, this.hidden.apply(ops, features));
  }

  parts() {
    return { hidden: this.hidden, out: this.out };
  }
}

/** K heads (DisagreementHead), each with its own initial weights. */
export class DisagreementHeads extends Module {
  readonly heads: DisagreementHead[];

  constructor(rng: Rng, width: number, pp: number, count: number) {
    super();
    this.heads = Array.from({ length: count }, (_, k) => new DisagreementHead(rng.fork(`head-${k}`), width, pp));
  }

  /** Token features [m, D] -> each head's predicted change [m, pp] (K of them). */
  apply<T>(ops: Ops<T>, features: T): T[] {
    return this.heads.map((head) => head.apply(ops, features));
  }

  parts() {
    return { heads: this.heads };
  }
}

/**
 * The heads' training loss: the trunk's features `features` [b, P, D] (computed once from the fitted dynamics: no
 * gradient reaches the trunk) and each patch's true change `change` [b, P, pp]; the sum over heads of each one's mean
 * squared error (one graph trains all K; their parameters are disjoint, so each head's gradient is its own).
 */
export function headsLoss<T>(ops: Ops<T>, heads: DisagreementHeads, i: Record<string, T>): StageValues<T> {
  const D = heads.heads[0].width,
    pp = heads.heads[0].pp;
  const rows = ops.reshape(i.features, [-1, D]); //                                               [b*P, D]
  const target = ops.reshape(i.change, [-1, pp]); //                                              [b*P, pp]
  let loss: T | null = null;
  for (const predicted of heads.apply(ops, rows)) {
    const d = ops.sub(predicted, target);
    const term = ops.mean(ops.reshape(ops.mul(d, d), [-1]), 0);
    loss = loss === null ? term : ops.add(loss, term);
  }
  return { loss: loss as T };
}

/**
 * The heads' disagreement on n examples' token features [n*P, D]: the variance across heads of each pixel's predicted
 * change, averaged over the frame's P * pp pixels -> [n].
 */
export function headSpread<T>(ops: Ops<T>, heads: DisagreementHeads, features: T, P: number): T {
  const predicted = heads.apply(ops, features); //                                               K x [n*P, pp]
  const K = predicted.length;
  const mean = ops.mul(
    predicted.slice(1).reduce((s, p) => ops.add(s, p), predicted[0]),
    1 / K,
  );
  let squares: T | null = null;
  for (const p of predicted) {
    const d = ops.sub(p, mean);
    squares = squares === null ? ops.mul(d, d) : ops.add(squares, ops.mul(d, d));
  }
  const perRow = ops.reshape(ops.mul(squares as T, 1 / K), [-1, P * heads.heads[0].pp]); //   [n, P*pp]
  return ops.mean(perRow, 1);
}

/**
 * One imagined step, written once against Ops: from the context halo patches [n, C, P, J], the last frame [n, P, pp]
 * and actions [n, A] (encoder input), the dynamics' prediction made what a rollout feeds back (clip, deadzone: as
 * forecasts are; `haloIndex` int32 [P * J]) and the next window, and the heads' disagreement on the step's
 * features [n].
 */
export function imaginedStep<T>(
  ops: Ops<T>,
  dynamics: Dynamics,
  heads: DisagreementHeads,
  deadzone: number,
  context: T,
  current: T,
  actions: T,
  haloIndex: T,
): { context: T; prediction: T; spread: T } {
  const features = dynamics.features(ops, context, actions); //                                     [n*P, D]
  const predicted = dynamics.stepFromFeatures(ops, features, current); //                          [n, P, pp]
  const next = settle(ops, dynamics, deadzone, context, current, predicted, haloIndex);
  return { ...next, spread: headSpread(ops, heads, features, dynamics.shape.geometry.P) };
}

/** n rows being imagined: each step takes their actions [n * A] and gives the heads' disagreement [n]. */
export interface SpreadStepper {
  step(actions: Float32Array | Int32Array): Promise<Float32Array>;
  dispose(): void;
}

/** Starts n rows from their context halo patches [n * C * P * J] and last frames [n * pixels] (core layout). */
export type SpreadEngine = (halos: Float32Array, last: Float32Array, n: number) => SpreadStepper;

/**
 * The heads' disagreement summed over an imagined rollout of H steps, per row [n]: each row starts as `engine` is
 * given it and takes its actions `actions` (the encoder input [n * H * A], row-major by (row, step)).
 */
export async function imaginedDisagreement(
  engine: SpreadEngine,
  halos: Float32Array,
  last: Float32Array,
  n: number,
  actions: Float32Array | Int32Array,
  A: number,
  H: number,
): Promise<Float64Array> {
  const scores = new Float64Array(n);
  const stepper = engine(halos, last, n);
  try {
    for (let h = 0; h < H; h++) {
      const step = actions instanceof Int32Array ? new Int32Array(n * A) : new Float32Array(n * A);
      for (let r = 0; r < n; r++) step.set(actions.subarray((r * H + h) * A, (r * H + h + 1) * A), r * A);
      const spread = await stepper.step(step);
      for (let r = 0; r < n; r++) scores[r] += spread[r];
    }
  } finally {
    stepper.dispose();
  }
  return scores;
}

/** imaginedStep on tfjs, in one tidy per step (forecastBackend 'tfjs'). */
export function tfjsSpreadEngine(dynamics: Dynamics, heads: DisagreementHeads, deadzone: number): SpreadEngine {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  return (halos, last, n) => {
    const haloIndex = tf.tensor1d(g.haloIndex, 'int32');
    let context: tf.Tensor = tf.tensor4d(halos, [n, C, g.P, g.J]);
    let current: tf.Tensor = tf.tensor3d(last, [n, g.P, g.pp]);
    return {
      async step(actions) {
        const A = actions.length / n;
        const a = tf.tensor2d(actions, [n, A], actions instanceof Int32Array ? 'int32' : 'float32');
        const next = tf.tidy(() => {
          const s = imaginedStep<tf.Tensor>(tfjsOps, dynamics, heads, deadzone, context, current, a, haloIndex);
          return [s.context, s.prediction, s.spread];
        });
        tf.dispose([a, context, current]);
        [context, current] = next;
        const spread = next[2].dataSync() as Float32Array;
        next[2].dispose();
        return spread;
      },
      dispose: () => tf.dispose([context, current, haloIndex]),
    };
  };
}

/**
 * imaginedStep as one ONNX Runtime graph (forecastBackend 'onnx'): the fitted weights as its constants, the context
 * window and last frame carried between steps as arrays. `actionType`, `A`: the encoder input's type and width.
 */
export async function onnxSpreadEngine(
  dynamics: Dynamics,
  heads: DisagreementHeads,
  deadzone: number,
  actionType: 'float32' | 'int32',
  A: number,
): Promise<{ engine: SpreadEngine; release: () => Promise<void> }> {
  const { geometry: g, contextFrames: C } = dynamics.shape;
  const probe = await ForwardProbe.compile({
    params: [],
    inputs: [
      { name: 'context', shape: ['batch', C, g.P, g.J], dtype: 'float32' },
      { name: 'current', shape: ['batch', g.P, g.pp], dtype: 'float32' },
      { name: 'action', shape: ['batch', A], dtype: actionType },
    ],
    modules: { dynamics, heads },
    // output names differ from the inputs' (the graph's values are named once)
    outputs: (o, i) => {
      const haloIndex = o.constant(g.haloIndex, [g.P * g.J]);
      const s = imaginedStep(o, dynamics, heads, deadzone, i.context, i.current, i.action, haloIndex);
      return { nextContext: s.context, prediction: s.prediction, spread: s.spread };
    },
  });
  const engine: SpreadEngine = (halos, last, n) => {
    let context = halos,
      current = last;
    return {
      async step(actions) {
        const out = await probe.run(
          {
            context: { data: context, dims: [n, C, g.P, g.J] },
            current: { data: current, dims: [n, g.P, g.pp] },
            action: { data: actions, dims: [n, actions.length / n] },
          },
          [],
        );
        context = out.nextContext as Float32Array;
        current = out.prediction as Float32Array;
        return out.spread as Float32Array;
      },
      dispose: () => undefined,
    };
  };
  return { engine, release: () => probe.release() };
}

/**
 * `count` action sequences of `horizon` steps, each value drawn uniformly and independently from `rng`: real actions in
 * their range ([-1, 1] where the spec gives none), int actions over their vocab. [count * horizon * A], row-major by
 * (sequence, step).
 */
export function candidateActionSequences(action: TensorSpec, count: number, horizon: number, rng: Rng): Float32Array {
  const A = sizeOf(action);
  const out = new Float32Array(count * horizon * A);
  if (isCategorical(action)) for (let i = 0; i < out.length; i++) out[i] = rng.int(action.vocab as number);
  else {
    const [lo, hi] = action.range ?? [-1, 1];
    for (let i = 0; i < out.length; i++) out[i] = rng.uniform(lo, hi);
  }
  return out;
}
