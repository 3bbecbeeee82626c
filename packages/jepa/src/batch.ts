// Batching: the training episodes as tensors (uploaded once per fit) and as arrays, and minibatches of rollout
// windows (s_t, a_t, ..., s_{t+k}) gathered from them, episode-major (state row b * (k + 1) + j is s_{t_b + j}):
// as tensors (windowBatch), or as the named arrays of a training step (windowArrays) that either engine reads
// (tfjs as tensors, ONNX Runtime as its graph's inputs). The helpers that cut steps out of such stacks (of states,
// and of the latents the networks make of them) are written against Ops (`...At`), with tfjs forms beside them.
import { episodeCount, lengthOf, stepsPerEpisode, type Episodes } from '@worldbench/core';
import { type Ops, tf, tfjsOps } from '@worldbench/neural';
import { encodeActions, encodeContext, encodeEpisodeStates, type StateArrays } from './inputs';
import type { Geometry, StateInput } from './model';

/** The training episodes as tensors, uploaded once per fit, and as the arrays they were made of. */
export interface TrainingSet {
  /** Every step of every episode slot, index e * (T + 1) + t. */
  states: StateTensors;
  /** The same data as arrays, which windowArrays cuts a step's inputs from. */
  arrays: {
    states: StateArrays;
    /** [E, R, S'] int32, or null. */
    context: Int32Array | null;
    /** [E * T, A]: float32 real actions, or int32 rows; or null. */
    actions: Float32Array | Int32Array | null;
    /** [N, S], or null. */
    changeRatio: Float32Array | null;
  };
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
  /** A categorical grid read cell by cell (the layout's grid): its schedule is the config's cell* keys. */
  cells: boolean;
  /**
   * Real views with the change readout: std / deltaStd per token slot [N, S], turning standardised differences into
   * probe targets; else null.
   */
  changeRatio: tf.Tensor2D | null;
  /** Training examples: (episode, start step) of every valid transition. */
  startEpisode: Int32Array;
  startStep: Int32Array;
}

/** StateArrays as a runtime's values (tensors, or a graph's values). */
export interface StateValues<T> {
  ids?: T; //       [M, N, S] int32
  x?: T; //         [M, N, lags * S]
  targets?: T; //   [M, N, S] (real probe targets)
  tokenMask: T; //  [M, N]
  weights: T; //    [M, N, S]
  labels?: T; //    [M, N, S] int32 (categorical)
}

