// Linear regression whose coefficients are each either shared by every episode or drawn per episode, the
// choice made per coefficient by the data: Cochran's Q of the per-episode least-squares estimates against
// their standard errors (how much more they differ than their noise explains) decides, per episode where the
// likelihood gained, Q/2 - (E - 1)/2, beats BIC's price of the E - 1 extra coefficients, (E - 1) log(n_e)/2.
// The mixed fit (shared coefficients on every row, per-episode ones on their episode's rows) is solved by
// block coordinate descent, and scored by BIC.

/**
 * One coefficient as fitted: its pooled value, whether it varies per episode, and how much its per-episode estimates
 * spread beyond their noise.
 */
export interface MixedCoefficient {
  coef: number;
  perEpisode: boolean;
  spread: number;
}

export interface MixedFit {
  coefficients: MixedCoefficient[];
  /** Residual sum of squares of the mixed fit. */
  rss: number;
  /**
   * BIC's log-evidence: -n/2 log(2 pi rss/n) - n/2 - log(n)/2 per shared coefficient - sum_e log(n_e)/2 per per-episode
   * one.
   */
  bic: number;
  /**
   * Every coefficient's value in an episode: its own there if it is per episode (and the episode had rows), else the
   * shared one.
   */
  inEpisode(episode: number): Float64Array;
}

/** Which rows a regression reads: a list of indices, a range [from, to), or (omitted) all. */
export type Rows = readonly number[] | { from: number; to: number };

const dot = (a: Float64Array, b: Float64Array, rows?: Rows) => {
  let s = 0;
  if (!rows) for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  else if ('from' in rows) for (let i = rows.from; i < rows.to; i++) s += a[i] * b[i];
  else for (const i of rows) s += a[i] * b[i];
  return s;
};

/**
 * Inverse of a small matrix (null when singular or nearly so): a few coefficients, solved hundreds of thousands
 * of times in the equation search's beam, where a matrix library's objects would cost more than the solve.
 */
export function invertSmall(G: Float64Array, p: number): Float64Array | null {
  const a = G.slice(),
    inv = new Float64Array(p * p);
  for (let i = 0; i < p; i++) inv[i * p + i] = 1;
  const scale = Math.max(...Array.from({ length: p }, (_, i) => Math.abs(G[i * p + i])), 1e-300);
  for (let c = 0; c < p; c++) {
    let piv = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(a[r * p + c]) > Math.abs(a[piv * p + c])) piv = r;
    if (Math.abs(a[piv * p + c]) < 1e-10 * scale) return null;
    for (let j = 0; j < p; j++) {
      [a[c * p + j], a[piv * p + j]] = [a[piv * p + j], a[c * p + j]];
      [inv[c * p + j], inv[piv * p + j]] = [inv[piv * p + j], inv[c * p + j]];
    }
    const d = a[c * p + c];
    for (let j = 0; j < p; j++) {
      a[c * p + j] /= d;
      inv[c * p + j] /= d;
    }
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = a[r * p + c];
      if (!f) continue;
      for (let j = 0; j < p; j++) {
        a[r * p + j] -= f * a[c * p + j];
        inv[r * p + j] -= f * inv[c * p + j];
      }
    }
  }
  return inv;
}

/**
 * Least squares of y on the columns over `rows` (all rows when omitted), with an optional ridge on the diagonal
 * relative to it; null where the columns are collinear there.
 */
export function leastSquares(
  X: Float64Array[],
  y: Float64Array,
  rows?: Rows,
  ridge = 0,
): { coef: Float64Array; inverse: Float64Array; rss: number; n: number } | null {
  const p = X.length,
    n = !rows ? y.length : 'from' in rows ? rows.to - rows.from : rows.length;
  const G = new Float64Array(p * p),
    v = new Float64Array(p);
  for (let a = 0; a < p; a++) {
    v[a] = dot(X[a], y, rows);
    for (let b = a; b < p; b++) G[a * p + b] = G[b * p + a] = dot(X[a], X[b], rows);
    G[a * p + a] += ridge * (G[a * p + a] + 1e-12);
  }
  const inverse = invertSmall(G, p);
  if (!inverse) return null;
  const coef = Float64Array.from({ length: p }, (_, a) =>
    inverse.slice(a * p, (a + 1) * p).reduce((s, x, b) => s + x * v[b], 0),
  );
  let rss = dot(y, y, rows);
  for (let a = 0; a < p; a++) rss -= coef[a] * v[a];
  return { coef, inverse, rss: Math.max(rss, 0), n };
}

/** Rows of each episode, in order of first appearance. */
export function episodeRows(episode: Int32Array): number[][] {
  const byEpisode = new Map<number, number[]>();
  episode.forEach((e, i) => {
    let rows = byEpisode.get(e);
    if (!rows) byEpisode.set(e, (rows = []));
    rows.push(i);
  });
  return [...byEpisode.values()];
}

