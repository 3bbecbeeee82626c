// Ridge regression in closed form, with ml-matrix's Cholesky for the solve.
import { CholeskyDecomposition, Matrix } from 'ml-matrix';

export interface RidgeFit {
  /** [F] mean and std of each feature (std floored so constant features are harmless). */
  featureMean: Float64Array;
  featureStd: Float64Array;
  /** [D] mean target. */
  targetMean: Float64Array;
  /** [F, D] weights on standardised features. */
  weights: Float64Array;
  features: number;
  targets: number;
}

/** The floor of a feature's std: constant features (e.g. a pixel never lit) are harmless. */
const STD_FLOOR = 1e-6;

/**
 * Minimises |Y - Z W|^2 + lambda N |W|^2 over W, where Z are the standardised, centred features and Y the
 * centred targets. Solved in the primal (F x F system) when F <= N, else in the dual (N x N), whichever is smaller.
 */
export function fitRidge(
  x: Float64Array,
  y: Float64Array,
  n: number,
  features: number,
  targets: number,
  lambda: number,
): RidgeFit {
  const F = features,
    D = targets;
  const featureMean = new Float64Array(F),
    featureStd = new Float64Array(F),
    targetMean = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) featureMean[f] += x[i * F + f] / n;
    for (let d = 0; d < D; d++) targetMean[d] += y[i * D + d] / n;
  }
  for (let i = 0; i < n; i++) for (let f = 0; f < F; f++) featureStd[f] += (x[i * F + f] - featureMean[f]) ** 2 / n;
  for (let f = 0; f < F; f++) featureStd[f] = Math.max(Math.sqrt(featureStd[f]), STD_FLOOR);
  const penalty = lambda * Math.max(n, 1);
  const weights = new Float64Array(F * D);
  if (F <= n) {
    // mostly-zero features (frames: background pixels) are multiplied as they are, and centred afterwards
    const { gram, zty } =
      density(x) < SPARSE_BELOW
        ? normalEquationsSparse(x, y, n, F, D, featureMean, featureStd, targetMean)
        : normalEquationsDense(x, y, n, F, D, featureMean, featureStd, targetMean);
    for (let f = 0; f < F; f++) gram[f * F + f] += penalty;
    weights.set(solveSpd(gram, F, zty, D));
  } else {
    const { z, yc } = standardise(x, y, n, F, D, featureMean, featureStd, targetMean);
    const gram = gramOfRows(z, n, F); // [N, N]
    for (let i = 0; i < n; i++) gram[i * n + i] += penalty;
    const alpha = solveSpd(gram, n, yc, D); // [N, D]
    for (let i = 0; i < n; i++)
      for (let f = 0; f < F; f++) {
        const zf = z[i * F + f];
        if (zf === 0) continue;
        for (let d = 0; d < D; d++) weights[f * D + d] += zf * alpha[i * D + d];
      }
  }
  return { featureMean, featureStd, targetMean, weights, features: F, targets: D };
}

/** Below this share of non-zero features the normal equations are built from the raw, sparse rows. */
const SPARSE_BELOW = 0.25;

const density = (x: Float64Array) => {
  let nz = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) nz++;
  return nz / Math.max(x.length, 1);
};

/** Z = standardised features [n, F], Yc = centred targets [n, D]. */
function standardise(
  x: Float64Array,
  y: Float64Array,
  n: number,
  F: number,
  D: number,
  mean: Float64Array,
  std: Float64Array,
  targetMean: Float64Array,
) {
  const z = new Float64Array(n * F),
    yc = new Float64Array(n * D);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) z[i * F + f] = (x[i * F + f] - mean[f]) / std[f];
    for (let d = 0; d < D; d++) yc[i * D + d] = y[i * D + d] - targetMean[d];
  }
  return { z, yc };
}

/** Z^T Z [F, F] and Z^T Yc [F, D] from the standardised rows. */
function normalEquationsDense(
  x: Float64Array,
  y: Float64Array,
  n: number,
  F: number,
  D: number,
  mean: Float64Array,
  std: Float64Array,
  targetMean: Float64Array,
) {
  const { z, yc } = standardise(x, y, n, F, D, mean, std, targetMean);
  const gram = gramOfColumns(z, n, F);
  const zty = new Float64Array(F * D);
  for (let i = 0; i < n; i++)
    for (let f = 0; f < F; f++) {
      const zf = z[i * F + f];
      if (zf === 0) continue;
      for (let d = 0; d < D; d++) zty[f * D + d] += zf * yc[i * D + d];
    }
  return { gram, zty };
}

/**
 * The same Z^T Z and Z^T Yc from the raw rows, visiting only their non-zero entries, then centred and scaled:
 * Z^T Z = S^-1 (X^T X - n m m^T) S^-1 and Z^T Yc = S^-1 (X^T Y - n m ybar^T). The subtraction loses nothing
 * that matters for mostly-zero features (their mean is small next to their spread). Constant features (std at
 * its floor) get a zero column, as in the dense path, instead of a rounding residue divided by the floor.
 */
