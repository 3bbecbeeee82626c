// The data every hypothesis is scored on: transitions (x_{t-1}, x_t, a_t) -> x_{t+1} of one view, flattened,
// with the mask of each dimension (padding is left out of every fit and every likelihood).
import {
  block,
  episodeCount,
  lengthOf,
  sizeOf,
  type Episodes,
  type ScenarioSpec,
  type Transition,
} from '@worldbench/core';

export interface TransitionData {
  /** Scalars per step of the view, and per action. */
  D: number;
  A: number;
  n: number;
  prev: Float64Array; // [n, D] x_{t-1}
  cur: Float64Array; // [n, D] x_t
  action: Float64Array; // [n, A] a_t
  next: Float64Array; // [n, D] x_{t+1}
  /** 1 where dimension d of transition i is real at both t and t+1 [n, D]. */
  valid: Uint8Array;
  episode: Int32Array; // [n]
}

/** Per-dimension mask of a view (1 everywhere when the view has no mask). */
export function maskOf(spec: ScenarioSpec, view: string, ep: Episodes, e: number, t: number): (d: number) => number {
  const name = spec.views[view].mask;
  if (!name || !ep.views[name]) return () => 1;
  const m = block(ep.views[name], e, t);
  const per = sizeOf(spec.views[view]) / m.length;
  return (d) => m[Math.floor(d / per)];
}

/**
 * Every transition with a previous step (t >= 1), so that every hypothesis is scored on the same rows; with
 * `fromFirst`, also t = 0 (its x_{t-1} is x_0: for laws that do not read the previous step).
 */
export function transitionData(spec: ScenarioSpec, view: string, ep: Episodes, fromFirst = false): TransitionData {
  const D = sizeOf(spec.views[view]);
  const A = spec.action ? sizeOf(spec.action) : 0;
  let n = 0;
  const first = fromFirst ? 0 : 1;
  for (let e = 0; e < episodeCount(ep); e++) n += Math.max(lengthOf(ep, e) - first, 0);
  const out: TransitionData = {
    D,
    A,
    n,
    prev: new Float64Array(n * D),
    cur: new Float64Array(n * D),
    action: new Float64Array(n * A),
    next: new Float64Array(n * D),
    valid: new Uint8Array(n * D),
    episode: new Int32Array(n),
  };
  const v = ep.views[view];
  let i = 0;
  for (let e = 0; e < episodeCount(ep); e++)
    for (let t = first; t < lengthOf(ep, e); t++) {
      out.prev.set(block(v, e, Math.max(t - 1, 0)), i * D);
      out.cur.set(block(v, e, t), i * D);
      out.next.set(block(v, e, t + 1), i * D);
      if (ep.actions) out.action.set(block(ep.actions, e, t), i * A);
      const m0 = maskOf(spec, view, ep, e, t),
        m1 = maskOf(spec, view, ep, e, t + 1);
      for (let d = 0; d < D; d++) out.valid[i * D + d] = m0(d) && m1(d) ? 1 : 0;
      out.episode[i] = e;
      i++;
    }
  return out;
}

/** Joins transition sets of one view (e.g. the batches seen so far in the live protocol). */
export function mergeTransitions(parts: readonly TransitionData[]): TransitionData {
  const { D, A } = parts[0];
  const n = parts.reduce((s, p) => s + p.n, 0);
  const out: TransitionData = {
    D,
    A,
    n,
    prev: new Float64Array(n * D),
    cur: new Float64Array(n * D),
    action: new Float64Array(n * A),
    next: new Float64Array(n * D),
    valid: new Uint8Array(n * D),
    episode: new Int32Array(n),
  };
  let at = 0,
    episodeOffset = 0;
  for (const p of parts) {
    out.prev.set(p.prev, at * D);
    out.cur.set(p.cur, at * D);
    out.next.set(p.next, at * D);
    out.action.set(p.action, at * A);
    out.valid.set(p.valid, at * D);
    for (let i = 0; i < p.n; i++) out.episode[at + i] = p.episode[i] + episodeOffset;
    episodeOffset += p.n ? Math.max(...p.episode) + 1 : 0;
    at += p.n;
  }
  return out;
}

/**
 * A transition as a law reads it, with the components real at both steps marked (padding is left out of every
 * residual).
 */
export type Row = Transition & { valid: Uint8Array };

/**
 * The transitions grouped by episode (empty episodes left out), each with its episode's context: what every
 * law family is fitted on. `episodes` gives the context tensors, read at the transition's episode.
 */
export function rowsByEpisode(data: TransitionData, episodes?: Episodes): Row[][] {
  const { D, A } = data;
  const out: Row[][] = [];
  for (let i = 0; i < data.n; i++) {
    const e = data.episode[i];
    (out[e] ??= []).push({
      current: Float32Array.from(data.cur.subarray(i * D, (i + 1) * D)),
      next: Float32Array.from(data.next.subarray(i * D, (i + 1) * D)),
      action: A ? Float32Array.from(data.action.subarray(i * A, (i + 1) * A)) : null,
      context: episodes ? Object.fromEntries(Object.entries(episodes.context).map(([k, v]) => [k, block(v, e)])) : {},
      valid: data.valid.slice(i * D, (i + 1) * D),
    });
  }
  return out.filter((rows) => rows?.length);
}
