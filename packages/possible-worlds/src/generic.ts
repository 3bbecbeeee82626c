// The generic library: hypotheses that work on any real-valued view with no scenario hints.
//   persistence          x' = x
//   constant-velocity    x' = x + (x - x_prev)
//   linear               x' = x + W [x, a, 1]
//   sparse-nonlinear     x' = x + Theta(x, a) xi, xi sparse (SINDy: sequential thresholded least squares),
//                        the sparsity of each output chosen by evidence
// Each output dimension is a Bayesian linear regression of the change on features; the hypothesis's evidence
// is the sum over dimensions (docs: ../README.md). A sparse support chosen from many pays its prior
// probability (logSupportPrior), and a fitted law is evaluated only on the feature range it was fitted on.
import { bayesianRegression, bicEvidence, logSupportPrior, type RegressionFit } from './evidence';
import type { TransitionData } from './transitions';

export type EvidenceKind = 'marginal' | 'bic';

/** A map from (x_prev, x, a) to library features. */
export interface FeatureLibrary {
  names: string[];
  /** 1 for the features that are an action a_j (they enter every library only linearly). */
  isAction: Uint8Array;
  write(cur: ArrayLike<number>, action: ArrayLike<number>, out: Float64Array): void;
}

/** Both libraries start 1, x_0..x_{D-1}, a_0..a_{A-1}: the action columns are 1 + D .. D + A. */
function actionColumns(p: number, D: number, A: number): Uint8Array {
  return Uint8Array.from({ length: p }, (_, f) => (f > D && f <= D + A ? 1 : 0));
}

/** x, a, 1 */
export function linearFeatures(D: number, A: number): FeatureLibrary {
  const names = ['1', ...Array.from({ length: D }, (_, i) => `x${i}`), ...Array.from({ length: A }, (_, i) => `a${i}`)];
  return {
    names,
    isAction: actionColumns(names.length, D, A),
    write(cur, action, out) {
      out[0] = 1;
      for (let i = 0; i < D; i++) out[1 + i] = cur[i];
      for (let j = 0; j < A; j++) out[1 + D + j] = action[j];
    },
  };
}

/**
 * Views with at most this many dimensions get pairwise terms (products, |.| x, inverse-square); larger ones only unary.
 */
export const PAIRWISE_LIMIT = 8;

/**
 * SINDy library: 1, x_i, a_j, x_i^2, sin x_i, cos x_i, |x_i| x_i; and, for D <= 8, x_i x_j, r_ij x_i and
 * x_i / (r_ij^2 + 0.01)^(3/2) with r_ij = |(x_i, x_j)| (|v| v drag and inverse-square attraction).
 */
export function sindyFeatures(D: number, A: number): FeatureLibrary {
  const names: string[] = ['1'];
  for (let i = 0; i < D; i++) names.push(`x${i}`);
  for (let j = 0; j < A; j++) names.push(`a${j}`);
  for (let i = 0; i < D; i++) names.push(`x${i}^2`, `sin x${i}`, `cos x${i}`, `|x${i}| x${i}`);
  const pairwise = D <= PAIRWISE_LIMIT;
  if (pairwise)
    for (let i = 0; i < D; i++)
      for (let j = i + 1; j < D; j++)
        names.push(`x${i} x${j}`, `r${i}${j} x${i}`, `r${i}${j} x${j}`, `x${i} / r${i}${j}^3`, `x${j} / r${i}${j}^3`);
  return {
    names,
    isAction: actionColumns(names.length, D, A),
    write(x, a, out) {
      let k = 0;
      out[k++] = 1;
      for (let i = 0; i < D; i++) out[k++] = x[i];
      for (let j = 0; j < A; j++) out[k++] = a[j];
      for (let i = 0; i < D; i++) {
        out[k++] = x[i] * x[i];
        out[k++] = Math.sin(x[i]);
        out[k++] = Math.cos(x[i]);
        out[k++] = Math.abs(x[i]) * x[i];
      }
      if (pairwise)
        for (let i = 0; i < D; i++)
          for (let j = i + 1; j < D; j++) {
            const r2 = x[i] * x[i] + x[j] * x[j];
            const r = Math.sqrt(r2),
              inv3 = Math.pow(r2 + 0.01, -1.5);
            out[k++] = x[i] * x[j];
            out[k++] = r * x[i];
            out[k++] = r * x[j];
            out[k++] = x[i] * inv3;
            out[k++] = x[j] * inv3;
          }
    },
  };
}