function normalEquationsSparse(
  x: Float64Array,
  y: Float64Array,
  n: number,
  F: number,
  D: number,
  mean: Float64Array,
  std: Float64Array,
  targetMean: Float64Array,
) {
  const xtx = new Float64Array(F * F),
    xty = new Float64Array(F * D);
  const cols = new Int32Array(F),
    targets = new Int32Array(D);
  for (let i = 0; i < n; i++) {
    let m = 0,
      k = 0;
    for (let f = 0; f < F; f++) if (x[i * F + f] !== 0) cols[m++] = f;
    for (let d = 0; d < D; d++) if (y[i * D + d] !== 0) targets[k++] = d;
    for (let u = 0; u < m; u++) {
      const a = cols[u],
        xa = x[i * F + a];
      for (let v = u; v < m; v++) xtx[a * F + cols[v]] += xa * x[i * F + cols[v]];
      for (let v = 0; v < k; v++) xty[a * D + targets[v]] += xa * y[i * D + targets[v]];
    }
  }
  const constant = (f: number) => std[f] <= STD_FLOOR;
  for (let a = 0; a < F; a++)
    for (let b = a; b < F; b++) {
      const g = constant(a) || constant(b) ? 0 : (xtx[a * F + b] - n * mean[a] * mean[b]) / (std[a] * std[b]);
      xtx[a * F + b] = g;
      xtx[b * F + a] = g;
    }
  for (let a = 0; a < F; a++)
    for (let d = 0; d < D; d++)
      xty[a * D + d] = constant(a) ? 0 : (xty[a * D + d] - n * mean[a] * targetMean[d]) / std[a];
  return { gram: xtx, zty: xty };
}

/** Z^T Z for Z [n, F]. */
export function gramOfColumns(z: Float64Array, n: number, F: number): Float64Array {
  const g = new Float64Array(F * F);
  for (let i = 0; i < n; i++) {
    const row = z.subarray(i * F, (i + 1) * F);
    for (let a = 0; a < F; a++) {
      const za = row[a];
      if (za === 0) continue;
      for (let b = a; b < F; b++) g[a * F + b] += za * row[b];
    }
  }
  for (let a = 0; a < F; a++) for (let b = 0; b < a; b++) g[a * F + b] = g[b * F + a];
  return g;
}

/** Z Z^T for Z [n, F]. */
function gramOfRows(z: Float64Array, n: number, F: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let f = 0; f < F; f++) s += z[i * F + f] * z[j * F + f];
      g[i * n + j] = s;
      g[j * n + i] = s;
    }
  return g;
}

/**
 * Solves A X = B for symmetric positive definite A [m, m], B [m, k]: ml-matrix factors A = L L^T, then two
 * triangular solves run over contiguous rows of X (ml-matrix's own solve is ~10x slower for many right-hand sides).
 */
export function solveSpd(a: Float64Array, m: number, b: Float64Array, k: number): Float64Array {
  const chol = new CholeskyDecomposition(
    new Matrix(Array.from({ length: m }, (_, i) => Array.from(a.subarray(i * m, (i + 1) * m)))),
  );
  if (!chol.isPositiveDefinite())
    throw new Error('ridge: the regularised normal equations are not positive definite (raise ridge)');
  const L = chol.lowerTriangularMatrix;
  const l = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) l[i * m + j] = L.get(i, j);
  const x = Float64Array.from(b); // [m, k]
  // forward: L Z = B
  for (let i = 0; i < m; i++) {
    const xi = x.subarray(i * k, (i + 1) * k);
    for (let j = 0; j < i; j++) {
      const lij = l[i * m + j];
      if (lij === 0) continue;
      const xj = x.subarray(j * k, (j + 1) * k);
      for (let c = 0; c < k; c++) xi[c] -= lij * xj[c];
    }
    const inv = 1 / l[i * m + i];
    for (let c = 0; c < k; c++) xi[c] *= inv;
  }
  // backward: L^T X = Z
  for (let i = m - 1; i >= 0; i--) {
    const xi = x.subarray(i * k, (i + 1) * k);
    for (let j = i + 1; j < m; j++) {
      const lji = l[j * m + i];
      if (lji === 0) continue;
      const xj = x.subarray(j * k, (j + 1) * k);
      for (let c = 0; c < k; c++) xi[c] -= lji * xj[c];
    }
    const inv = 1 / l[i * m + i];
    for (let c = 0; c < k; c++) xi[c] *= inv;
  }
  return x;
}

/** The fit on raw features: weights / std and the offset they imply, so a prediction skips zero features. */
const rawForms = new WeakMap<RidgeFit, { weights: Float64Array; offset: Float64Array }>();

function rawForm(fit: RidgeFit): { weights: Float64Array; offset: Float64Array } {
  let raw = rawForms.get(fit);
  if (raw) return raw;
  const { featureMean, featureStd, targetMean, weights, features: F, targets: D } = fit;
  raw = { weights: new Float64Array(F * D), offset: Float64Array.from(targetMean) };
  for (let f = 0; f < F; f++)
    for (let d = 0; d < D; d++) {
      const w = weights[f * D + d] / featureStd[f];
      raw.weights[f * D + d] = w;
      raw.offset[d] -= featureMean[f] * w;
    }
  rawForms.set(fit, raw);
  return raw;
}

/**
 * Predicted targets for B feature rows [B, F] -> out [B, D]: targetMean + sum_f (x_f - mean_f) / std_f W_f over
 * the non-zero x_f. Row f of the weights is applied to all B rows in turn (the weights of an image view, ~8 MB,
 * are read once per call instead of once per row).
 */
export function predictRidge(fit: RidgeFit, features: ArrayLike<number>, out: Float64Array, rows = 1): Float64Array {
  const { weights, offset } = rawForm(fit);
  const F = fit.features,
    D = fit.targets;
  for (let b = 0; b < rows; b++) out.set(offset, b * D);
  for (let f = 0; f < F; f++) {
    const w = weights.subarray(f * D, (f + 1) * D);
    for (let b = 0; b < rows; b++) {
      const xf = features[b * F + f];
      if (xf === 0) continue;
      const o = b * D;
      for (let d = 0; d < D; d++) out[o + d] += xf * w[d];
    }
  }
  return out;
}
