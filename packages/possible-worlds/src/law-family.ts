// Fitting a parametric law family (a scenario's stated LawFamily, or a law the equation search found) to
// training episodes, its evidence, and the world that forecasts with it.
//
// Parameters are of two kinds (ParameterSpec.perEpisode): shared by the whole world (fitted once, on every
// episode), or drawn per episode (fitted per training episode, then inferred in context from a forecast
// window's history, with the spread over training episodes as the prior). The fit alternates the two:
// per-episode parameters episode by episode with the shared ones fixed, then the shared ones on all episodes.
// Evidence: Laplace, with each parameter's prior a Gaussian of one half-width of its stated range around the
// range's centre; the Hessian couples the shared parameters with every episode's own, and its log determinant
// is taken through the Schur complement (sum over episodes of their own blocks, plus the shared block
// conditioned on them). BIC: log n_e / 2 per per-episode parameter of episode e, log n / 2 per shared one.
import type { LawFamily, Transition } from '@worldbench/core';
import type { StepFn } from './filter';
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { jacobian, levenbergMarquardt, logDet } from './lm';
import type { CandidateWorld } from './worlds';

/** Pseudo-episodes of the stated prior in the in-context prior over per-episode parameters. */
const PRIOR_EPISODES = 2;

/** Alternations of (per-episode fits, shared fit) at most. */
const ROUNDS = 2;
/** Episodes the shared parameters are fitted on, at most. */
const SHARED_EPISODES = 12;

export interface FamilyFit {
  /** Every episode's full parameter vector [E][P] (shared parameters equal in all of them). */
  perEpisode: number[][];
  /** Per parameter: the in-context prior's mean and std (a shared parameter: its fitted value, std 0). */
  mean: number[];
  std: number[];
  /**
   * Per component, the residual noise variance at the fit (0 for a component the law predicts exactly, left out of the
   * evidence).
   */
  noiseVariance: number[];
  logEvidence: number;
}

/** Which parameters are per episode (inferred in context) and which shared. */
export function parameterKinds(family: LawFamily): { own: number[]; shared: number[] } {
  const own: number[] = [],
    shared: number[] = [];
  family.parameters.forEach((p, j) => (p.perEpisode ? own : shared).push(j));
  return { own, shared };
}

/**
 * A family's step under theta, for forecasts. A parameter whose whole prior range is positive (a stiffness, a
 * drag coefficient, a length) is a magnitude and is held above a thousandth of the range's low end: a window
 * this law does not explain (e.g. the steps just after a live shift, the speed growing under "drag") can pull
 * its in-context estimate below zero, and a negative drag coefficient makes the drag flow run away (speeds of
 * -17, -23 from a history at 1.3); a length of 0 would divide by zero.
 */
export function familyStep(family: LawFamily, theta: ArrayLike<number>): StepFn {
  const bounded = Float64Array.from(theta, (v, j) => {
    const lo = family.parameters[j].range[0];
    return lo > 0 ? Math.max(1e-3 * lo, v) : v;
  });
  return (_prev, cur, action, context) =>
    Float64Array.from(
      family.predict(bounded, {
        current: Float32Array.from(cur),
        action: action.length ? Float32Array.from(action) : null,
        context: context ?? {},
      }),
    );
}

/** The stated prior: per parameter, a Gaussian of one half-width of its range around the range's centre. */
function priorOf(family: LawFamily): { mean: Float64Array; std: Float64Array } {
  return {
    mean: Float64Array.from(family.parameters, (p) => (p.range[0] + p.range[1]) / 2),
    std: Float64Array.from(family.parameters, (p) => Math.max((p.range[1] - p.range[0]) / 2, 1e-3)),
  };
}

/** A transition, with the components real at both steps marked where some are padding (left out of every residual). */
export type Row = Transition & { valid?: Uint8Array };

/** Scalars a row's residuals count: its valid components. */
const scalarsOf = (t: Row) => (t.valid ? t.valid.reduce((s, v) => s + v, 0) : t.current.length);

