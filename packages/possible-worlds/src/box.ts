// The generic "box" hypothesis: linear dynamics inside a box whose walls reflect.
//   x' = x + W [x, a, 1], then for every position-like dimension i with a rate dimension j (a dimension whose
//   value drives i's change: corr(x_i' - x_i, x_j)^2 >= RATE_CORRELATION), a step that carries x_i past the
//   data's bound b is reflected: x_i' = 2 b - x_i', x_j' = -e x_j'.
// Nothing here names a scenario: pairs, bounds and the restitution e are read off the training transitions.
// Evidence: the linear part's marginal likelihood on the steps that hit no wall, plus the wall steps'
// likelihood under the reflection, with BIC's penalty for the extra parameters (e, the bounds, a wall noise).
import {
  fitRegressionLaw,
  linearFeatures,
  predictChange,
  type EvidenceKind,
  type FittedRegressionLaw,
} from './generic';
import type { TransitionData } from './transitions';

/** How well a rate must explain a dimension's change for the pair to count. */
export const RATE_CORRELATION = 0.8;

export interface BoxPair {
  position: number;
  rate: number;
  lo: number;
  hi: number;
}

export interface FittedBox {
  law: FittedRegressionLaw;
  pairs: BoxPair[];
  restitution: number;
  /** Residual variance per dimension on wall steps (the step's timing inside dt is not modelled). */
  wallVariance: Float64Array;
  k: number;
  logEvidence: number;
}

/**
 * Position-rate pairs: for each dimension, the other dimension that best explains its change, if it explains enough.
 */
export function findRatePairs(data: TransitionData): BoxPair[] {
  const { D, n } = data;
  const pairs: BoxPair[] = [];
  for (let i = 0; i < D; i++) {
    let best = -1,
      bestR2 = RATE_CORRELATION;
    for (let j = 0; j < D; j++) {
      if (j === i) continue;
      let m = 0,
        sx = 0,
        sy = 0,
        sxx = 0,
        syy = 0,
        sxy = 0;
      for (let r = 0; r < n; r++) {
        if (!data.valid[r * D + i] || !data.valid[r * D + j]) continue;
        const y = data.next[r * D + i] - data.cur[r * D + i],
          x = data.cur[r * D + j];
        m++;
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
      }
      if (m < 8) continue;
      const cov = sxy - (sx * sy) / m,
        vx = sxx - (sx * sx) / m,
        vy = syy - (sy * sy) / m;
      if (cov <= 0 || vx <= 1e-12 || vy <= 1e-12) continue;
      const r2 = (cov * cov) / (vx * vy);
      if (r2 > bestR2) [best, bestR2] = [j, r2];
    }
    if (best < 0) continue;
    let lo = Infinity,
      hi = -Infinity;
    for (let r = 0; r < n; r++)
      if (data.valid[r * D + i]) {
        lo = Math.min(lo, data.cur[r * D + i], data.next[r * D + i]);
        hi = Math.max(hi, data.cur[r * D + i], data.next[r * D + i]);
      }
    pairs.push({ position: i, rate: best, lo, hi });
  }
  return pairs;
}

/** Reflects `next` in place at the walls; returns whether any wall was hit. */
export function reflect(next: Float64Array, pairs: readonly BoxPair[], restitution: number): boolean {
  let hit = false;
  for (const p of pairs) {
    const x = next[p.position];
    if (x > p.hi || x < p.lo) {
      const wall = x > p.hi ? p.hi : p.lo;
      next[p.position] = 2 * wall - x;
      // only a rate still heading into the wall turns round
      if ((x > p.hi && next[p.rate] > 0) || (x < p.lo && next[p.rate] < 0)) next[p.rate] = -restitution * next[p.rate];
      hit = true;
    }
  }
  return hit;
}

const RESTITUTIONS = Array.from({ length: 29 }, (_, i) => 0.3 + 0.025 * i); // 0.3 .. 1.0

/** Fits the box hypothesis, or returns null when no dimension has a rate (nothing to reflect). */
export function fitBox(data: TransitionData, evidence: EvidenceKind): FittedBox | null {
  const pairs = findRatePairs(data);
  if (!pairs.length) return null;
  const { D, A, n } = data;
  const features = linearFeatures(D, A);
  const scratch = new Float64Array(features.names.length);
  const predict = (law: FittedRegressionLaw, r: number) =>
    predictChange(
      law,
      data.prev.subarray(r * D, (r + 1) * D),
      data.cur.subarray(r * D, (r + 1) * D),
      data.action.subarray(r * A, (r + 1) * A),
      new Float64Array(D),
      scratch,
    );
  // the linear part is fitted on steps that hit no wall (twice: the first fit's wall steps include the bounces it was
  // bent by)
  let law = fitRegressionLaw('box', data, 'none', features, { sparse: false, evidence });
  let wall = new Uint8Array(n);
  for (let pass = 0; pass < 2; pass++) {
    wall = Uint8Array.from({ length: n }, (_, r) => (reflect(predict(law, r), pairs, 1) ? 1 : 0));
    const valid = data.valid.slice();
    for (let r = 0; r < n; r++)
      if (wall[r]) for (const p of pairs) valid[r * D + p.position] = valid[r * D + p.rate] = 0;
    law = fitRegressionLaw('box', { ...data, valid }, 'none', features, { sparse: false, evidence });
  }
  // restitution and the wall steps' noise: least squares over the wall steps of the paired dimensions
  const wallRows = Array.from({ length: n }, (_, r) => r).filter((r) => wall[r]);
  const predictions = wallRows.map((r) => predict(law, r));
  const wallError = (e: number) => {
    const sse = new Float64Array(D),
      count = new Float64Array(D);
    wallRows.forEach((r, w) => {
      const next = predictions[w].slice();
      reflect(next, pairs, e);
      for (const p of pairs)
        for (const d of [p.position, p.rate])
          if (data.valid[r * D + d]) {
            sse[d] += (data.next[r * D + d] - next[d]) ** 2;
            count[d]++;
          }
    });
    return { sse, count };
  };
  let restitution = 1,
    bestSse = Infinity;
  for (const e of RESTITUTIONS) {
    const total = wallError(e).sse.reduce((s, v) => s + v, 0);
    if (total < bestSse) [restitution, bestSse] = [e, total];
  }
  const { sse, count } = wallError(restitution);
  const wallVariance = Float64Array.from(sse, (s, d) => (count[d] ? Math.max(s / count[d], 1e-10) : 0));
  let wallLogLik = 0,
    wallCount = 0;
  for (let d = 0; d < D; d++) {
    if (!count[d]) continue;
    wallLogLik += -0.5 * count[d] * (Math.log(2 * Math.PI * wallVariance[d]) + 1);
    wallCount += count[d];
  }
  const extra = 1 + 2 * pairs.length + pairs.length; // e, two bounds and a wall noise per pair
  const logEvidence = law.logEvidence + wallLogLik - 0.5 * extra * Math.log(Math.max(wallCount, 1));
  return { law, pairs, restitution, wallVariance, k: law.k + extra, logEvidence };
}