/**
 * Fits y = sum_j c_j X_j with each c_j shared or per episode (decided by the data, or by `kinds[j]` where set).
 * Null when the columns are collinear over all rows.
 */
export function fitMixed(
  X: Float64Array[],
  y: Float64Array,
  episode: Int32Array,
  kinds?: ReadonlyArray<boolean | undefined>,
): MixedFit | null {
  const p = X.length,
    n = y.length;
  const bicOf = (rss: number, penalty: number) =>
    -0.5 * n * (Math.log((2 * Math.PI * Math.max(rss, 1e-300)) / Math.max(n, 1)) + 1) - penalty;
  if (p === 0)
    return { coefficients: [], rss: dot(y, y), bic: bicOf(dot(y, y), 0), inEpisode: () => new Float64Array(0) };
  const pooled = leastSquares(X, y);
  if (!pooled) return null;
  const groups = episodeRows(episode);
  // per-episode estimates and their variances, from the episodes where every column varies enough
  const estimates = groups.flatMap((rows) => {
    if (rows.length <= p + 1) return [];
    const fit = leastSquares(X, y, rows);
    if (!fit) return [];
    const s2 = fit.rss / (rows.length - p);
    return [{ coef: fit.coef, variance: Float64Array.from({ length: p }, (_, a) => fit.inverse[a * p + a] * s2) }];
  });
  const E = estimates.length;
  const meanRows = n / Math.max(groups.length, 1);
  const coefficients: MixedCoefficient[] = Array.from({ length: p }, (_, a) => {
    if (E < 2) return { coef: pooled.coef[a], perEpisode: kinds?.[a] ?? false, spread: 0 };
    const w = estimates.map((e) => 1 / Math.max(e.variance[a], 1e-300));
    const wSum = w.reduce((s, x) => s + x, 0);
    const mean = estimates.reduce((s, e, i) => s + w[i] * e.coef[a], 0) / wSum;
    const Q = estimates.reduce((s, e, i) => s + w[i] * (e.coef[a] - mean) ** 2, 0);
    const perEpisode = kinds?.[a] ?? Q / 2 - (E - 1) / 2 > ((E - 1) * Math.log(Math.max(meanRows, 2))) / 2;
    const noise = estimates.reduce((s, e) => s + e.variance[a], 0) / E;
    const variance = estimates.reduce((s, e) => s + (e.coef[a] - mean) ** 2, 0) / (E - 1);
    return { coef: pooled.coef[a], perEpisode, spread: Math.sqrt(Math.max(variance - noise, 0)) };
  });
  // the mixed fit: shared coefficients on every row, per-episode ones on their episode's rows
  const own = coefficients.map((c, a) => (c.perEpisode ? a : -1)).filter((a) => a >= 0);
  const shared = coefficients.map((c, a) => (c.perEpisode ? -1 : a)).filter((a) => a >= 0);
  let rss = pooled.rss;
  let sharedCoef: Float64Array = Float64Array.from(shared, (a) => pooled.coef[a]);
  const ownCoef = new Map<number, Float64Array>(); // episode -> its own coefficients
  if (own.length) {
    const residual = y.slice();
    for (let iter = 0; iter < 4; iter++) {
      // per-episode coefficients on what the shared ones leave
      const afterShared = y.map((v, i) => shared.reduce((s, a, k) => s - sharedCoef[k] * X[a][i], v));
      rss = 0;
      for (const rows of groups) {
        const fit = leastSquares(
          own.map((a) => X[a]),
          afterShared,
          rows,
        );
        if (fit) ownCoef.set(episode[rows[0]], fit.coef);
        for (const i of rows)
          residual[i] = afterShared[i] - (fit ? own.reduce((s, a, k) => s + fit.coef[k] * X[a][i], 0) : 0);
        rss += rows.reduce((s, i) => s + residual[i] ** 2, 0);
      }
      if (!shared.length) break;
      // shared coefficients on what the per-episode ones leave
      const afterOwn = residual.map((r, i) => r + shared.reduce((s, a, k) => s + sharedCoef[k] * X[a][i], 0));
      const fit = leastSquares(
        shared.map((a) => X[a]),
        afterOwn,
      );
      if (!fit) break;
      sharedCoef = fit.coef;
      for (let i = 0; i < n; i++)
        residual[i] = afterOwn[i] - shared.reduce((s, a, k) => s + sharedCoef[k] * X[a][i], 0);
      rss = dot(residual, residual);
    }
  }
  const penalty =
    0.5 * shared.length * Math.log(Math.max(n, 2)) +
    0.5 * own.length * groups.reduce((s, rows) => s + Math.log(Math.max(rows.length, 2)), 0);
  const inEpisode = (e: number) => {
    const out = Float64Array.from(coefficients, (c) => c.coef);
    shared.forEach((a, k) => (out[a] = sharedCoef[k]));
    const mine = ownCoef.get(e);
    if (mine) own.forEach((a, k) => (out[a] = mine[k]));
    return out;
  };
  return { coefficients, rss, bic: bicOf(rss, penalty), inEpisode };
}