/** StateArrays as tensors. */
export interface StateTensors extends StateValues<tf.Tensor> {
  ids?: tf.Tensor3D;
  x?: tf.Tensor3D;
  targets?: tf.Tensor3D;
  tokenMask: tf.Tensor2D;
  weights: tf.Tensor3D;
  labels?: tf.Tensor3D;
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

/** The encoder's input of states (tensors, or a runtime's values). */
export function inputOf(s: StateTensors): StateInput<tf.Tensor>;
export function inputOf<T>(s: StateValues<T>): StateInput<T>;
export function inputOf<T>(s: StateValues<T>): StateInput<T> {
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
  let actionArray: Float32Array | Int32Array | null = null;
  if (geometry.action && data.actions) {
    const A = geometry.action.size;
    const acts = data.actions;
    const enc = encodeActions(geometry.action, E * T, (i) =>
      acts.data.subarray(acts.offset + i * A, acts.offset + (i + 1) * A),
    );
    actionArray = enc.x ?? (enc.ids as Int32Array);
    actions = enc.x ? tf.tensor2d(enc.x, [E * T, A]) : tf.tensor2d(enc.ids as Int32Array, [E * T, A], 'int32');
  }
  const layout = geometry.state;
  let changeRatio: tf.Tensor2D | null = null;
  let ratio: Float32Array | null = null;
  if (layout.kind === 'real' && changeReadout) {
    ratio = Float32Array.from(layout.elementOf, (i) =>
      i >= 0 ? (layout.std as number[])[i] / (layout.deltaStd as number[])[i] : 0,
    );
    changeRatio = tf.tensor2d(ratio, [layout.tokens, layout.slots]);
  }
  return {
    arrays: { states: arrays, context: ctx?.ids ?? null, actions: actionArray, changeRatio: ratio },
    changeRatio,
    states: stateTensors(arrays, geometry.state.tokens, geometry.state.slots),
    context: ctx ? tf.tensor3d(ctx.ids, [E, geometry.context.tokens, ctx.slots], 'int32') : null,
    actions,
    kind: layout.kind,
    lengths,
    steps: T,
    tokens: geometry.state.tokens,
    cells: geometry.state.grid !== undefined,
    startEpisode: Int32Array.from(starts, (s) => s[0]),
    startStep: Int32Array.from(starts, (s) => s[1]),
  };
}

export function disposeTrainingSet(set: TrainingSet): void {
  disposeStateTensors(set.states);
  tf.dispose([set.context, set.actions, set.changeRatio].filter((t) => t !== null) as tf.Tensor[]);
}

/** A minibatch of rollout windows of k steps, episode-major: state row b * (k+1) + j is s_{t_b + j}. */
export interface StepBatch<T> {
  B: number;
  k: number;
  states: StateValues<T>; //         [B (k+1), ...]
  /** 1 while the window is inside its episode: [B, k+1]. */
  inside: T;
  context: T | null; //              [B, R, S']
  actions: T[] | null; //            k x [B, A]
  /** The set's change ratio [N, S] (not owned by the batch). */
  changeRatio: T | null;
}

/** A StepBatch of tensors. */
export interface WindowBatch extends StepBatch<tf.Tensor> {
  states: StateTensors;
  inside: tf.Tensor2D;
  context: tf.Tensor3D | null;
  actions: tf.Tensor2D[] | null;
  changeRatio: tf.Tensor2D | null;
}

/** Which rows a minibatch of windows reads: its states, whether each is inside its episode, actions and episodes. */
interface WindowRows {
  /** [B (k+1)] rows of the set's states. */
  stateIdx: Int32Array;
  /** [B, k+1] 1 while inside the episode. */
  inside: Float32Array;
  /** k x [B] rows of the set's actions. */
  actionIdx: Int32Array[];
  /** [B] the episode of each window (its context row). */
  episodes: Int32Array;
}

function windowRows(set: TrainingSet, examples: Int32Array, k: number): WindowRows {
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
  return { stateIdx, inside, actionIdx, episodes };
}

/** Gathers windows starting at examples `examples` (indices into the set's starts) as tensors. Call inside tf.tidy. */
export function windowBatch(set: TrainingSet, examples: Int32Array, k: number): WindowBatch {
  const { stateIdx, inside, actionIdx, episodes } = windowRows(set, examples, k);
  return {
    B: examples.length,
    k,
    states: pickStates(set.states, stateIdx),
    inside: tf.tensor2d(inside, [examples.length, k + 1]),
    context: set.context ? rowsOf<tf.Tensor3D>(set.context, episodes) : null,
    actions: set.actions ? actionIdx.map((idx) => rowsOf<tf.Tensor2D>(set.actions as tf.Tensor2D, idx)) : null,
    changeRatio: set.changeRatio,
  };
}

/** A training step's inputs by name: each array with its dimensions (what the ONNX Runtime engine feeds). */
export type WindowArrays = Record<string, { data: Float32Array | Int32Array; dims: number[] }>;

/**
 * The windows starting at `examples` as a step's named arrays: the states' fields (ids, x, targets, tokenMask,
 * weights, labels), inside, context, action0..action{k-1} and changeRatio, each present when the set has it.
 * `stepBatchOf` reads them back into a StepBatch of either runtime's values.
 */
export function windowArrays(set: TrainingSet, examples: Int32Array, k: number): WindowArrays {
  const { stateIdx, inside, actionIdx, episodes } = windowRows(set, examples, k);
  const B = examples.length;
  const N = set.tokens;
  const out: WindowArrays = {};
  const take = (name: string, table: Float32Array | Int32Array | null | undefined, rows: Int32Array, per: number[]) => {
    if (!table) return;
    const width = per.reduce((a, b) => a * b, 1);
    const data =
      table instanceof Int32Array ? new Int32Array(rows.length * width) : new Float32Array(rows.length * width);
    rows.forEach((r, i) => data.set(table.subarray(r * width, (r + 1) * width), i * width));
    out[name] = { data, dims: [rows.length, ...per] };
  };
  const a = set.arrays.states;
  const S = a.weights.length / (a.count * N);
  take('ids', a.ids, stateIdx, [N, S]);
  take('x', a.x, stateIdx, [N, (a.x?.length ?? 0) / (a.count * N)]);
  take('targets', a.targets, stateIdx, [N, S]);
  take('tokenMask', a.tokenMask, stateIdx, [N]);
  take('weights', a.weights, stateIdx, [N, S]);
  take('labels', a.labels, stateIdx, [N, S]);
  out.inside = { data: inside, dims: [B, k + 1] };
  if (set.context) take('context', set.arrays.context, episodes, set.context.shape.slice(1));
  if (set.actions)
    actionIdx.forEach((idx, j) => take(`action${j}`, set.arrays.actions, idx, [set.actions?.shape[1] as number]));
  if (set.arrays.changeRatio) out.changeRatio = { data: set.arrays.changeRatio, dims: [N, S] };
  return out;
}

/** The named values of a step's inputs (windowArrays' names) as a StepBatch of B windows of k steps. */
export function stepBatchOf<T>(v: Record<string, T>, B: number, k: number): StepBatch<T> {
  return {
    B,
    k,
    states: { ids: v.ids, x: v.x, targets: v.targets, tokenMask: v.tokenMask, weights: v.weights, labels: v.labels },
    inside: v.inside,
    context: v.context ?? null,
    actions: v.action0 !== undefined ? Array.from({ length: k }, (_, j) => v[`action${j}`]) : null,
    changeRatio: v.changeRatio ?? null,
  };
}

/** A step's arrays as tensors (int32 where the array is). Call inside tf.tidy. */
export function tensorsOf(arrays: WindowArrays): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(arrays).map(([name, { data, dims }]) => [
      name,
      tf.tensor(data, dims, data instanceof Int32Array ? 'int32' : 'float32'),
    ]),
  );
}