/**
 * Residuals of one episode's transitions under the full parameter vector theta, each divided by its
 * component's noise std (padding, and components with no noise, left out).
 */
function episodeResiduals(family: LawFamily, rows: Row[], sigma: ArrayLike<number>) {
  return (theta: Float64Array) => {
    const out: number[] = [];
    for (const t of rows) {
      const p = family.predict(theta, t);
      for (let d = 0; d < p.length; d++)
        if ((!t.valid || t.valid[d]) && sigma[d] > 0) out.push((t.next![d] - p[d]) / sigma[d]);
    }
    return Float64Array.from(out);
  };
}

/** Per component, the sum of squared residuals and the count of valid entries over every episode under theta_e. */
function componentErrors(
  family: LawFamily,
  byEpisode: Row[][],
  thetas: Float64Array[],
  D: number,
): { sse: Float64Array; count: Float64Array } {
  const sse = new Float64Array(D),
    count = new Float64Array(D);
  byEpisode.forEach((rows, e) => {
    for (const t of rows) {
      const p = family.predict(thetas[e], t);
      for (let d = 0; d < D; d++)
        if (!t.valid || t.valid[d]) {
          sse[d] += (t.next![d] - p[d]) ** 2;
          count[d]++;
        }
    }
  });
  return { sse, count };
}

/** The full vector `base` with `values` written at `indices`. */
function withValues(base: Float64Array, indices: readonly number[], values: ArrayLike<number>): Float64Array {
  const out = base.slice();
  indices.forEach((j, i) => (out[j] = values[i]));
  return out;
}

const pick = (v: ArrayLike<number>, indices: readonly number[]) => Float64Array.from(indices, (j) => v[j]);

/** MAP of the parameters at `indices` of one episode (the others fixed at theta's values), with a Gaussian prior. */
function fitSubset(
  family: LawFamily,
  rows: Row[],
  sigma: ArrayLike<number>,
  theta: Float64Array,
  indices: readonly number[],
  priorMean: Float64Array,
  priorStd: Float64Array,
  maxIterations?: number,
): Float64Array {
  if (!indices.length) return theta;
  const residuals = episodeResiduals(family, rows, sigma);
  const r = levenbergMarquardt({
    residuals: (sub) => residuals(withValues(theta, indices, sub)),
    initial: pick(theta, indices),
    priorMean: pick(priorMean, indices),
    priorStd: pick(priorStd, indices),
    maxIterations,
  });
  return withValues(theta, indices, r.theta);
}

/**
 * MAP of the shared parameters, each episode's own parameters fixed, on at most SHARED_EPISODES episodes
 * spread over the data (shared parameters are few and well determined long before every episode is read;
 * the fit's cost is the integration of every step, again for every parameter).
 */
function fitShared(
  family: LawFamily,
  byEpisode: Row[][],
  sigma: ArrayLike<number>,
  thetas: Float64Array[],
  shared: readonly number[],
  priorMean: Float64Array,
  priorStd: Float64Array,
): Float64Array {
  const E = byEpisode.length,
    used = Math.min(E, SHARED_EPISODES);
  const chosen = Array.from({ length: used }, (_, i) => Math.floor((i * E) / used));
  const parts = chosen.map((e) => ({ e, f: episodeResiduals(family, byEpisode[e], sigma) }));
  const residuals = (sub: Float64Array) => {
    const all: number[] = [];
    for (const { e, f } of parts) all.push(...f(withValues(thetas[e], shared, sub)));
    return Float64Array.from(all);
  };
  return levenbergMarquardt({
    residuals,
    initial: pick(thetas[0], shared),
    priorMean: pick(priorMean, shared),
    priorStd: pick(priorStd, shared),
  }).theta;
}

const sumSquares = (r: Float64Array) => r.reduce((s, x) => s + x * x, 0);

