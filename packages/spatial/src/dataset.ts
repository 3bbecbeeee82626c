// Training data in the layout the networks read: every valid frame of every episode in core layout and as
// halo patches (frame tables), one row per valid transition (its frames and action), and the samples the
// dynamics trains on (a context of C frames, then 1 + R targets for a rollout of R extra steps).

import { block, episodeCount, isCategorical, lengthOf, sizeOf, type Episodes, type TensorSpec } from '@worldbench/core';
import { haloOf, toCore, type PatchGeometry } from './patches';

export interface FrameTable {
  /** Frames held. */
  count: number;
  /** [count * pixels] core layout. */
  cores: Float32Array;
  /** [count * P * J] halo patches. */
  halos: Float32Array;
}

export interface TransitionTable {
  /** Valid transitions (e, t -> t + 1). */
  count: number;
  episode: Int32Array;
  step: Int32Array;
  /** Frame-table row of frame t of the transition. */
  frame: Int32Array;
  /** [count * A] the action taken, as given (null without actions). */
  actions: Float32Array | null;
}

export interface TrainingData {
  frames: FrameTable;
  transitions: TransitionTable;
  /** Frame-table row of step t of episode e: firstFrame[e] + t. */
  firstFrame: Int32Array;
  lengths: Int32Array;
}

export function buildTrainingData(g: PatchGeometry, data: Episodes, view: string): TrainingData {
  const v = data.views[view];
  if (!v)
    throw new Error(`spatial: no view "${view}" in the training episodes (have ${Object.keys(data.views).join(', ')})`);
  const E = episodeCount(data);
  const lengths = Int32Array.from({ length: E }, (_, e) => lengthOf(data, e));
  const firstFrame = new Int32Array(E);
  let frames = 0,
    transitions = 0;
  for (let e = 0; e < E; e++) {
    firstFrame[e] = frames;
    frames += lengths[e] + 1;
    transitions += lengths[e];
  }
  const cores = new Float32Array(frames * g.pixels);
  const halos = new Float32Array(frames * g.P * g.J);
  const A = data.actions ? data.actions.shape.slice(2).reduce((a, b) => a * b, 1) : 0;
  const table: TransitionTable = {
    count: transitions,
    episode: new Int32Array(transitions),
    step: new Int32Array(transitions),
    frame: new Int32Array(transitions),
    actions: data.actions ? new Float32Array(transitions * A) : null,
  };
  let i = 0;
  for (let e = 0; e < E; e++) {
    for (let t = 0; t <= lengths[e]; t++) {
      const f = firstFrame[e] + t;
      const core = toCore(g, block(v, e, t), cores.subarray(f * g.pixels, (f + 1) * g.pixels));
      haloOf(g, core, halos.subarray(f * g.P * g.J, (f + 1) * g.P * g.J));
    }
    for (let t = 0; t < lengths[e]; t++, i++) {
      table.episode[i] = e;
      table.step[i] = t;
      table.frame[i] = firstFrame[e] + t;
      if (table.actions && data.actions) table.actions.set(block(data.actions, e, t), i * A);
    }
  }
  return { frames: { count: frames, cores, halos }, transitions: table, firstFrame, lengths };
}

export interface Samples {
  count: number;
  /** [count * C] frame rows of the context, oldest first. */
  context: Int32Array;
  /** [count * (R + 1)] frame rows of the targets. */
  targets: Int32Array;
  /** [count * (R + 1)] transition rows of the actions taken before each target. */
  transitions: Int32Array;
}

/**
 * Samples with a full context of C frames and R + 1 targets inside the episode. When the budget is so small
 * that no episode fits that, the rollout is shortened, then the context is padded by repeating the first frame.
 */
export function buildSamples(
  d: TrainingData,
  C: number,
  R: number,
): { samples: Samples; rollout: number; padded: boolean } {
  const fits = (rollout: number, minStep: number) => {
    let n = 0;
    d.lengths.forEach((len) => (n += Math.max(0, len - rollout - minStep)));
    return n;
  };
  let rollout = R;
  while (rollout > 0 && fits(rollout, C - 1) === 0) rollout--;
  const padded = fits(rollout, C - 1) === 0;
  const minStep = padded ? 0 : C - 1;
  const count = fits(rollout, minStep);
  const out: Samples = {
    count,
    context: new Int32Array(count * C),
    targets: new Int32Array(count * (rollout + 1)),
    transitions: new Int32Array(count * (rollout + 1)),
  };
  // transition row of (e, t): transitions are stored episode by episode
  const firstTransition = new Int32Array(d.lengths.length);
  for (let e = 1; e < d.lengths.length; e++) firstTransition[e] = firstTransition[e - 1] + d.lengths[e - 1];
  let s = 0;
  d.lengths.forEach((len, e) => {
    for (let t = minStep; t < len - rollout; t++, s++) {
      for (let c = 0; c < C; c++) out.context[s * C + c] = d.firstFrame[e] + Math.max(0, t - C + 1 + c);
      for (let r = 0; r <= rollout; r++) {
        out.targets[s * (rollout + 1) + r] = d.firstFrame[e] + t + 1 + r;
        out.transitions[s * (rollout + 1) + r] = firstTransition[e] + t + r;
      }
    }
  });
  return { samples: out, rollout, padded };
}

/** Action encoder input of one action: real values as given; int ids element * vocab + value (clipped into range). */
export function actionIds(spec: TensorSpec, a: ArrayLike<number>, out: Float32Array | Int32Array, at: number): void {
  if (!isCategorical(spec)) {
    for (let i = 0; i < a.length; i++) out[at + i] = a[i];
    return;
  }
  const vocab = spec.vocab as number;
  for (let i = 0; i < a.length; i++) out[at + i] = i * vocab + Math.min(vocab - 1, Math.max(0, Math.round(a[i])));
}

export function actionSize(spec: TensorSpec | null): number {
  return spec ? sizeOf(spec) : 0;
}

/**
 * Per-pixel loss weights [pixels] in core layout, mean 1: 1 / s_d^2, with s_d the pixel's std over the
 * training frames floored at 10% of the mean std, exactly the scale of the bench's `mse` (docs/metrics.md).
 * Trained on plain MSE, a model leaves faint noise on pixels that are almost never lit (a corner of
 * hidden-laws' frame); the bench divides their error by a tiny std, and h = 1 skill fell to -70 (seed 0,
 * budget 1024). `share` blends: (1 - share) + share * (those weights).
 */
export function pixelWeights(frames: FrameTable, pixels: number, share: number): Float32Array {
  const w = new Float32Array(pixels).fill(1);
  if (share === 0 || frames.count === 0) return w;
  const sum = new Float64Array(pixels),
    sq = new Float64Array(pixels);
  for (let f = 0; f < frames.count; f++)
    for (let d = 0; d < pixels; d++) {
      const x = frames.cores[f * pixels + d];
      sum[d] += x;
      sq[d] += x * x;
    }
  const std = new Float64Array(pixels);
  let total = 0,
    positive = 0;
  for (let d = 0; d < pixels; d++) {
    const mean = sum[d] / frames.count;
    std[d] = Math.sqrt(Math.max(0, sq[d] / frames.count - mean * mean));
    if (std[d] > 0) (total += std[d]), positive++;
  }
  const floor = positive ? (0.1 * total) / positive : 1;
  let mean = 0;
  for (let d = 0; d < pixels; d++) mean += (w[d] = 1 / Math.max(std[d], floor) ** 2) / pixels;
  for (let d = 0; d < pixels; d++) w[d] = 1 - share + (share * w[d]) / mean;
  return w;
}
