// Batching: the training episodes as tensors (uploaded once per fit), and minibatches of rollout windows
// (s_t, a_t, ..., s_{t+k}) gathered from them, episode-major (state row b * (k + 1) + j is s_{t_b + j}), with
// the helpers that cut steps out of such stacks (of states, and of the latents the networks make of them).
import { episodeCount, lengthOf, stepsPerEpisode, type Episodes } from '@worldbench/core';
import { tf } from '@worldbench/neural';
import { encodeActions, encodeContext, encodeEpisodeStates, type StateArrays } from './inputs';
import type { Geometry, StateInput } from './model';

/** The training episodes as tensors, uploaded once per fit. */
export interface TrainingSet {
  /** Every step of every episode slot, index e * (T + 1) + t. */
  states: StateTensors;
  /** Context embedding rows per episode [E, R, S'] (int32), or null. */
  context: tf.Tensor3D | null;
  /** Actions per transition, index e * T + t: [E * T, A] (float32 real or int32 rows), or null. */
  actions: tf.Tensor2D | null;
  /** Valid transitions per episode. */
  lengths: Int32Array;
  /** The state view's kind (its windows are rolled out `rolloutSteps` or `realRolloutSteps` steps). */
  kind: 'categorical' | 'real';
  /** T: transitions per episode slot. */
  steps: number;
  /** State tokens N. */
  tokens: number;
  /**
   * Real views with the change readout: std / deltaStd per token slot [N, S], turning standardised differences into
   * probe targets; else null.
   */
  changeRatio: tf.Tensor2D | null;
  /** Training examples: (episode, start step) of every valid transition. */
  startEpisode: Int32Array;
  startStep: Int32Array;
}

/** StateArrays as tensors. */
export interface StateTensors {
  ids?: tf.Tensor3D; //      [M, N, S] int32
  x?: tf.Tensor3D; //        [M, N, lags * S]
  targets?: tf.Tensor3D; //  [M, N, S] (real probe targets)
  tokenMask: tf.Tensor2D; // [M, N]
  weights: tf.Tensor3D; //   [M, N, S]
  labels?: tf.Tensor3D; //   [M, N, S] int32 (categorical)
}

export function stateTensors(a: StateArrays, N: number, S: number): StateTensors {
  const M = a.count;
  return {
    ids: a.ids ? tf.tensor3d(a.ids, [M, N, S], 'int32') : undefined,
    x: a.x ? tf.tensor3d(a.x, [M, N, a.x.length / (M * N)]) : undefined,
    targets: a.targets ? tf.tensor3d(a.targets, [M, N, S]) : undefined,
    tokenMask: tf.tensor2d(a.tokenMask, [M, N]),
    weights: tf.tensor3d(a.weights, [M, N, S]),
    labels: a.labels ? tf.tensor3d(a.labels, [M, N, S], 'int32') : undefined,
  };
}

export function disposeStateTensors(s: StateTensors): void {
  tf.dispose([s.ids, s.x, s.targets, s.tokenMask, s.weights, s.labels].filter((t) => t !== undefined) as tf.Tensor[]);
}

/** Rows `idx` of every state tensor. */
export function pickStates(s: StateTensors, idx: Int32Array): StateTensors {
  return {
    ids: s.ids ? rowsOf<tf.Tensor3D>(s.ids, idx) : undefined,
    x: s.x ? rowsOf<tf.Tensor3D>(s.x, idx) : undefined,
    targets: s.targets ? rowsOf<tf.Tensor3D>(s.targets, idx) : undefined,
    tokenMask: rowsOf<tf.Tensor2D>(s.tokenMask, idx),
    weights: rowsOf<tf.Tensor3D>(s.weights, idx),
    labels: s.labels ? rowsOf<tf.Tensor3D>(s.labels, idx) : undefined,
  };
}

export function inputOf(s: StateTensors): StateInput<tf.Tensor> {
  return { ids: s.ids, x: s.x, tokenMask: s.tokenMask };
}

export function buildTrainingSet(
  geometry: Geometry,
  data: Episodes,
  view: string,
  changeReadout: boolean,
): TrainingSet {
  const E = episodeCount(data);
  const T = stepsPerEpisode(data);
  const lengths = Int32Array.from({ length: E }, (_, e) => lengthOf(data, e));
  const starts: [number, number][] = [];
  // a window starts where the encoder's history is whole (lags - 1 steps in), as at forecast time
  for (let e = 0; e < E; e++)
    for (let t = Math.min(geometry.state.lags - 1, lengths[e] - 1); t < lengths[e]; t++) starts.push([e, t]);
  const arrays = encodeEpisodeStates(geometry.state, data, view);
  const ctx = encodeContext(geometry.context, data.context, E);
  let actions: tf.Tensor2D | null = null;
  if (geometry.action && data.actions) {
    const A = geometry.action.size;
    const acts = data.actions;
    const enc = encodeActions(geometry.action, E * T, (i) =>
      acts.data.subarray(acts.offset + i * A, acts.offset + (i + 1) * A),
    );
    actions = enc.x ? tf.tensor2d(enc.x, [E * T, A]) : tf.tensor2d(enc.ids as Int32Array, [E * T, A], 'int32');
  }
  const layout = geometry.state;
  let changeRatio: tf.Tensor2D | null = null;
  if (layout.kind === 'real' && changeReadout) {
    const ratio = Float32Array.from(layout.elementOf, (i) =>
      i >= 0 ? (layout.std as number[])[i] / (layout.deltaStd as number[])[i] : 0,
    );
    changeRatio = tf.tensor2d(ratio, [layout.tokens, layout.slots]);
  }
  return {
    changeRatio,
    states: stateTensors(arrays, geometry.state.tokens, geometry.state.slots),
    context: ctx ? tf.tensor3d(ctx.ids, [E, geometry.context.tokens, ctx.slots], 'int32') : null,
    actions,
    kind: layout.kind,
    lengths,
    steps: T,
    tokens: geometry.state.tokens,
    startEpisode: Int32Array.from(starts, (s) => s[0]),
    startStep: Int32Array.from(starts, (s) => s[1]),
  };
}

