// The state's kinematic structure, read off the data before any law is searched: which components are
// positions moved by which rates (dq/dt = p, as a position and its velocity), which components the search
// must explain, and how the components group into bodies and axes (the symmetries a law may have).
//
// A view shaped [N, F] is read as N alike bodies of F fields (bouncing-balls: 4 balls of x, y, vx, vy); any
// other shape is one body. A pair (position field q, rate field p) is accepted when, pooled over the bodies,
// the change of q over a step is explained by the step's mean p through the origin, q' - q = s (p + p') / 2,
// with s > 0 and r^2 >= PAIR_R2; greedily by r^2, each field in at most one pair. s is the step duration in
// the rate's time unit (0.1 s on hidden-laws), pooled over the pairs. With no pair the law is first order in
// every component, its time measured in steps.
import type { TransitionData } from './transitions';

/** A position driven by a rate: dq/dt = scale * p, t in units of `dt` (the step duration pooled over the pairs). */
export interface Pair {
  position: number;
  rate: number;
  scale: number;
}

export interface Kinematics {
  D: number;
  /** Every body's pairs (dims of the flattened view), in field order; axes[b][k] is axis k of body b. */
  axes: Pair[][];
  /** The step duration the law's time is measured in (1 with no pair: time in steps). */
  dt: number;
  /** Components whose rate of change the search explains: every rate, and every changing component in no pair. */
  dynamic: number[];
  /** Components that never changed in the data (padding, constants): the law keeps them. */
  constant: number[];
  /** Fields per body (the view's last axis for [N, F], else the whole view). */
  fields: number;
  bodies: number;
}

/** The lowest r^2 of q' - q on (p + p') / 2 through the origin for (q, p) to be read as a position and its rate. */
export const PAIR_R2 = 0.3;

/** Pairs whose slopes differ by less than this fraction share one time unit (their positions move at exactly their rates). */
export const SAME_SCALE = 0.05;

/** How the flattened view splits into bodies: [N, F] -> N bodies of F fields; else one body. */
export function bodiesOf(shape: readonly number[]): { bodies: number; fields: number } {
  if (shape.length === 2 && shape[0] > 1) return { bodies: shape[0], fields: shape[1] };
  return { bodies: 1, fields: shape.reduce((a, b) => a * b, 1) };
}

/** r^2 and slope of the regression through the origin of y on x over the rows where both are valid. */
function throughOrigin(data: TransitionData, q: number[], p: number[]): { slope: number; r2: number; n: number } {
  const { D, n } = data;
  let sxy = 0, sxx = 0, syy = 0, m = 0;
  for (let i = 0; i < n; i++)
    for (let b = 0; b < q.length; b++) {
      if (!data.valid[i * D + q[b]] || !data.valid[i * D + p[b]]) continue;
      const y = data.next[i * D + q[b]] - data.cur[i * D + q[b]];
      const x = (data.next[i * D + p[b]] + data.cur[i * D + p[b]]) / 2;
      sxy += x * y;
      sxx += x * x;
      syy += y * y;
      m++;
    }
  if (sxx <= 0 || syy <= 0) return { slope: 0, r2: 0, n: m };
  return { slope: sxy / sxx, r2: (sxy * sxy) / (sxx * syy), n: m };
}

/** Whether component d ever changed over a valid transition. */
function changes(data: TransitionData, d: number): boolean {
  for (let i = 0; i < data.n; i++) if (data.valid[i * data.D + d] && data.next[i * data.D + d] !== data.cur[i * data.D + d]) return true;
  return false;
}

export function findKinematics(data: TransitionData, shape: readonly number[]): Kinematics {
  const { D } = data;
  const { bodies, fields } = bodiesOf(shape);
  const dim = (b: number, f: number) => b * fields + f;
  const all = Array.from({ length: bodies }, (_, b) => b);
  const candidates: Array<{ q: number; p: number; slope: number; r2: number }> = [];
  for (let q = 0; q < fields; q++)
    for (let p = 0; p < fields; p++) {
      if (p === q) continue;
      const fit = throughOrigin(data, all.map((b) => dim(b, q)), all.map((b) => dim(b, p)));
      if (fit.slope > 0 && fit.r2 >= PAIR_R2 && fit.n >= 8) candidates.push({ q, p, slope: fit.slope, r2: fit.r2 });
    }
  candidates.sort((a, b) => b.r2 - a.r2 || a.q - b.q || a.p - b.p);
  const used = new Set<number>();
  const fieldPairs: typeof candidates = [];
  for (const c of candidates) {
    if (used.has(c.q) || used.has(c.p)) continue;
    used.add(c.q).add(c.p);
    fieldPairs.push(c);
  }
  fieldPairs.sort((a, b) => a.q - b.q);
  // one step duration, pooled over every pair; a pair whose own slope is within SAME_SCALE of it moves at exactly its rate
  const pooled = fieldPairs.length ? throughOrigin(data, fieldPairs.flatMap((c) => all.map((b) => dim(b, c.q))), fieldPairs.flatMap((c) => all.map((b) => dim(b, c.p)))).slope : 1;
  const dt = pooled > 0 ? pooled : 1;
  const scaleOf = (slope: number) => (Math.abs(slope / dt - 1) < SAME_SCALE ? 1 : slope / dt);
  const axes = all.map((b) => fieldPairs.map((c) => ({ position: dim(b, c.q), rate: dim(b, c.p), scale: scaleOf(c.slope) })));
  const positions = new Set(axes.flat().map((a) => a.position));
  const constant: number[] = [], dynamic: number[] = [];
  for (let d = 0; d < D; d++) {
    if (!changes(data, d)) constant.push(d);
    else if (!positions.has(d)) dynamic.push(d);
  }
  return { D, axes, dt, dynamic, constant, fields, bodies };
}
