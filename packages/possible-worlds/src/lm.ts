// Levenberg-Marquardt for small nonlinear least-squares problems (a law's few parameters), with an optional
// Gaussian prior on the parameters (MAP), and the Laplace approximation of the evidence at the optimum.
import { CholeskyDecomposition, Matrix } from 'ml-matrix';

export interface LmProblem {
  /** Residuals r(theta), already divided by their noise std when `noiseVariance` is not used. */
  residuals(theta: Float64Array): Float64Array;
  initial: Float64Array;
  /** Gaussian prior per parameter (mean, std); omitted: flat. */
  priorMean?: Float64Array;
  priorStd?: Float64Array;
  maxIterations?: number;
}

export interface LmResult {
  theta: Float64Array;
  /** Sum of squared residuals at theta (without the prior term). */
  sse: number;
  /** J^T J at theta (for the Laplace approximation and parameter uncertainty). */
  jtj: Float64Array;
  iterations: number;
}

/** d residuals / d theta [m, P] by forward differences at theta (r0 = residuals(theta)). */
export function jacobian(problem: Pick<LmProblem, 'residuals'>, theta: Float64Array, r0: Float64Array): Float64Array {
  const P = theta.length,
    m = r0.length;
  const J = new Float64Array(m * P);
  for (let j = 0; j < P; j++) {
    const h = 1e-6 * Math.max(1, Math.abs(theta[j]));
    const t = theta.slice();
    t[j] += h;
    const r1 = problem.residuals(t);
    for (let i = 0; i < m; i++) J[i * P + j] = (r1[i] - r0[i]) / h;
  }
  return J;
}

const sq = (r: Float64Array) => r.reduce((s, x) => s + x * x, 0);

export function levenbergMarquardt(problem: LmProblem): LmResult {
  const P = problem.initial.length;
  const priorTerm = (t: Float64Array) => {
    if (!problem.priorMean || !problem.priorStd) return 0;
    let s = 0;
    for (let j = 0; j < P; j++) s += ((t[j] - problem.priorMean[j]) / problem.priorStd[j]) ** 2;
    return s;
  };
  let theta = problem.initial.slice();
  let r = problem.residuals(theta);
  let cost = sq(r) + priorTerm(theta);
  let lambda = 1e-3;
  let J = jacobian(problem, theta, r);
  let it = 0;
  for (; it < (problem.maxIterations ?? 50) && P > 0; it++) {
    const m = r.length;
    const A = new Matrix(P, P),
      g = new Matrix(P, 1);
    for (let a = 0; a < P; a++) {
      let ga = 0;
      for (let i = 0; i < m; i++) ga += J[i * P + a] * r[i];
      if (problem.priorMean && problem.priorStd) ga += (theta[a] - problem.priorMean[a]) / problem.priorStd[a] ** 2;
      g.set(a, 0, -ga);
      for (let b = 0; b < P; b++) {
        let v = 0;
        for (let i = 0; i < m; i++) v += J[i * P + a] * J[i * P + b];
        if (a === b && problem.priorStd) v += 1 / problem.priorStd[a] ** 2;
        A.set(a, b, v);
      }
    }
    // a gradient that left the reals (the law overflows at these parameters): stop where the cost was finite
    if (!A.to1DArray().every(Number.isFinite) || !g.to1DArray().every(Number.isFinite)) break;
    let improved = false;
    for (let tries = 0; tries < 10; tries++) {
      const damped = A.clone();
      for (let a = 0; a < P; a++) damped.set(a, a, A.get(a, a) * (1 + lambda) + 1e-12);
      const chol = new CholeskyDecomposition(damped);
      if (!chol.isPositiveDefinite()) {
        lambda *= 10;
        continue;
      }
      const step = chol.solve(g);
      const candidate = Float64Array.from(theta, (x, j) => x + step.get(j, 0));
      const rc = problem.residuals(candidate);
      const cc = sq(rc) + priorTerm(candidate);
      if (Number.isFinite(cc) && cc < cost) {
        const converged = cost - cc < 1e-7 * Math.max(cost, 1e-300);
        theta = candidate;
        r = rc;
        cost = cc;
        lambda = Math.max(lambda / 3, 1e-9);
        improved = true;
        if (converged) it = Number.MAX_SAFE_INTEGER - 1;
        break;
      }
      lambda *= 10;
    }
    if (!improved) break;
    J = jacobian(problem, theta, r);
  }
  const m = r.length;
  const jtj = new Float64Array(P * P);
  for (let a = 0; a < P; a++)
    for (let b = 0; b < P; b++) for (let i = 0; i < m; i++) jtj[a * P + b] += J[i * P + a] * J[i * P + b];
  return { theta, sse: sq(r), jtj, iterations: Math.min(it, problem.maxIterations ?? 50) };
}

/**
 * log det of a symmetric positive definite P x P matrix; +Infinity when it is not, or holds a value that is not
 * finite (a law leaving the reals near its fit). Its callers subtract half of it from a Laplace evidence, which
 * is then -Infinity: a law whose curvature is undefined there cannot win.
 */
export function logDet(a: Float64Array, P: number): number {
  if (P === 0) return 0;
  if (!a.every(Number.isFinite)) return Infinity;
  const M = new Matrix(P, P);
  for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) M.set(i, j, a[i * P + j]);
  const chol = new CholeskyDecomposition(M);
  if (!chol.isPositiveDefinite()) return Infinity;
  const L = chol.lowerTriangularMatrix;
  let s = 0;
  for (let i = 0; i < P; i++) s += 2 * Math.log(L.get(i, i));
  return s;
}
