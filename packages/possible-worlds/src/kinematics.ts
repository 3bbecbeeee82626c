// The state's kinematic structure, read off the data before any law is searched: which components are
// positions moved by which rates (dq/dt = p, as a position and its velocity), which components the search
// must explain, and how the components group into bodies and axes (the symmetries a law may have).
//
// A view shaped [N, F] is read as N alike bodies of F fields (bouncing-balls: 4 balls of x, y, vx, vy); any
// other shape is one body. A pair (position field q, rate field p) is accepted when, pooled over the bodies,
// the change of q over a step is explained by the step's mean p through the origin, q' - q = s (p + p') / 2,
// with s > 0, and either r^2 >= PAIR_R2 or, where observation noise hides a small motion (r^2 below PAIR_R2 though
// the slope is sure), the rate alone explains the change: nothing else linear in the body's fields and the actions
// explains it better by BIC (`onlyTheRateMoves`); greedily by r^2, each field in at most one pair. s is the step
// duration in the rate's time unit (0.1 s on hidden-laws), pooled over the pairs. With no pair the law is first
// order in every component, its time measured in steps.
import { invertSmall, leastSquares } from './mixed-regression';
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

/**
 * Pairs whose slopes differ by less than this fraction share one time unit (their positions move at exactly their
 * rates).
 */
export const SAME_SCALE = 0.05;

/** How the flattened view splits into bodies: [N, F] -> N bodies of F fields; else one body. */
export function bodiesOf(shape: readonly number[]): { bodies: number; fields: number } {
  if (shape.length === 2 && shape[0] > 1) return { bodies: shape[0], fields: shape[1] };
  return { bodies: 1, fields: shape.reduce((a, b) => a * b, 1) };
}

