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

/**
 * Minimises |Y - Z W|^2 + lambda N |W|^2 over W, where Z are the standardised, centred features and Y the
 * centred targets. Solved in the primal (F x F system) when F <= N, else in the dual (N x N), whichever is smaller.
 */
export function fitRidge(x: Float64Array, y: Float64Array, n: number, features: number, targets: number, lambda: number): RidgeFit {
  const F = features, D = targets;
  const featureMean = new Float64Array(F), featureStd = new Float64Array(F), targetMean = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) featureMean[f] += x[i * F + f] / n;
    for (let d = 0; d < D; d++) targetMean[d] += y[i * D + d] / n;
  }
  for (let i = 0; i < n; i++) for (let f = 0; f < F; f++) featureStd[f] += (x[i * F + f] - featureMean[f]) ** 2 / n;
  for (let f = 0; f < F; f++) featureStd[f] = Math.max(Math.sqrt(featureStd[f]), 1e-6);
  const z = new Float64Array(n * F), yc = new Float64Array(n * D);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) z[i * F + f] = (x[i * F + f] - featureMean[f]) / featureStd[f];
    for (let d = 0; d < D; d++) yc[i * D + d] = y[i * D + d] - targetMean[d];
  }
  const penalty = lambda * Math.max(n, 1);
  const weights = new Float64Array(F * D);
  if (F <= n) {
    const gram = gramOfColumns(z, n, F); // [F, F]
    for (let f = 0; f < F; f++) gram[f * F + f] += penalty;
    const zty = new Float64Array(F * D); // [F, D]
    for (let i = 0; i < n; i++)
      for (let f = 0; f < F; f++) {
        const zf = z[i * F + f];
        if (zf === 0) continue;
        for (let d = 0; d < D; d++) zty[f * D + d] += zf * yc[i * D + d];
      }
    weights.set(solveSpd(gram, F, zty, D));
  } else {
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
  const chol = new CholeskyDecomposition(new Matrix(Array.from({ length: m }, (_, i) => Array.from(a.subarray(i * m, (i + 1) * m)))));
  if (!chol.isPositiveDefinite()) throw new Error('ridge: the regularised normal equations are not positive definite (raise ridge)');
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

/** Predicted targets for one feature row. */
export function predictRidge(fit: RidgeFit, features: ArrayLike<number>, out: Float64Array): Float64Array {
  const { featureMean, featureStd, targetMean, weights, features: F, targets: D } = fit;
  out.set(targetMean);
  for (let f = 0; f < F; f++) {
    const zf = (features[f] - featureMean[f]) / featureStd[f];
    if (zf === 0) continue;
    for (let d = 0; d < D; d++) out[d] += zf * weights[f * D + d];
  }
  return out;
}
