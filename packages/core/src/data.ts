// Episodes: batched, contiguous, row-major float32 arrays (ndarray), one per view.
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import { sizeOf, type ScenarioSpec } from './spec';

/** A contiguous row-major float32 ndarray. */
export type Tensor = NdArray<Float32Array>;

/** E episodes of T transitions. */
export interface Episodes {
  /** [E, T+1, ...viewShape] per view. */
  views: Record<string, Tensor>;
  /** [E, T, ...actionShape]; null when the world has no actions. */
  actions: Tensor | null;
  /** [E, ...contextShape] per context tensor (constant within an episode). */
  context: Record<string, Tensor>;
  /**
   * Valid transitions per episode, [E]. Absent means all T are valid. The training set's last episode is
   * cut to fit the budget exactly; steps past its length hold NaN so that a model ignoring this field fails
   * loudly rather than learning from garbage. Use `forEachTransition` / `transitionArrays` to respect it.
   */
  lengths?: Int32Array;
}

/** A zero-filled contiguous tensor (or one wrapping `data`, whose length must match). */
export function tensor(shape: readonly number[], data?: Float32Array): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const buf = data ?? new Float32Array(size);
  if (buf.length !== size)
    throw new RangeError(`tensor: data has ${buf.length} values, shape [${shape}] needs ${size}`);
  return ndarray(buf, shape.slice());
}

/** Scalars per index of the first `lead` dimensions (e.g. lead 2 on [E, T, 4, 4] gives 16). */
export function innerSize(t: Tensor, lead: number): number {
  return t.shape.slice(lead).reduce((a, b) => a * b, 1);
}

/** The contiguous block t[i, j, ...] (an index into the first dimensions), as a subarray view. */
export function block(t: Tensor, ...index: number[]): Float32Array {
  let offset = t.offset;
  for (let k = 0; k < index.length; k++) offset += index[k] * t.stride[k];
  const size = innerSize(t, index.length);
  return t.data.subarray(offset, offset + size);
}

export function episodeCount(ep: Episodes): number {
  const first = Object.values(ep.views)[0];
  return first ? first.shape[0] : 0;
}

/** T: transitions per episode slot (steps - 1). */
export function stepsPerEpisode(ep: Episodes): number {
  const first = Object.values(ep.views)[0];
  return first ? first.shape[1] - 1 : 0;
}

/** Valid transitions of episode e. */
export function lengthOf(ep: Episodes, e: number): number {
  return ep.lengths ? ep.lengths[e] : stepsPerEpisode(ep);
}

export function transitionCount(ep: Episodes): number {
  let n = 0;
  for (let e = 0; e < episodeCount(ep); e++) n += lengthOf(ep, e);
  return n;
}

/** Calls fn(e, t) for every valid transition (step t -> t+1 of episode e). */
export function forEachTransition(ep: Episodes, fn: (e: number, t: number) => void): void {
  for (let e = 0; e < episodeCount(ep); e++) for (let t = 0; t < lengthOf(ep, e); t++) fn(e, t);
}

/** Every valid transition of one view as flat matrices: x [N, D] -> y [N, D], with actions a [N, A]. */
export function transitionArrays(
  ep: Episodes,
  view: string,
): { x: Float32Array; y: Float32Array; a: Float32Array | null; n: number; dim: number; actionDim: number } {
  const v = ep.views[view];
  if (!v)
    throw new Error(`transitionArrays: no view "${view}" in these episodes (have ${Object.keys(ep.views).join(', ')})`);
  const dim = innerSize(v, 2);
  const actionDim = ep.actions ? innerSize(ep.actions, 2) : 0;
  const n = transitionCount(ep);
  const x = new Float32Array(n * dim),
    y = new Float32Array(n * dim);
  const a = ep.actions ? new Float32Array(n * actionDim) : null;
  let i = 0;
  forEachTransition(ep, (e, t) => {
    x.set(block(v, e, t), i * dim);
    y.set(block(v, e, t + 1), i * dim);
    if (a && ep.actions) a.set(block(ep.actions, e, t), i * actionDim);
    i++;
  });
  return { x, y, a, n, dim, actionDim };
}

/** Episodes of a spec's geometry, zero-filled: E episodes of T transitions. */
export function allocEpisodes(
  spec: ScenarioSpec,
  count: number,
  steps = spec.episodeLength,
  views = Object.keys(spec.views),
): Episodes {
  const out: Episodes = { views: {}, actions: null, context: {} };
  for (const name of views) out.views[name] = tensor([count, steps + 1, ...spec.views[name].shape]);
  if (spec.action) out.actions = tensor([count, steps, ...spec.action.shape]);
  for (const [name, c] of Object.entries(spec.context ?? {})) out.context[name] = tensor([count, ...c.shape]);
  return out;
}