/** One output dimension's fitted regression, on standardised features (a subset `support` of the library). */
export interface DimensionFit {
  support: Int32Array;
  coef: Float64Array; // on standardised features, [support.length]
  noiseVariance: number;
  logEvidence: number;
  n: number;
}

export interface FittedRegressionLaw {
  id: string;
  /** Whether the change is measured from x + (x - x_prev) (constant velocity) or from x. */
  offset: 'none' | 'velocity';
  library: FeatureLibrary | null;
  featureMean: Float64Array;
  featureStd: Float64Array;
  /** Per feature, the standardised range the law is trusted on (see FEATURE_MARGIN); predictions clamp to it. */
  featureLo: Float64Array;
  featureHi: Float64Array;
  dims: DimensionFit[];
  /** Free parameters (coefficients over all dimensions, plus one noise variance per fitted dimension). */
  k: number;
  logEvidence: number;
}

/**
 * How far beyond the training range of each feature of the state, as a fraction of that range's span, a law
 * is still evaluated; features further out are clamped. A regression law is fitted on the feature values its
 * data showed and nothing in the data says how it continues beyond them: heavy-tailed features (x^2, |x| x,
 * x / (r^2 + 0.01)^(3/2)) evaluated at states outside that range give changes many times any change seen,
 * and a coefficient that only absorbed noise (a position's, in free flight) grows with the distance. Clamping
 * the features, not the state, keeps the predicted change within what the fit supports while the state
 * itself may go anywhere (a free particle leaves the region its training episodes covered). Action features
 * are not clamped: an action enters every library only linearly, as the control the forecast is asked about,
 * and clamping it would answer an untried action (a push toward -x after an expert that only pushed +x) with
 * the nearest tried one.
 */
export const FEATURE_MARGIN = 0.1;

/** The statistics of one dimension's regression over its valid rows. */
interface DimensionStats {
  gram: Float64Array; // [p, p] over standardised features
  xty: Float64Array; // [p]
  yty: number;
  n: number;
}

function targetOf(data: TransitionData, offset: 'none' | 'velocity', i: number, d: number): number {
  const D = data.D;
  const base = data.cur[i * D + d] + (offset === 'velocity' ? data.cur[i * D + d] - data.prev[i * D + d] : 0);
  return data.next[i * D + d] - base;
}

/**
 * Fits a regression law to every dimension. `sparse`: per dimension, the support is chosen by sequential
 * thresholded least squares over a grid of sizes, each candidate support scored by evidence.
 */