export function fitFamily(
  family: LawFamily,
  byEpisode: Row[][],
  evidence: 'marginal' | 'bic',
  noiseGuess: number,
): FamilyFit {
  const P = family.parameters.length;
  const { own, shared } = parameterKinds(family);
  const prior = priorOf(family);
  const wide = prior.std.map((s) => s * 4); // the fit's prior: 4 half-widths, so that the data decide
  // residuals scaled by a guess of the noise (the observation noise of current and next step), so that the weak
  // prior weighs as it should; the noise level of each component is then read off the fit
  const D = byEpisode.find((rows) => rows.length)?.[0].current.length ?? 0;
  const guess = new Float64Array(D).fill(noiseGuess);
  let thetas: Float64Array[] = byEpisode.map(() => prior.mean.slice());
  let cost = Infinity;
  for (let round = 0; round < (shared.length ? ROUNDS : 1); round++) {
    thetas = byEpisode.map((rows, e) => fitSubset(family, rows, guess, thetas[e], own, prior.mean, wide));
    if (shared.length) {
      const values = fitShared(family, byEpisode, guess, thetas, shared, prior.mean, wide);
      thetas = thetas.map((t) => withValues(t, shared, values));
    }
    const next = byEpisode.reduce((s, rows, e) => s + sumSquares(episodeResiduals(family, rows, guess)(thetas[e])), 0);
    const converged = cost - next < 1e-6 * Math.max(next, 1e-12);
    cost = next;
    if (converged) break;
  }
  // each component its own noise level (a position's residual is not a velocity's); a component the law
  // predicts exactly (it never changes) has none and is left out of the evidence, as the generic laws do
  const { sse, count } = componentErrors(family, byEpisode, thetas, D);
  const variance = Array.from(sse, (v, d) => (v > 1e-18 * Math.max(count[d], 1) ? Math.max(v / count[d], 1e-14) : 0));
  const sigma = variance.map(Math.sqrt);
  let logEvidence = 0;
  variance.forEach((v, d) => v > 0 && (logEvidence += -0.5 * count[d] * (Math.log(2 * Math.PI * v) + 1)));
  if (P) logEvidence += occam(family, byEpisode, sigma, thetas, own, shared, prior, evidence);
  // the in-context prior: the spread of the per-episode parameters over training episodes, shrunk toward the
  // stated prior with PRIOR_EPISODES pseudo-episodes (two training episodes alone would give a spread near 0)
  const E = thetas.length;
  const mean = Array.from({ length: P }, (_, j) =>
    family.parameters[j].perEpisode
      ? (thetas.reduce((s, t) => s + t[j], 0) + PRIOR_EPISODES * prior.mean[j]) / (E + PRIOR_EPISODES)
      : (thetas[0]?.[j] ?? prior.mean[j]),
  );
  const std = Array.from({ length: P }, (_, j) =>
    family.parameters[j].perEpisode
      ? Math.sqrt(
          (thetas.reduce((s, t) => s + (t[j] - mean[j]) ** 2, 0) + PRIOR_EPISODES * prior.std[j] ** 2) /
            (E + PRIOR_EPISODES),
        )
      : 0,
  );
  return { perEpisode: thetas.map((t) => Array.from(t)), mean, std, noiseVariance: variance, logEvidence };
}

/**
 * The Occam factor of the parameters (log prior at the fit + P/2 log 2 pi - 1/2 log det H), or BIC's penalty.
 * H couples the shared parameters with each episode's own: log det H = sum_e log det C_e + log det S, with C_e
 * episode e's own block and S = H_ss - sum_e B_e^T C_e^-1 B_e the shared block conditioned on them.
 */