/**
 * Steps [from, from + count) of an episode-major stack x [B * steps, ...rest] -> [B * count, ...rest] (static
 * shapes: a training step's batch is full).
 */
export function stepsAt<T>(ops: Ops<T>, x: T, from: number, count: number, steps: number): T {
  if (steps === 1) return x;
  const [rows, ...rest] = ops.shape(x) as number[];
  const B = rows / steps;
  return ops.reshape(ops.slice(ops.reshape(x, [B, steps, ...rest]), 1, from, from + count), [B * count, ...rest]);
}

/** [k x [B, ...rest]] -> [B * k, ...rest], episode-major like the stacked states. */
export function stackAt<T>(ops: Ops<T>, xs: T[]): T {
  if (xs.length === 1) return xs[0];
  const [B, ...rest] = ops.shape(xs[0]) as number[];
  const stacked = ops.concat(
    xs.map((x) => ops.reshape(x, [B, 1, ...rest])),
    1,
  ); //                                                                                   [B, k, ...rest]
  return ops.reshape(stacked, [B * xs.length, ...rest]);
}

/** [B, ...rest] -> [B * times, ...rest], each row repeated `times` times in place (episode-major). */
export function repeatAt<T>(ops: Ops<T>, x: T, times: number): T {
  return times === 1 ? x : stackAt(ops, new Array<T>(times).fill(x));
}

/** Every state value's rows repeated `times` times in place. */
export function repeatStatesAt<T>(ops: Ops<T>, s: StateValues<T>, times: number): StateValues<T> {
  return mapStates(s, (x) => repeatAt(ops, x, times));
}

/** Steps [from, from + count) of every state value. */
export function statesAt<T>(
  ops: Ops<T>,
  s: StateValues<T>,
  from: number,
  count: number,
  steps: number,
): StateValues<T> {
  return mapStates(s, (x) => stepsAt(ops, x, from, count, steps));
}

function mapStates<T>(s: StateValues<T>, f: (x: T) => T): StateValues<T> {
  return {
    ids: s.ids && f(s.ids),
    x: s.x && f(s.x),
    targets: s.targets && f(s.targets),
    tokenMask: f(s.tokenMask),
    weights: f(s.weights),
    labels: s.labels && f(s.labels),
  };
}

/** stepsAt on tfjs. */
export function stepsOf<T extends tf.Tensor>(t: T, from: number, count: number, steps: number): T {
  return stepsAt(tfjsOps, t, from, count, steps) as T;
}

/** statesAt on tfjs. */
export function statesOf(s: StateTensors, from: number, count: number, steps: number): StateTensors {
  return statesAt(tfjsOps, s, from, count, steps) as StateTensors;
}

/** Rows of a data tensor (int32 or float32) at `idx`: a minibatch, no gradient (gatherND: fast on wasm). */
export function rowsOf<T extends tf.Tensor>(data: tf.Tensor, idx: Int32Array): T {
  return tf.tidy(() => tf.gatherND(data, tf.tensor2d(idx, [idx.length, 1], 'int32'))) as T;
}

/**
 * The categorical action rows (embedding row ids) of the set's valid transitions: what its training shows. Null
 * when the actions are real or absent.
 */
export function actionRowsSeen(set: TrainingSet): Set<number> | null {
  const ids = set.arrays.actions;
  if (!(ids instanceof Int32Array) || set.actions === null) return null;
  const A = set.actions.shape[1];
  const seen = new Set<number>();
  set.lengths.forEach((length, e) => {
    for (let t = 0; t < length; t++) for (let a = 0; a < A; a++) seen.add(ids[(e * set.steps + t) * A + a]);
  });
  return seen;
}