export function fitRegressionLaw(
  id: string,
  data: TransitionData,
  offset: 'none' | 'velocity',
  library: FeatureLibrary | null,
  opts: { sparse: boolean; evidence: EvidenceKind },
): FittedRegressionLaw {
  const { D, A, n } = data;
  const p = library ? library.names.length : 0;
  const features = new Float64Array(n * p);
  const row = new Float64Array(p);
  if (library)
    for (let i = 0; i < n; i++) {
      library.write(data.cur.subarray(i * D, (i + 1) * D), data.action.subarray(i * A, (i + 1) * A), row);
      features.set(row, i * p);
    }
  // standardise (the intercept, feature 0, stays 1)
  const featureMean = new Float64Array(p),
    featureStd = new Float64Array(p).fill(1);
  for (let f = 1; f < p; f++) {
    let s = 0,
      s2 = 0;
    for (let i = 0; i < n; i++) s += features[i * p + f];
    const m = s / Math.max(n, 1);
    for (let i = 0; i < n; i++) s2 += (features[i * p + f] - m) ** 2;
    featureMean[f] = m;
    featureStd[f] = Math.sqrt(s2 / Math.max(n, 1)) || 0;
  }
  const live = Int32Array.from(Array.from({ length: p }, (_, f) => f).filter((f) => f === 0 || featureStd[f] > 1e-9));
  for (let i = 0; i < n; i++)
    for (let f = 1; f < p; f++)
      features[i * p + f] = featureStd[f] > 1e-9 ? (features[i * p + f] - featureMean[f]) / featureStd[f] : 0;
  const { lo: featureLo, hi: featureHi } = trustedRange(features, n, p);

  // rows are shared by dimensions with the same validity pattern (e.g. the four fields of one ball)
  const statsCache = new Map<string, DimensionStats>();
  const dims: DimensionFit[] = [];
  let k = 0,
    logEvidence = 0;
  for (let d = 0; d < D; d++) {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (data.valid[i * D + d]) rows.push(i);
    const y = Float64Array.from(rows, (i) => targetOf(data, offset, i, d));
    const yty = y.reduce((s, v) => s + v * v, 0);
    if (rows.length === 0 || yty < 1e-18) {
      // padding, or a dimension the offset already explains exactly: nothing to fit or score
      dims.push({
        support: new Int32Array(0),
        coef: new Float64Array(0),
        noiseVariance: 0,
        logEvidence: 0,
        n: rows.length,
      });
      continue;
    }
    const rowKey = rows.length === n ? 'all' : rows.join(',');
    let stats = statsCache.get(rowKey);
    if (!stats && p > 0) {
      const gram = new Float64Array(p * p);
      for (const i of rows) {
        const x = features.subarray(i * p, (i + 1) * p);
        for (let a = 0; a < p; a++) {
          const xa = x[a];
          if (xa === 0) continue;
          for (let b = a; b < p; b++) gram[a * p + b] += xa * x[b];
        }
      }
      for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) gram[a * p + b] = gram[b * p + a];
      stats = { gram, xty: new Float64Array(p), yty: 0, n: rows.length };
      statsCache.set(rowKey, stats);
    }
    const xty = new Float64Array(p);
    rows.forEach((i, r) => {
      for (let f = 0; f < p; f++) xty[f] += features[i * p + f] * y[r];
    });
    const fit = fitDimension(stats?.gram ?? new Float64Array(0), xty, yty, rows.length, p, live, opts);
    dims.push(fit);
    k += fit.support.length + 1;
    logEvidence += fit.logEvidence;
  }
  return { id, offset, library, featureMean, featureStd, featureLo, featureHi, dims, k, logEvidence };
}

/** Per feature, the range over the rows widened by FEATURE_MARGIN of its span each side ([0, 0] with no rows). */
function trustedRange(features: Float64Array, n: number, p: number): { lo: Float64Array; hi: Float64Array } {
  const lo = new Float64Array(p).fill(n ? Infinity : 0),
    hi = new Float64Array(p).fill(n ? -Infinity : 0);
  for (let i = 0; i < n; i++)
    for (let f = 0; f < p; f++) {
      const z = features[i * p + f];
      if (z < lo[f]) lo[f] = z;
      if (z > hi[f]) hi[f] = z;
    }
  for (let f = 0; f < p; f++) {
    const margin = FEATURE_MARGIN * (hi[f] - lo[f]);
    lo[f] -= margin;
    hi[f] += margin;
  }
  return { lo, hi };
}

function sub(
  gram: Float64Array,
  xty: Float64Array,
  p: number,
  support: Int32Array,
): { g: Float64Array; v: Float64Array } {
  const m = support.length;
  const g = new Float64Array(m * m),
    v = new Float64Array(m);
  for (let a = 0; a < m; a++) {
    v[a] = xty[support[a]];
    for (let b = 0; b < m; b++) g[a * m + b] = gram[support[a] * p + support[b]];
  }
  return { g, v };
}

function score(fit: RegressionFit, kind: EvidenceKind): number {
  return kind === 'marginal' ? fit.logMarginal : bicEvidence(fit.logLikMax, fit.p + 1, fit.n);
}

/**
 * One dimension's regression. Not sparse: on every live feature (a support fixed in advance). Sparse: the
 * support of highest log evidence + log prior (logSupportPrior over the live features) among the empty one,
 * the full one and those that sequential thresholded least squares proposes; the dimension's evidence is that
 * sum, so that the sparse law is compared fairly with laws whose support was fixed in advance. (The full
 * hypothesis's evidence would sum over every support; the best one's term is a lower bound on it.)
 */
