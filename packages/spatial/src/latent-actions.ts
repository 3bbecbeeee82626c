// What the latent actions mean: their codebook usage, their normalised mutual information with the true
// actions, and the map from true actions to latent codes that action-free training needs for forecasting
// (fitted on a few labelled transitions).

import { isCategorical, type TensorSpec } from '@worldbench/core';

/**
 * A class per true action, for the mutual information: int actions by their values; real actions as
 * "zero" (class 0, every |a_i| < 1e-6) or by their dominant signed component (1 + 2 i, + 1 when negative).
 */
export function actionClasses(spec: TensorSpec, actions: Float32Array, count: number): Int32Array {
  const A = actions.length / Math.max(count, 1);
  const out = new Int32Array(count);
  if (isCategorical(spec)) {
    const vocab = spec.vocab as number;
    for (let n = 0; n < count; n++) {
      let id = 0;
      for (let i = 0; i < A; i++) id = id * vocab + Math.min(vocab - 1, Math.max(0, Math.round(actions[n * A + i])));
      out[n] = id;
    }
    return out;
  }
  for (let n = 0; n < count; n++) {
    let best = -1,
      size = 1e-6;
    for (let i = 0; i < A; i++)
      if (Math.abs(actions[n * A + i]) >= size) (size = Math.abs(actions[n * A + i])), (best = i);
    out[n] = best < 0 ? 0 : 1 + 2 * best + (actions[n * A + best] < 0 ? 1 : 0);
  }
  return out;
}

function entropy(counts: Iterable<number>, total: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / total) * Math.log(c / total);
  return h;
}

/**
 * Normalised mutual information 2 I(Z; A) / (H(Z) + H(A)) (the arithmetic normalisation); null when both are constant.
 */
export function normalisedMutualInformation(z: Int32Array, a: Int32Array): number | null {
  const n = z.length;
  if (n === 0) return null;
  const zc = new Map<number, number>(),
    ac = new Map<number, number>(),
    joint = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    zc.set(z[i], (zc.get(z[i]) ?? 0) + 1);
    ac.set(a[i], (ac.get(a[i]) ?? 0) + 1);
    const key = `${z[i]},${a[i]}`;
    joint.set(key, (joint.get(key) ?? 0) + 1);
  }
  const hz = entropy(zc.values(), n),
    ha = entropy(ac.values(), n),
    hj = entropy(joint.values(), n);
  if (hz + ha === 0) return null;
  return (2 * (hz + ha - hj)) / (hz + ha);
}

export interface CodebookUsage {
  /** Transitions per code. */
  counts: number[];
  /** Codes used by at least 1% of the transitions. */
  used: number;
  /** exp(entropy of the code distribution): the effective number of codes. */
  perplexity: number;
}

export function codebookUsage(codes: Int32Array, size: number): CodebookUsage {
  const counts = new Array<number>(size).fill(0);
  for (const c of codes) counts[c]++;
  const n = Math.max(1, codes.length);
  return { counts, used: counts.filter((c) => c >= 0.01 * n).length, perplexity: Math.exp(entropy(counts, n)) };
}

/** The map from true actions to latent codes, fitted on labelled transitions. */
export type LatentMap =
  | { kind: 'int'; vocab: number; size: number; codeOfClass: Record<string, number>; fallback: number }
  | { kind: 'real'; size: number; actions: number[]; codes: number[] };

/**
 * Which transitions are labelled: the first ones in data order; for int actions at most
 * ceil(labelled / classes seen) of each class, so that every action value gets a few.
 */
export function pickLabelled(spec: TensorSpec, classes: Int32Array, labelled: number): Int32Array {
  if (!isCategorical(spec)) return Int32Array.from({ length: Math.min(labelled, classes.length) }, (_, i) => i);
  const seen = new Set(classes).size;
  const perClass = Math.max(1, Math.ceil(labelled / Math.max(1, seen)));
  const taken = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < classes.length && out.length < labelled; i++) {
    const k = taken.get(classes[i]) ?? 0;
    if (k >= perClass) continue;
    taken.set(classes[i], k + 1);
    out.push(i);
  }
  return Int32Array.from(out);
}

/** Majority code per int action class (ties: the smaller code); classes never labelled get the overall majority. */
export function fitLatentMap(spec: TensorSpec, actions: Float32Array, codes: Int32Array, rows: Int32Array): LatentMap {
  const A = spec.shape.reduce((a, b) => a * b, 1);
  if (!isCategorical(spec)) {
    const picked: number[] = [];
    rows.forEach((r) => picked.push(...actions.subarray(r * A, (r + 1) * A)));
    return { kind: 'real', size: A, actions: picked, codes: Array.from(rows, (r) => codes[r]) };
  }
  const classes = actionClasses(spec, actions, codes.length);
  const votes = new Map<number, Map<number, number>>();
  const all = new Map<number, number>();
  rows.forEach((r) => {
    const k = classes[r];
    if (!votes.has(k)) votes.set(k, new Map());
    const v = votes.get(k)!;
    v.set(codes[r], (v.get(codes[r]) ?? 0) + 1);
    all.set(codes[r], (all.get(codes[r]) ?? 0) + 1);
  });
  const majority = (m: Map<number, number>) => [...m.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 0;
  const codeOfClass: Record<string, number> = {};
  for (const [k, m] of votes) codeOfClass[String(k)] = majority(m);
  return { kind: 'int', vocab: spec.vocab as number, size: A, codeOfClass, fallback: majority(all) };
}

/** The latent code for one true action. */
export function latentCodeOf(map: LatentMap, spec: TensorSpec, action: Float32Array): number {
  if (map.kind === 'int') {
    const k = actionClasses(spec, action, 1)[0];
    return map.codeOfClass[String(k)] ?? map.fallback;
  }
  let best = 0,
    bestDistance = Infinity;
  for (let i = 0; i < map.codes.length; i++) {
    let d = 0;
    for (let j = 0; j < map.size; j++) d += (map.actions[i * map.size + j] - action[j]) ** 2;
    if (d < bestDistance) (bestDistance = d), (best = i);
  }
  return map.codes[best] ?? 0;
}