/** r^2 and slope of the regression through the origin of y on x over the rows where both are valid. */
function throughOrigin(data: TransitionData, q: number[], p: number[]): { slope: number; r2: number; n: number } {
  const { D, n } = data;
  let sxy = 0,
    sxx = 0,
    syy = 0,
    m = 0;
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

/**
 * Nats by which the rate alone must explain the change of a position better than no change, for a noisy pair: a
 * Bayes factor of e^5 (about 150), "very strong" on Kass & Raftery's scale.
 */
export const PAIR_EVIDENCE = 5;

/**
 * Whether the rate alone moves the position, when observation noise leaves r^2 low: pooled over the bodies, q' - q
 * on (p + p') / 2 through the origin beats q' = q by PAIR_EVIDENCE nats (BIC), and adding an intercept, the step's
 * mean of every other field of the body and the actions does not improve it by BIC. Means over the step, not the
 * current values: the noise of q in q' - q is uncorrelated with that of (q + q') / 2, where a regressor q would read
 * the noise itself (at 4096 noisy transitions, by 16 nats). A first-order law whose change of q merely correlates
 * with p fails the second test.
 */
function onlyTheRateMoves(data: TransitionData, fields: number, bodies: number, q: number, p: number): boolean {
  const { D, A } = data;
  const rows: number[] = [];
  for (let i = 0; i < data.n; i++)
    for (let b = 0; b < bodies; b++) {
      const dims = Array.from({ length: fields }, (_, f) => i * D + b * fields + f);
      if (dims.every((d) => data.valid[d])) rows.push(i * D + b * fields);
    }
  const n = rows.length;
  if (n < 4 * (fields + A + 2)) return false;
  const column = (f: (at: number, i: number) => number) => Float64Array.from(rows, (at) => f(at, Math.floor(at / D)));
  const change = column((at) => data.next[at + q] - data.cur[at + q]);
  const rate = column((at) => (data.next[at + p] + data.cur[at + p]) / 2);
  const others = [
    column(() => 1),
    ...Array.from({ length: fields }, (_, f) => f)
      .filter((f) => f !== p)
      .map((f) => column((at) => (data.next[at + f] + data.cur[at + f]) / 2)),
    ...Array.from({ length: A }, (_, j) => column((_, i) => data.action[i * A + j])),
  ];
  const alone = leastSquares([rate], change);
  const all = leastSquares([rate, ...others], change);
  const still = change.reduce((s, y) => s + y * y, 0);
  if (!alone || !all || !(alone.rss > 0) || !(alone.coef[0] > 0)) return false;
  const bic = (rss: number, k: number) => 0.5 * n * Math.log(rss / n) + 0.5 * k * Math.log(n);
  const moves = bic(still, 0) - bic(alone.rss, 1) > PAIR_EVIDENCE;
  const nothingElse = bic(alone.rss, 1) <= bic(Math.max(all.rss, 1e-300), 1 + others.length);
  return moves && nothingElse;
}

/** Whether component d ever changed over a valid transition. */
function changes(data: TransitionData, d: number): boolean {
  for (let i = 0; i < data.n; i++)
    if (data.valid[i * data.D + d] && data.next[i * data.D + d] !== data.cur[i * data.D + d]) return true;
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
      const fit = throughOrigin(
        data,
        all.map((b) => dim(b, q)),
        all.map((b) => dim(b, p)),
      );
      if (!(fit.slope > 0 && fit.n >= 8)) continue;
      if (fit.r2 >= PAIR_R2 || onlyTheRateMoves(data, fields, bodies, q, p))
        candidates.push({ q, p, slope: fit.slope, r2: fit.r2 });
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
  // one step duration, pooled over every pair; a pair whose own slope is within SAME_SCALE of it moves at exactly its
  // rate
  const pooled = fieldPairs.length
    ? throughOrigin(
        data,
        fieldPairs.flatMap((c) => all.map((b) => dim(b, c.q))),
        fieldPairs.flatMap((c) => all.map((b) => dim(b, c.p))),
      ).slope
    : 1;
  const dt = pooled > 0 ? pooled : 1;
  const scaleOf = (slope: number) => (Math.abs(slope / dt - 1) < SAME_SCALE ? 1 : slope / dt);
  const axes = all.map((b) =>
    fieldPairs.map((c) => ({ position: dim(b, c.q), rate: dim(b, c.p), scale: scaleOf(c.slope) })),
  );
  const positions = new Set(axes.flat().map((a) => a.position));
  const constant: number[] = [],
    dynamic: number[] = [];
  for (let d = 0; d < D; d++) {
    if (!changes(data, d)) constant.push(d);
    else if (!positions.has(d)) dynamic.push(d);
  }
  return { D, axes, dt, dynamic, constant, fields, bodies };
}

/**
 * The point the positions are pulled toward, where the data show one away from the origin (a force toward an
 * unknown centre). Per axis, pooled over the bodies, the rate's change per step regressed on [1, q, the
 * actions]: where the slope is restoring (below 0 by more than 3 standard errors), its root -b0 / b1 is the
 * axis's fixed point. Null unless some axis's root lies more than 3 standard errors (delta method) from 0:
 * then the law is also searched in coordinates centred there (search.ts), and the centre is fitted with it.
 * Per position component, its centre (0 for an axis without a fixed point).
 */
export function fixedPoint(data: TransitionData, k: Kinematics): Float64Array | null {
  const { D, A } = data;
  const centre = new Float64Array(D);
  let found = false;
  const actionEffect: Float64Array[] = []; // per axis, the action coefficients of its rate's change
  const axes = k.axes[0]?.length ?? 0;
  // the actions that vary (one the data never varied has no coefficient to read)
  const varied = Array.from({ length: A }, (_, j) => j).filter((j) => {
    for (let i = 1; i < data.n; i++) if (data.action[i * A + j] !== data.action[j]) return true;
    return false;
  });
  for (let axis = 0; axis < axes; axis++) {
    const pairs = k.axes.map((b) => b[axis]);
    // normal equations of y = b0 + b1 q + sum_j c_j a_j (the varied actions)
    const p = 2 + varied.length;
    const G = new Float64Array(p * p),
      v = new Float64Array(p);
    let n = 0,
      yy = 0;
    const row = new Float64Array(p);
    for (let i = 0; i < data.n; i++)
      for (const pair of pairs) {
        if (!data.valid[i * D + pair.position] || !data.valid[i * D + pair.rate]) continue;
        row[0] = 1;
        row[1] = 0.5 * (data.cur[i * D + pair.position] + data.next[i * D + pair.position]);
        varied.forEach((j, v) => (row[2 + v] = data.action[i * A + j]));
        const y = data.next[i * D + pair.rate] - data.cur[i * D + pair.rate];
        for (let a = 0; a < p; a++) {
          v[a] += row[a] * y;
          for (let b = 0; b < p; b++) G[a * p + b] += row[a] * row[b];
        }
        yy += y * y;
        n++;
      }
    for (let a = 0; a < p; a++) G[a * p + a] += 1e-9 * (G[a * p + a] + 1);
    const inv = invertSmall(G, p);
    if (!inv || n <= p + 2) continue;
    const b = Float64Array.from({ length: p }, (_, a) =>
      inv.slice(a * p, (a + 1) * p).reduce((s, x, j) => s + x * v[j], 0),
    );
    let rss = yy;
    for (let a = 0; a < p; a++) rss -= b[a] * v[a];
    const s2 = Math.max(rss, 0) / (n - p);
    const [b0, b1] = [b[0], b[1]];
    actionEffect[axis] = new Float64Array(A);
    varied.forEach((j, v) => (actionEffect[axis][j] = b[2 + v]));
    if (!(b1 < -3 * Math.sqrt(inv[p + 1] * s2))) continue;
    const root = -b0 / b1;
    // delta method: d root / d b0 = -1 / b1, d root / d b1 = b0 / b1^2
    const variance = s2 * (inv[0] / b1 ** 2 + (b0 ** 2 * inv[p + 1]) / b1 ** 4 - (2 * b0 * inv[1]) / b1 ** 3);
    if (Math.abs(root) <= 3 * Math.sqrt(Math.max(variance, 0))) continue;
    for (const pair of pairs) centre[pair.position] = root;
    found = true;
  }
  if (!found) return null;
  return centralCentre(data, k, actionEffect) ?? centre;
}

/**
 * Where the pull is central (toward one point whatever the distance law), its centre read off the directions
 * alone: the change of the rates, less the actions' part, is parallel to q - c, so for every two axes
 * g_i (q_j - c_j) - g_j (q_i - c_i) = 0 on every row: linear in c, solved by least squares over the rows of
 * every body. Null for a body of fewer than two axes, or where the pull is not central (the rows' residual
 * above a third of the typical |g| |q - c|).
 */
function centralCentre(data: TransitionData, k: Kinematics, actionEffect: Float64Array[]): Float64Array | null {
  const { D, A } = data;
  const axes = k.axes[0]?.length ?? 0;
  if (axes < 2 || actionEffect.length < axes || actionEffect.some((e) => !e)) return null;
  const G = new Float64Array(axes * axes),
    v = new Float64Array(axes);
  const rows: Array<{ coef: Float64Array; rhs: number; scale: number }> = [];
  for (let i = 0; i < data.n; i++)
    for (const body of k.axes) {
      if (body.some((p) => !data.valid[i * D + p.position] || !data.valid[i * D + p.rate])) continue;
      const q = body.map((p) => 0.5 * (data.cur[i * D + p.position] + data.next[i * D + p.position]));
      const g = body.map((p, axis) => {
        let change = data.next[i * D + p.rate] - data.cur[i * D + p.rate];
        for (let j = 0; j < A; j++) change -= actionEffect[axis][j] * data.action[i * A + j];
        return change;
      });
      for (let a = 0; a < axes; a++)
        for (let b = a + 1; b < axes; b++) {
          // g_a (q_b - c_b) - g_b (q_a - c_a) = 0  ->  g_b c_a - g_a c_b = g_b q_a - g_a q_b
          const coef = new Float64Array(axes);
          coef[a] = g[b];
          coef[b] = -g[a];
          rows.push({ coef, rhs: g[b] * q[a] - g[a] * q[b], scale: Math.hypot(...g) * Math.hypot(...q) });
        }
    }
  for (const r of rows)
    for (let a = 0; a < axes; a++) {
      v[a] += r.coef[a] * r.rhs;
      for (let b = 0; b < axes; b++) G[a * axes + b] += r.coef[a] * r.coef[b];
    }
  const inv = invertSmall(G, axes);
  if (!inv || rows.length < 8) return null;
  const c = Float64Array.from({ length: axes }, (_, a) =>
    inv.slice(a * axes, (a + 1) * axes).reduce((s, x, b) => s + x * v[b], 0),
  );
  let residual = 0,
    typical = 0;
  for (const r of rows) {
    residual += (r.coef.reduce((s, x, a) => s + x * c[a], 0) - r.rhs) ** 2;
    typical += r.scale ** 2;
  }
  if (residual > typical / 9) return null;
  const centre = new Float64Array(D);
  for (const body of k.axes) body.forEach((p, axis) => (centre[p.position] = c[axis]));
  return centre;
}

/** The transitions with every position moved by -centre (the law searched in coordinates centred there). */
export function centred(data: TransitionData, centre: Float64Array): TransitionData {
  const shift = (x: Float64Array) => x.map((value, i) => value - centre[i % data.D]);
  return { ...data, prev: shift(data.prev), cur: shift(data.cur), next: shift(data.next) };
}
