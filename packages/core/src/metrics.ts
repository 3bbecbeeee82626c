// The metrics of docs/metrics.md, per horizon h = 1..H, pooled over the B forecast windows of a job.
import { block, forEachTransition, innerSize, type Episodes, type Tensor } from './data';
import { isCategorical, type TensorSpec } from './spec';

/** metric -> horizon ("1", "2", ...) -> value (null where undefined, e.g. skill when persistence is exact). */
export type HorizonMetrics = Record<string, Record<string, number | null>>;

/**
 * Per-dimension std of a view over episodes' observations (every step, padding left out), floored at 10% of the
 * view's mean std. The metric's scale is this over the test split's observations (`metricScale`, docs/metrics.md).
 */
export function viewStd(episodes: Episodes, view: string, maskView?: string): Float32Array {
  const v = episodes.views[view];
  const D = innerSize(v, 2);
  const mask = maskView ? episodes.views[maskView] : undefined;
  const per = mask ? D / innerSize(mask, 2) : D;
  const sum = new Float64Array(D),
    sq = new Float64Array(D),
    n = new Float64Array(D);
  const visit = (e: number, t: number) => {
    const x = block(v, e, t);
    const m = mask ? block(mask, e, t) : null;
    for (let d = 0; d < D; d++) {
      if (m && m[Math.floor(d / per)] === 0) continue;
      sum[d] += x[d];
      sq[d] += x[d] * x[d];
      n[d]++;
    }
  };
  forEachTransition(episodes, (e, t) => {
    visit(e, t);
  });
  // the final observation of each episode too
  for (let e = 0; e < v.shape[0]; e++) visit(e, episodes.lengths ? episodes.lengths[e] : v.shape[1] - 1);
  const std = new Float32Array(D);
  let total = 0,
    positive = 0;
  for (let d = 0; d < D; d++) {
    const mean = n[d] ? sum[d] / n[d] : 0;
    std[d] = n[d] ? Math.sqrt(Math.max(0, sq[d] / n[d] - mean * mean)) : 0;
    if (std[d] > 0) {
      total += std[d];
      positive++;
    }
  }
  const floor = positive ? (0.1 * total) / positive : 1;
  for (let d = 0; d < D; d++) std[d] = Math.max(std[d], floor);
  return std;
}

export interface ScoreInput {
  spec: TensorSpec;
  /** Noise-free targets [B, H, ...viewShape]. */
  truth: Tensor;
  /** The mask view of the targets [B, H, ...maskShape], when the view has one. */
  mask?: Tensor;
  forecast: { mean: Tensor; std?: Tensor };
  /** The last observed step of each window [B, ...viewShape]: the persistence forecast for every h. */
  lastObserved: Tensor;
  /** Per-dimension scale from `metricScale`. */
  scale: Float32Array;
}

/** mse, skill and, by kind, psnr / accElement / accStep / nll, per horizon. */
export function scoreForecast({ spec, truth, mask, forecast, lastObserved, scale }: ScoreInput): HorizonMetrics {
  const [B, H] = truth.shape;
  const D = innerSize(truth, 2);
  const per = mask ? D / innerSize(mask, 2) : D;
  const categorical = isCategorical(spec);
  const vocab = spec.vocab ?? 0;
  const out: HorizonMetrics = { mse: {}, skill: {} };
  if (spec.kind === 'image') out.psnr = {};
  if (categorical) Object.assign(out, { accElement: {}, accStep: {} });
  if (forecast.std) out.nll = {};
  const toClass = (x: number) => Math.min(vocab - 1, Math.max(0, Math.round(x)));

  for (let h = 0; h < H; h++) {
    let count = 0,
      err = 0,
      persErr = 0,
      rawErr = 0,
      nll = 0;
    let elemRight = 0,
      stepsRight = 0,
      persStepsRight = 0;
    for (let b = 0; b < B; b++) {
      const y = block(truth, b, h),
        p = block(forecast.mean, b, h),
        last = block(lastObserved, b);
      const s = forecast.std ? block(forecast.std, b, h) : null;
      const m = mask ? block(mask, b, h) : null;
      let allRight = true,
        persAllRight = true;
      for (let d = 0; d < D; d++) {
        if (m && m[Math.floor(d / per)] === 0) continue;
        count++;
        const e = (p[d] - y[d]) / scale[d],
          pe = (last[d] - y[d]) / scale[d];
        err += e * e;
        persErr += pe * pe;
        rawErr += (p[d] - y[d]) * (p[d] - y[d]);
        if (s) {
          const sigma = Math.max(s[d] / scale[d], 1e-6);
          nll += 0.5 * Math.log(2 * Math.PI * sigma * sigma) + (0.5 * e * e) / (sigma * sigma);
        }
        if (categorical) {
          const right = toClass(p[d]) === toClass(y[d]);
          if (right) elemRight++;
          else allRight = false;
          if (toClass(last[d]) !== toClass(y[d])) persAllRight = false;
        }
      }
      if (allRight) stepsRight++;
      if (persAllRight) persStepsRight++;
    }
    const key = String(h + 1);
    const n = Math.max(count, 1);
    out.mse[key] = err / n;
    if (out.psnr) out.psnr[key] = 10 * Math.log10(1 / Math.max(rawErr / n, 1e-10));
    if (out.nll) out.nll[key] = nll / n;
    if (categorical) {
      const acc = stepsRight / B,
        persAcc = persStepsRight / B;
      out.accElement[key] = elemRight / n;
      out.accStep[key] = acc;
      out.skill[key] = persAcc < 1 ? 1 - (1 - acc) / (1 - persAcc) : null;
    } else {
      out.skill[key] = persErr > 0 ? 1 - err / persErr : null;
    }
  }
  return out;
}

/** Genie's ΔtPSNR: PSNR at step t of rollouts with the true actions minus with random actions. */
export function deltaPsnr(withTrueActions: HorizonMetrics, withRandomActions: HorizonMetrics, t = 4): number | null {
  const a = withTrueActions.psnr?.[String(t)],
    b = withRandomActions.psnr?.[String(t)];
  return a == null || b == null ? null : a - b;
}

/**
 * Data efficiency: trapezoid of clip(skill at h = 1, 0, 1) over log2(budget), divided by the grid's
 * log2 width. `points` must cover the whole grid; null when any budget is missing or has no skill.
 */
export function learningCurveAuc(
  points: ReadonlyArray<{ budget: number; skill: number | null }>,
  grid: readonly number[],
): number | null {
  if (grid.length < 2) return null;
  const byBudget = new Map(points.map((p) => [p.budget, p.skill]));
  const ys: number[] = [];
  for (const b of grid) {
    const s = byBudget.get(b);
    if (s == null) return null;
    ys.push(Math.min(1, Math.max(0, s)));
  }
  const xs = grid.map((b) => Math.log2(b));
  let area = 0;
  for (let i = 1; i < xs.length; i++) area += ((ys[i] + ys[i - 1]) / 2) * (xs[i] - xs[i - 1]);
  return area / (xs[xs.length - 1] - xs[0]);
}

/** Mean and standard error (sample std / sqrt(n); 0 for one value) of the non-null values. */
export function meanAndStandardError(
  values: ReadonlyArray<number | null | undefined>,
): { mean: number; se: number; n: number } | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length === 1) return { mean, se: 0, n: 1 };
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, se: Math.sqrt(variance / xs.length), n: xs.length };
}