function occam(
  family: LawFamily,
  byEpisode: Row[][],
  sigma: ArrayLike<number>,
  thetas: Float64Array[],
  own: number[],
  shared: number[],
  prior: { mean: Float64Array; std: Float64Array },
  evidence: 'marginal' | 'bic',
): number {
  const rowsOf = (rows: Row[]) => rows.reduce((m, t) => m + scalarsOf(t), 0); // (BIC counts every valid scalar)
  if (evidence === 'bic') {
    const n = byEpisode.reduce((s, rows) => s + rowsOf(rows), 0);
    return (
      -0.5 * own.length * byEpisode.reduce((s, rows) => s + Math.log(Math.max(rowsOf(rows), 1)), 0) -
      0.5 * shared.length * Math.log(Math.max(n, 1))
    );
  }
  const logPrior = (j: number, v: number) =>
    -0.5 * Math.log(2 * Math.PI * prior.std[j] ** 2) - 0.5 * ((v - prior.mean[j]) / prior.std[j]) ** 2;
  const S = shared.length,
    O = own.length,
    order = [...shared, ...own];
  let total = 0;
  const schur = new Float64Array(S * S);
  shared.forEach((j, a) => (schur[a * S + a] += 1 / prior.std[j] ** 2));
  byEpisode.forEach((rows, e) => {
    // J of this episode's residuals in (shared..., own...) at the fit
    const residuals = episodeResiduals(family, rows, sigma);
    const f = (sub: Float64Array) => residuals(withValues(thetas[e], order, sub));
    const at = pick(thetas[e], order);
    const J = jacobian({ residuals: f }, at, f(at));
    const m = J.length / order.length,
      U = order.length;
    const dot = (a: number, b: number) => {
      let s = 0;
      for (let i = 0; i < m; i++) s += J[i * U + a] * J[i * U + b];
      return s;
    };
    for (const j of own) total += logPrior(j, thetas[e][j]);
    const C = new Float64Array(O * O);
    for (let a = 0; a < O; a++)
      for (let b = 0; b < O; b++) C[a * O + b] = dot(S + a, S + b) + (a === b ? 1 / prior.std[own[a]] ** 2 : 0);
    total += 0.5 * O * Math.log(2 * Math.PI) - 0.5 * logDet(C, O);
    for (let a = 0; a < S; a++) for (let b = 0; b < S; b++) schur[a * S + b] += dot(a, b);
    if (S && O) {
      // - B^T C^-1 B, B [O, S]
      const B = new Float64Array(O * S);
      for (let a = 0; a < O; a++) for (let b = 0; b < S; b++) B[a * S + b] = dot(S + a, b);
      const CinvB = solveSymmetric(C, O, B, S);
      for (let a = 0; a < S; a++)
        for (let b = 0; b < S; b++) {
          let s = 0;
          for (let k = 0; k < O; k++) s += B[k * S + a] * CinvB[k * S + b];
          schur[a * S + b] -= s;
        }
    }
  });
  if (S) {
    for (let a = 0; a < S; a++)
      for (let b = 0; b < a; b++) schur[a * S + b] = schur[b * S + a] = 0.5 * (schur[a * S + b] + schur[b * S + a]);
    for (const j of shared) total += logPrior(j, thetas[0][j]);
    total += 0.5 * S * Math.log(2 * Math.PI) - 0.5 * logDet(schur, S);
  }
  return total;
}

/** X = A^-1 B for a symmetric positive definite A [n, n] and B [n, k], row-major (Cholesky). */
function solveSymmetric(A: Float64Array, n: number, B: Float64Array, k: number): Float64Array {
  if (!A.every(Number.isFinite)) return new Float64Array(n * k); // the evidence is -Infinity already (logDet)
  const a = new Matrix(n, n),
    b = new Matrix(n, k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) a.set(i, j, A[i * n + j]);
    for (let j = 0; j < k; j++) b.set(i, j, B[i * k + j]);
  }
  const chol = new CholeskyDecomposition(a);
  return chol.isPositiveDefinite() ? Float64Array.from(chol.solve(b).to1DArray()) : new Float64Array(n * k);
}

