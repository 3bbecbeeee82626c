// Filtering the noisy history through a law: the K observed steps are not copied but re-estimated as the
// trajectory that best explains them under the law (a Gauss-Newton smoother over the K states, weighing
// observation noise against the law's own residual noise).
import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/** One step of a law: x_{t+1} from (x_{t-1}, x_t, a_t). */
export type StepFn = (
  prev: Float64Array,
  cur: Float64Array,
  action: Float64Array,
  context?: Record<string, Float32Array>,
) => Float64Array;

export interface SmoothOptions {
  /** Observation noise variance per dimension (0: the observations are exact and are returned as they are). */
  observationVariance: Float64Array;
  /** The law's process noise variance per dimension. */
  processVariance: Float64Array;
  /** Dimensions to leave as observed (padding). */
  frozen?: Uint8Array;
  iterations?: number;
  /**
   * The law's per-episode parameters, estimated jointly with the states (they are as uncertain as the states
   * when inferred from K noisy steps): the step is then stepWith(theta), and theta gets a Gaussian prior.
   */
  params?: {
    initial: Float64Array;
    priorMean: Float64Array;
    priorStd: Float64Array;
    stepWith(theta: Float64Array): StepFn;
  };
}

/**
 * obs: K observed states [K][D]; actions: the K-1 actions between them. Returns the smoothed states [K][D].
 * Residuals: (obs_t - s_t) / sigma_obs for every t, and (s_{t+1} - step(s_{t-1}, s_t, a_t)) / sigma_proc for
 * t = 0..K-2 (s_{-1} := s_0, so a velocity law sees no velocity at the first step and is not constrained there).
 */
export function smoothHistory(
  obs: Float64Array[],
  actions: Float64Array[],
  step: StepFn,
  opts: SmoothOptions,
  usesPrevious: boolean,
): Float64Array[] {
  return smoothJointly(obs, actions, step, opts, usesPrevious).states;
}

/** smoothHistory, also returning the jointly estimated parameters (opts.params), if any. */
export function smoothJointly(
  obs: Float64Array[],
  actions: Float64Array[],
  step: StepFn,
  opts: SmoothOptions,
  usesPrevious: boolean,
): { states: Float64Array[]; theta: Float64Array | null } {
  const K = obs.length,
    D = obs[0].length;
  const theta = opts.params ? opts.params.initial.slice() : null;
  const P = theta ? theta.length : 0;
  if (K < 2 || opts.observationVariance.every((v) => v === 0)) return { states: obs.map((o) => o.slice()), theta };
  const free: number[] = [];
  for (let d = 0; d < D; d++) if (opts.observationVariance[d] > 0 && !opts.frozen?.[d]) free.push(d);
  if (free.length === 0) return { states: obs.map((o) => o.slice()), theta };
  const s = obs.map((o) => o.slice());
  const F = free.length,
    U = K * F + P; // unknowns: the free dimensions of every step, then the parameters
  const currentStep = (): StepFn => (opts.params && theta ? opts.params.stepWith(theta) : step);
  const wObs = free.map((d) => 1 / Math.sqrt(opts.observationVariance[d]));
  const wProc = Array.from({ length: D }, (_, d) => 1 / Math.sqrt(Math.max(opts.processVariance[d], 1e-12)));
  const firstDyn = usesPrevious ? 1 : 0;
  const residuals = (): number[] => {
    const r: number[] = [];
    for (let t = 0; t < K; t++) free.forEach((d, j) => r.push((obs[t][d] - s[t][d]) * wObs[j]));
    const f = currentStep();
    for (let t = firstDyn; t < K - 1; t++) {
      const pred = f(s[Math.max(t - 1, 0)], s[t], actions[t]);
      for (let d = 0; d < D; d++) r.push((s[t + 1][d] - pred[d]) * wProc[d]);
    }
    if (opts.params && theta)
      for (let j = 0; j < P; j++) r.push((theta[j] - opts.params.priorMean[j]) / opts.params.priorStd[j]);
    return r;
  };
  for (let iter = 0; iter < (opts.iterations ?? (P ? 6 : 3)); iter++) {
    const r0 = residuals();
    const m = r0.length;
    const J = new Float64Array(m * U); // d r / d unknown, by forward differences
    for (let t = 0; t < K; t++)
      free.forEach((d, j) => {
        const u = t * F + j;
        const h = 1e-6 * Math.max(1, Math.abs(s[t][d]));
        const keep = s[t][d];
        s[t][d] = keep + h;
        const r1 = residuals();
        s[t][d] = keep;
        for (let i = 0; i < m; i++) J[i * U + u] = (r1[i] - r0[i]) / h;
      });
    for (let j = 0; j < P; j++) {
      const u = K * F + j;
      const h = 1e-6 * Math.max(1, Math.abs(theta![j]));
      const keep = theta![j];
      theta![j] = keep + h;
      const r1 = residuals();
      theta![j] = keep;
      for (let i = 0; i < m; i++) J[i * U + u] = (r1[i] - r0[i]) / h;
    }
    // Gauss-Newton: (J^T J) delta = -J^T r
    const JtJ = new Matrix(U, U),
      Jtr = new Matrix(U, 1);
    for (let a = 0; a < U; a++) {
      let g = 0;
      for (let i = 0; i < m; i++) g += J[i * U + a] * r0[i];
      Jtr.set(a, 0, -g);
      for (let b = a; b < U; b++) {
        let v = 0;
        for (let i = 0; i < m; i++) v += J[i * U + a] * J[i * U + b];
        JtJ.set(a, b, v + (a === b ? 1e-9 : 0));
        JtJ.set(b, a, v + (a === b ? 1e-9 : 0));
      }
    }
    // a law that leaves the reals somewhere near this window (a power of 0, an overflow) cannot smooth it: keep the
    // last estimate
    if (!JtJ.to1DArray().every(Number.isFinite) || !Jtr.to1DArray().every(Number.isFinite)) break;
    const chol = new CholeskyDecomposition(JtJ);
    if (!chol.isPositiveDefinite()) break;
    const delta = chol.solve(Jtr);
    let change = 0;
    for (let t = 0; t < K; t++)
      free.forEach((d, j) => {
        const v = delta.get(t * F + j, 0);
        s[t][d] += v;
        change += v * v;
      });
    for (let j = 0; j < P; j++) theta![j] += delta.get(K * F + j, 0);
    if (change < 1e-20) break;
  }
  return { states: s, theta };
}