/** Copies episodes `indices` (in that order) into new contiguous arrays. */
export function selectEpisodes(ep: Episodes, indices: readonly number[]): Episodes {
  const pick = (t: Tensor): Tensor => {
    const out = tensor([indices.length, ...t.shape.slice(1)]);
    indices.forEach((src, dst) => out.data.set(block(t, src), dst * innerSize(t, 1)));
    return out;
  };
  return {
    views: Object.fromEntries(Object.entries(ep.views).map(([k, t]) => [k, pick(t)])),
    actions: ep.actions ? pick(ep.actions) : null,
    context: Object.fromEntries(Object.entries(ep.context).map(([k, t]) => [k, pick(t)])),
    lengths: ep.lengths ? Int32Array.from(indices, (i) => ep.lengths![i]) : undefined,
  };
}

/** Joins episode batches of the same geometry (e.g. the rounds of the on-policy protocol). */
export function concatEpisodes(parts: readonly Episodes[]): Episodes {
  if (parts.length === 0) throw new Error('concatEpisodes: nothing to join');
  const join = (ts: Tensor[]): Tensor => {
    const inner = ts[0].shape.slice(1);
    const total = ts.reduce((s, t) => s + t.shape[0], 0);
    const out = tensor([total, ...inner]);
    let at = 0;
    for (const t of ts) {
      if (t.shape.slice(1).join() !== inner.join())
        throw new Error(`concatEpisodes: shapes [${t.shape}] and [${ts[0].shape}] differ`);
      out.data.set(block(t), at);
      at += t.data.length;
    }
    return out;
  };
  const first = parts[0];
  const anyLengths = parts.some((p) => p.lengths);
  return {
    views: Object.fromEntries(Object.keys(first.views).map((k) => [k, join(parts.map((p) => p.views[k]))])),
    actions: first.actions ? join(parts.map((p) => p.actions as Tensor)) : null,
    context: Object.fromEntries(Object.keys(first.context).map((k) => [k, join(parts.map((p) => p.context[k]))])),
    lengths: anyLengths
      ? Int32Array.from(parts.flatMap((p) => Array.from({ length: episodeCount(p) }, (_, e) => lengthOf(p, e))))
      : undefined,
  };
}

/** Steps [from, to) of every episode (views get to - from steps, actions the to - from - 1 between them). */
export function sliceSteps(ep: Episodes, from: number, to: number, views = Object.keys(ep.views)): Episodes {
  const E = episodeCount(ep);
  const cut = (t: Tensor, lo: number, hi: number): Tensor => {
    const out = tensor([E, hi - lo, ...t.shape.slice(2)]);
    const inner = innerSize(t, 2);
    for (let e = 0; e < E; e++)
      out.data.set(
        t.data.subarray(t.offset + e * t.stride[0] + lo * inner, t.offset + e * t.stride[0] + hi * inner),
        e * (hi - lo) * inner,
      );
    return out;
  };
  return {
    views: Object.fromEntries(views.map((k) => [k, cut(ep.views[k], from, to)])),
    actions: ep.actions ? cut(ep.actions, from, to - 1) : null,
    context: ep.context,
  };
}

/** Elements per step of a view in these episodes. */
export function viewSize(spec: ScenarioSpec, view: string): number {
  return sizeOf(spec.views[view]);
}

/**
 * The multi-index of flat position `flat` in a row-major array of `shape`: 16381 in [8, 16, 8, 16] -> [7, 15, 7, 13].
 */
export function unravelIndex(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  let rest = flat;
  for (let k = shape.length - 1; k >= 0; k--) {
    index[k] = rest % shape[k];
    rest = Math.floor(rest / shape[k]);
  }
  return index;
}

/**
 * Where the first value that is not a finite number sits in a dense row-major array of `shape`, as a
 * sentence a model author can act on: "mean[3, 15, 2, 1] = NaN (11 values are not finite; mean is
 * [B, H, ...viewShape] = [8, 16, 4, 4])". Null when every value is finite. `accept` may widen what passes.
 */
export function describeNonFinite(
  name: string,
  data: ArrayLike<number>,
  shape: readonly number[],
  layout: string,
  accept: (x: number) => boolean = Number.isFinite,
): string | null {
  let first = -1,
    count = 0;
  for (let i = 0; i < data.length; i++)
    if (!accept(data[i])) {
      if (first < 0) first = i;
      count++;
    }
  if (first < 0) return null;
  const others = count > 1 ? `${count} values are bad; ` : '';
  return (
    `${name}[${unravelIndex(first, shape).join(', ')}] = ` +
    `${data[first]} (${others}${name} is ${layout} = [${shape.join(', ')}])`
  );
}