/** A fitted family as a candidate world: it forecasts with its per-episode parameters inferred in context. */
export function familyWorld(
  family: LawFamily,
  fit: FamilyFit,
  D: number,
  extra: { statement?: string; details?: () => Record<string, unknown>; toJSON?: () => unknown } = {},
): CandidateWorld {
  const P = family.parameters.length;
  const { own } = parameterKinds(family);
  const meanTheta = Float64Array.from(fit.mean);
  // shared: unused as a prior
  const stdTheta = Float64Array.from(fit.std, (s, j) => (family.parameters[j].perEpisode ? s : 1));
  const sigma = fit.noiseVariance.map(Math.sqrt);
  const stated = family.parameters
    .map((p, j) => `${p.name} = ${fit.mean[j].toPrecision(3)}${p.perEpisode ? ` +- ${fit.std[j].toPrecision(2)}` : ''}`)
    .join(', ');
  /** The window's own parameters from its transitions, with the training episodes' spread as the prior. */
  const inferOwn = (rows: Row[]) => fitSubset(family, rows, sigma, meanTheta, own, meanTheta, stdTheta);
  return {
    id: family.id,
    statement: extra.statement ?? `${family.statement}${P ? `; ${stated} (over training episodes)` : ''}`,
    k: own.length * fit.perEpisode.length + (P - own.length),
    logEvidence: fit.logEvidence,
    noiseVariance: Float64Array.from({ length: D }, (_, d) => fit.noiseVariance[d] ?? 0),
    usesPrevious: false,
    step: familyStep(family, meanTheta),
    inContext(obs, actions, context) {
      if (!own.length || obs.length < 2) return familyStep(family, meanTheta);
      const rows: Row[] = [];
      for (let t = 0; t + 1 < obs.length; t++)
        rows.push({
          current: Float32Array.from(obs[t]),
          next: Float32Array.from(obs[t + 1]),
          action: actions[t]?.length ? Float32Array.from(actions[t]) : null,
          context,
        });
      return familyStep(family, inferOwn(rows));
    },
    heldOutLogLik: (byEpisode) => {
      // Laplace per held-out episode over its own parameters, with the training episodes' spread as the prior
      let ll = 0;
      for (const rows of byEpisode) {
        const theta = inferOwn(rows);
        const residuals = episodeResiduals(family, rows, sigma);
        for (const t of rows as Row[])
          for (let d = 0; d < D; d++)
            if ((!t.valid || t.valid[d]) && sigma[d] > 0) ll += -0.5 * Math.log(2 * Math.PI * fit.noiseVariance[d]);
        ll += -0.5 * sumSquares(residuals(theta));
        if (!own.length) continue;
        const f = (sub: Float64Array) => residuals(withValues(theta, own, sub));
        const J = jacobian({ residuals: f }, pick(theta, own), f(pick(theta, own)));
        const O = own.length,
          m2 = J.length / O;
        const H = new Float64Array(O * O);
        for (let a = 0; a < O; a++)
          for (let b = 0; b < O; b++) {
            let s = a === b ? 1 / stdTheta[own[a]] ** 2 : 0;
            for (let i = 0; i < m2; i++) s += J[i * O + a] * J[i * O + b];
            H[a * O + b] = s;
          }
        for (const j of own)
          ll += -0.5 * Math.log(2 * Math.PI * stdTheta[j] ** 2) - 0.5 * ((theta[j] - meanTheta[j]) / stdTheta[j]) ** 2;
        ll += 0.5 * O * Math.log(2 * Math.PI) - 0.5 * logDet(H, O);
      }
      return ll;
    },
    episodeParams: own.length
      ? {
          mean: pick(meanTheta, own),
          std: pick(stdTheta, own),
          stepWith: (theta) => familyStep(family, withValues(meanTheta, own, theta)),
        }
      : undefined,
    details:
      extra.details ??
      (() => ({
        parameters: Object.fromEntries(
          family.parameters.map((p, j) => [p.name, { mean: fit.mean[j], std: fit.std[j], perEpisode: p.perEpisode }]),
        ),
        noiseStd: sigma,
      })),
    toJSON: extra.toJSON ?? (() => ({ kind: 'family', id: family.id, fit, D })),
  };
}
