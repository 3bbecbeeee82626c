// Evidence for a hypothesis: the exact marginal likelihood of a linear-Gaussian regression (Normal-Inverse-
// Gamma prior), BIC, the prior over sparse supports, and the posterior over hypotheses. Everything works from
// sufficient statistics (X^T X, X^T y, y^T y, n), so sparse sub-models are scored without touching the data again.
import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/** log Gamma(x) for x > 0 (Lanczos, g = 7; |error| < 1e-13 on the range used here). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Prior of the Bayesian regression: w | s2 ~ N(0, s2 / alpha I), s2 ~ InvGamma(a0, b0). */
export interface RegressionPrior {
  alpha: number;
  a0: number;
  b0: number;
}

/** Features are standardised before regression, so alpha = 1 is a unit-scale prior on each coefficient. */
export const DEFAULT_PRIOR: RegressionPrior = { alpha: 1, a0: 1e-2, b0: 1e-6 };

export interface RegressionFit {
  /** Posterior mean of the coefficients [p]. */
  coef: Float64Array;
  /** Posterior std of the coefficients [p] (using the posterior mean of s2); zeros unless asked for. */
  coefStd: Float64Array;
  /** Residual sum of squares at the posterior mean. */
  rss: number;
  /** Posterior mean of the noise variance. */
  noiseVariance: number;
  /** log p(y | X, hypothesis), exact under the prior. */
  logMarginal: number;
  /** Maximised log-likelihood (noise variance rss / n), for BIC. */
  logLikMax: number;
  n: number;
  p: number;
}

/**
 * Bayesian linear regression of one target on p features from sufficient statistics. p may be 0 (the target
 * is pure noise around a fixed offset already subtracted).
 */
export function bayesianRegression(
  gram: Float64Array,
  xty: Float64Array,
  yty: number,
  n: number,
  p: number,
  prior: RegressionPrior = DEFAULT_PRIOR,
  withStd = false,
): RegressionFit {
  const an = prior.a0 + n / 2;
  let coef = new Float64Array(p),
    coefStd = new Float64Array(p),
    logDetRatio = 0,
    quad = 0;
  if (p > 0) {
    const A = new Matrix(p, p);
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) A.set(i, j, gram[i * p + j] + (i === j ? prior.alpha : 0));
    const chol = new CholeskyDecomposition(A);
    if (!chol.isPositiveDefinite()) throw new Error('bayesianRegression: posterior precision is not positive definite');
    const L = chol.lowerTriangularMatrix;
    let logDetA = 0;
    for (let i = 0; i < p; i++) logDetA += 2 * Math.log(L.get(i, i));
    logDetRatio = p * Math.log(prior.alpha) - logDetA; // log det(Lambda0) - log det(Lambda_n)
    const mu = chol.solve(Matrix.columnVector(Array.from(xty)));
    coef = Float64Array.from(mu.to1DArray());
    for (let i = 0; i < p; i++) quad += coef[i] * xty[i];
    if (withStd) {
      // diagonal of A^{-1}, scaled by the posterior mean noise variance
      const inv = chol.solve(Matrix.eye(p));
      const s2 = (prior.b0 + 0.5 * Math.max(yty - quad, 0)) / Math.max(an - 1, 1e-9);
      for (let i = 0; i < p; i++) coefStd[i] = Math.sqrt(Math.max(inv.get(i, i) * s2, 0));
    }
  }
  const bn = prior.b0 + 0.5 * Math.max(yty - quad, 0);
  let rss = yty;
  if (p > 0) {
    let xtxq = 0;
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) xtxq += coef[i] * gram[i * p + j] * coef[j];
    rss = Math.max(yty - 2 * quad + xtxq, 0);
  }
  const logMarginal =
    -0.5 * n * Math.log(2 * Math.PI) +
    0.5 * logDetRatio +
    prior.a0 * Math.log(prior.b0) -
    an * Math.log(bn) +
    logGamma(an) -
    logGamma(prior.a0);
  const s2max = Math.max(rss / Math.max(n, 1), 1e-300);
  const logLikMax = -0.5 * n * (Math.log(2 * Math.PI * s2max) + 1);
  return { coef, coefStd, rss, noiseVariance: bn / Math.max(an - 1, 1e-9), logMarginal, logLikMax, n, p };
}

/** -BIC / 2 = max log-likelihood - (k / 2) log n: a log-evidence approximation on the same scale as logMarginal. */
export function bicEvidence(logLikMax: number, k: number, n: number): number {
  return logLikMax - 0.5 * k * Math.log(Math.max(n, 1));
}

/** log C(n, k), the number of ways to choose k of n. */
export function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/**
 * log prior of one support (a subset of the features) of size m among p candidate features: uniform over the
 * size 0..p, then uniform over the C(p, m) supports of that size. Choosing the best of many supports by their
 * marginal likelihood alone is optimistic (the winner's curse); adding this prior makes a support chosen from
 * many candidates pay for the choice, and makes its evidence comparable with that of a law whose support is
 * fixed in advance (prior 1).
 */
export function logSupportPrior(p: number, m: number): number {
  return -Math.log(p + 1) - logChoose(p, m);
}

/**
 * Posterior over hypotheses from their log evidence (uniform prior): softmax. A hypothesis whose evidence is not a
 * finite number (-Infinity, or NaN from a law that diverged) has no weight, and does not spoil the others' (a NaN
 * in the maximum made every weight NaN); when none is finite, the evidence tells them apart not at all: uniform.
 */
export function posterior(logEvidence: readonly number[]): number[] {
  const finite = logEvidence.filter(Number.isFinite);
  if (!finite.length) return logEvidence.map(() => 1 / logEvidence.length);
  const m = Math.max(...finite);
  const w = logEvidence.map((l) => (Number.isFinite(l) ? Math.exp(l - m) : 0));
  const z = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / z);
}