function fitDimension(
  gram: Float64Array,
  xty: Float64Array,
  yty: number,
  n: number,
  p: number,
  live: Int32Array,
  opts: { sparse: boolean; evidence: EvidenceKind },
): DimensionFit {
  const evaluate = (support: Int32Array): DimensionFit & { fit: RegressionFit } => {
    const { g, v } = sub(gram, xty, p, support);
    const fit = bayesianRegression(g, v, yty, n, support.length);
    const logPrior = opts.sparse ? logSupportPrior(live.length, support.length) : 0;
    return {
      support,
      coef: fit.coef,
      noiseVariance: fit.noiseVariance,
      logEvidence: score(fit, opts.evidence) + logPrior,
      n,
      fit,
    };
  };
  const full = evaluate(live);
  if (!opts.sparse) return full;
  let best: DimensionFit = evaluate(new Int32Array(0));
  if (full.logEvidence > best.logEvidence) best = full;
  // sequential thresholded least squares: keep the m largest standardised coefficients, refit, repeat
  const sizes = [...new Set([1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64].filter((m) => m < live.length))];
  for (const m of sizes) {
    let support = live;
    let current = full;
    for (let iter = 0; iter < 3; iter++) {
      const order = Array.from(current.support.keys()).sort(
        (a, b) => Math.abs(current.coef[b]) - Math.abs(current.coef[a]),
      );
      const next = Int32Array.from(order.slice(0, m).map((j) => current.support[j])).sort();
      if (next.length === support.length && next.every((x, i) => x === support[i])) break;
      support = next;
      current = evaluate(support);
    }
    if (current.logEvidence > best.logEvidence) best = current;
  }
  return best;
}

/**
 * The next state under a regression law: x (or 2x - x_prev) plus the predicted change, features clamped to their
 * trusted range.
 */
export function predictChange(
  law: FittedRegressionLaw,
  prev: ArrayLike<number>,
  cur: ArrayLike<number>,
  action: ArrayLike<number>,
  out: Float64Array,
  scratch: Float64Array,
): Float64Array {
  const D = out.length;
  if (law.library) law.library.write(cur, action, scratch);
  for (let d = 0; d < D; d++) {
    const dim = law.dims[d];
    let delta = law.offset === 'velocity' ? cur[d] - prev[d] : 0;
    for (let j = 0; j < dim.support.length; j++) {
      const f = dim.support[j];
      const z = f === 0 ? 1 : law.featureStd[f] > 1e-9 ? (scratch[f] - law.featureMean[f]) / law.featureStd[f] : 0;
      delta += dim.coef[j] * (law.library!.isAction[f] ? z : Math.min(law.featureHi[f], Math.max(law.featureLo[f], z)));
    }
    out[d] = cur[d] + delta;
  }
  return out;
}

/** A readable statement of a fitted law: the non-zero terms of each dimension. */
export function describeLaw(law: FittedRegressionLaw, maxTerms = 6): string {
  const base = law.offset === 'velocity' ? "x' = 2x - x_prev" : "x' = x";
  if (!law.library) return base;
  const parts: string[] = [];
  law.dims.forEach((dim, d) => {
    if (!dim.support.length) return;
    // back to raw units: coef / std (the intercept absorbs the means; shown without it)
    const terms = Array.from(dim.support, (f, j) => ({ f, c: f === 0 ? dim.coef[j] : dim.coef[j] / law.featureStd[f] }))
      .filter((t) => t.f !== 0)
      .sort((a, b) => Math.abs(b.c) - Math.abs(a.c))
      .slice(0, maxTerms)
      .map((t) => `${t.c >= 0 ? '+' : '-'} ${Math.abs(t.c).toPrecision(3)} ${law.library!.names[t.f]}`);
    if (terms.length) parts.push(`d${d}: ${terms.join(' ')}`);
  });
  return `${base} + change; ${parts.join('; ') || 'no terms'}`;
}