export function disposeTrainingSet(set: TrainingSet): void {
  disposeStateTensors(set.states);
  tf.dispose([set.context, set.actions, set.changeRatio].filter((t) => t !== null) as tf.Tensor[]);
}

/** A minibatch of rollout windows of k steps, episode-major: state row b * (k+1) + j is s_{t_b + j}. */
export interface WindowBatch {
  B: number;
  k: number;
  states: StateTensors; //            [B (k+1), ...]
  /** 1 while the window is inside its episode: [B, k+1]. */
  inside: tf.Tensor2D;
  context: tf.Tensor3D | null; //     [B, R, S']
  actions: tf.Tensor2D[] | null; //   k x [B, A]
  /** The set's change ratio (not owned by the batch). */
  changeRatio: tf.Tensor2D | null;
}

/** Gathers windows starting at examples `examples` (indices into the set's starts). Call inside tf.tidy. */
export function windowBatch(set: TrainingSet, examples: Int32Array, k: number): WindowBatch {
  const B = examples.length;
  const T = set.steps;
  const stateIdx = new Int32Array((k + 1) * B);
  const inside = new Float32Array((k + 1) * B);
  const actionIdx = Array.from({ length: k }, () => new Int32Array(B));
  const episodes = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const e = set.startEpisode[examples[b]];
    const t = set.startStep[examples[b]];
    const len = set.lengths[e];
    episodes[b] = e;
    for (let j = 0; j <= k; j++) {
      stateIdx[b * (k + 1) + j] = e * (T + 1) + Math.min(t + j, len);
      inside[b * (k + 1) + j] = t + j <= len ? 1 : 0;
      if (j < k) actionIdx[j][b] = e * T + Math.min(t + j, len - 1);
    }
  }
  return {
    B,
    k,
    states: pickStates(set.states, stateIdx),
    inside: tf.tensor2d(inside, [B, k + 1]),
    context: set.context ? rowsOf<tf.Tensor3D>(set.context, episodes) : null,
    actions: set.actions ? actionIdx.map((idx) => rowsOf<tf.Tensor2D>(set.actions as tf.Tensor2D, idx)) : null,
    changeRatio: set.changeRatio,
  };
}

/** Steps [from, from + count) of an episode-major stacked tensor [B * steps, ...] -> [B * count, ...]. */
export function stepsOf<T extends tf.Tensor>(t: T, from: number, count: number, steps: number): T {
  if (steps === 1) return t;
  const rest = t.shape.slice(1);
  const B = t.shape[0] / steps;
  const cut = tf.slice(tf.reshape(t, [B, steps, ...rest]), [0, from, ...rest.map(() => 0)], [B, count, ...rest]);
  return tf.reshape(cut, [B * count, ...rest]) as T;
}

/** [k x [B, N, D]] -> [B * k, N, D], episode-major like the stacked states. */
export function stackSteps(zs: tf.Tensor3D[]): tf.Tensor3D {
  const [B, N, D] = zs[0].shape;
  return zs.length === 1 ? zs[0] : (tf.reshape(tf.stack(zs, 1), [B * zs.length, N, D]) as tf.Tensor3D);
}

/** Every state tensor's rows repeated `times` times in place. */
export function repeatStatesEach(s: StateTensors, times: number): StateTensors {
  const at = <T extends tf.Tensor>(t: T) => repeatEach(t, times);
  return {
    ids: s.ids && at(s.ids),
    x: s.x && at(s.x),
    targets: s.targets && at(s.targets),
    tokenMask: at(s.tokenMask),
    weights: at(s.weights),
    labels: s.labels && at(s.labels),
  };
}

/** Steps [from, from + count) of every state tensor. */
export function statesOf(s: StateTensors, from: number, count: number, steps: number): StateTensors {
  const at = <T extends tf.Tensor>(t: T) => stepsOf(t, from, count, steps);
  return {
    ids: s.ids && at(s.ids),
    x: s.x && at(s.x),
    targets: s.targets && at(s.targets),
    tokenMask: at(s.tokenMask),
    weights: at(s.weights),
    labels: s.labels && at(s.labels),
  };
}

/** [B, ...] -> [B * times, ...], each row repeated `times` times in place (episode-major, like stacked states). */
export function repeatEach<T extends tf.Tensor>(t: T, times: number): T {
  if (times === 1) return t;
  const rest = t.shape.slice(1);
  const B = t.shape[0];
  return tf.reshape(tf.tile(tf.reshape(t, [B, 1, ...rest]), [1, times, ...rest.map(() => 1)]), [
    B * times,
    ...rest,
  ]) as T;
}

/** Rows of a data tensor (int32 or float32) at `idx`: a minibatch, no gradient (gatherND: fast on wasm). */
export function rowsOf<T extends tf.Tensor>(data: tf.Tensor, idx: Int32Array): T {
  return tf.tidy(() => tf.gatherND(data, tf.tensor2d(idx, [idx.length, 1], 'int32'))) as T;
}
