// Planning over action sequences for a model's act(): draw candidate plans from a scenario's action spec, score
// them all at once (the caller's objective: an ensemble's disagreement, an information gain), and refine the
// sampling distribution towards the best (the cross-entropy method; one iteration is random shooting). Several
// independent problems (one per episode of an act() batch) are planned together, so that a model scores every
// candidate of every episode in one batched call.
//
// Shapes: P problems, C candidates per problem, H steps per plan, A elements per action. A plan's values are what
// act() returns: real values inside the action's range, or categorical value indices in [0, vocab).
import type { Rng } from './rng';
import { isCategorical, sizeOf, type TensorSpec } from './spec';

export interface PlanSearch {
  /** H: steps of every plan. */
  horizon: number;
  /** C: plans scored per problem and iteration. */
  candidates: number;
  /** Rounds of the cross-entropy method: 1 is random shooting. */
  iterations: number;
}

/** Scores of candidate plans [P, C, H, A] (flat): one per plan [P * C], higher is better; non-finite ranks last. */
export type PlanScorer = (plans: Float32Array, problems: number, candidates: number) => Promise<Float64Array>;

/** The share of an iteration's plans whose statistics make the next iteration's sampling distribution (its elites). */
const ELITE_FRACTION = 0.125;
/** Real actions: the sampling std is kept above this share of the range, so refinement never stops looking. */
const STD_FLOOR = 0.05;
/** Categorical actions: the weight of the elites' frequencies in the next probabilities (the rest: the old ones). */
const ELITE_WEIGHT = 0.7;

/** The action's bounds: its range (real; [-1, 1] where it gives none), or [0, vocab - 1] (categorical). */
function boundsOf(action: TensorSpec): [number, number] {
  if (isCategorical(action)) return [0, (action.vocab as number) - 1];
  return [action.range?.[0] ?? -1, action.range?.[1] ?? 1];
}

/**
 * The sampling distribution of P problems' plans, per (problem, step, element): real actions a Gaussian clipped to
 * the range (the first draw uniform, unless warm-started), categorical ones a categorical over the vocab.
 */
class PlanDistribution {
  readonly categorical: boolean;
  readonly vocab: number;
  readonly lo: number;
  readonly hi: number;
  /** Real: [P, H, A] means and stds; null until refined or warm-started (uniform draws). */
  private mean: Float64Array | null = null;
  private std: Float64Array | null = null;
  /** Categorical: [P, H, A, V] probabilities. */
  private readonly probs: Float64Array;

  constructor(
    action: TensorSpec,
    private readonly P: number,
    private readonly H: number,
    private readonly A: number,
  ) {
    this.categorical = isCategorical(action);
    this.vocab = this.categorical ? (action.vocab as number) : 0;
    [this.lo, this.hi] = boundsOf(action);
    this.probs = new Float64Array(P * H * A * this.vocab).fill(this.vocab ? 1 / this.vocab : 0);
  }

  /** Centres the distribution on plans [P, H, A] (a receding horizon's previous plans). */
  centreOn(plans: Float32Array): void {
    if (this.categorical) {
      const V = this.vocab;
      for (let i = 0; i < plans.length; i++) {
        for (let v = 0; v < V; v++) this.probs[i * V + v] = (1 - ELITE_WEIGHT) / V;
        this.probs[i * V + plans[i]] += ELITE_WEIGHT;
      }
    } else {
      this.mean = Float64Array.from(plans);
      this.std = new Float64Array(plans.length).fill((this.hi - this.lo) / 2);
    }
  }

  /** C plans per problem [P, C, H, A]. */
  draw(C: number, rng: Rng): Float32Array {
    const { P, H, A } = this;
    const step = H * A;
    const out = new Float32Array(P * C * step);
    for (let p = 0; p < P; p++)
      for (let c = 0; c < C; c++)
        for (let i = 0; i < step; i++) out[(p * C + c) * step + i] = this.drawOne(p * step + i, rng);
    return out;
  }

  private drawOne(at: number, rng: Rng): number {
    if (this.categorical) {
      const V = this.vocab;
      let u = rng.next();
      for (let v = 0; v < V - 1; v++) if ((u -= this.probs[at * V + v]) < 0) return v;
      return V - 1;
    }
    if (!this.mean || !this.std) return rng.uniform(this.lo, this.hi);
    return Math.min(this.hi, Math.max(this.lo, this.mean[at] + this.std[at] * rng.normal()));
  }

  /** Refits problem p's distribution to its elite plans (each [H, A], from `plans` at the given offsets). */
  refit(p: number, plans: Float32Array, elites: readonly number[]): void {
    const step = this.H * this.A;
    if (!this.categorical && (!this.mean || !this.std)) {
      this.mean = new Float64Array(this.P * step).fill((this.lo + this.hi) / 2);
      this.std = new Float64Array(this.P * step).fill((this.hi - this.lo) / 2);
    }
    for (let i = 0; i < step; i++) {
      const at = p * step + i;
      if (this.categorical) {
        const V = this.vocab;
        for (let v = 0; v < V; v++) this.probs[at * V + v] *= 1 - ELITE_WEIGHT;
        for (const e of elites) this.probs[at * V + plans[e + i]] += ELITE_WEIGHT / elites.length;
      } else {
        const mean = this.mean as Float64Array,
          std = this.std as Float64Array;
        let m = 0;
        for (const e of elites) m += plans[e + i] / elites.length;
        let s2 = 0;
        for (const e of elites) s2 += (plans[e + i] - m) ** 2 / elites.length;
        mean[at] = m;
        std[at] = Math.max(Math.sqrt(s2), STD_FLOOR * (this.hi - this.lo));
      }
    }
  }
}

/**
 * The best plan of each of P problems [P, H, A] under `score`, by the cross-entropy method: draw C plans per
 * problem, score them all in one call, keep each problem's best eighth (at least 2), refit its sampling distribution to
 * them, `iterations` times; the best plan scored wins (ties: the earlier draw). `warm` [P, H, A] (the previous step's
 * plans shifted by one, `shiftPlans`) centres the first draw and is scored as its first candidate; without it the
 * first draw is uniform over the action's range or vocab. Every draw comes from `rng`.
 */
export async function searchPlans(
  action: TensorSpec,
  problems: number,
  search: PlanSearch,
  score: PlanScorer,
  rng: Rng,
  warm: Float32Array | null = null,
): Promise<{ plans: Float32Array; scores: Float64Array }> {
  const P = problems,
    C = search.candidates,
    H = search.horizon,
    A = sizeOf(action);
  if (!(C >= 1 && H >= 1 && search.iterations >= 1))
    throw new Error(`searchPlans: candidates ${C}, horizon ${H} and iterations ${search.iterations} must be >= 1`);
  const step = H * A;
  if (warm && warm.length !== P * step)
    throw new Error(`searchPlans: warm plans hold ${warm.length} values, expected [${P}, ${H}, ${A}]`);
  const dist = new PlanDistribution(action, P, H, A);
  if (warm) dist.centreOn(warm);
  const best = new Float32Array(P * step);
  const bestScore = new Float64Array(P).fill(-Infinity);
  const elites = Math.min(C, Math.max(2, Math.ceil(C * ELITE_FRACTION)));
  for (let it = 0; it < search.iterations; it++) {
    const plans = dist.draw(C, rng); //                                             [P, C, H, A]
    if (it === 0 && warm) for (let p = 0; p < P; p++) plans.set(warm.subarray(p * step, (p + 1) * step), p * C * step);
    const scores = await score(plans, P, C); //                                     [P * C]
    if (scores.length !== P * C) throw new Error(`searchPlans: the scorer gave ${scores.length} scores for ${P * C}`);
    for (let p = 0; p < P; p++) {
      const order = Array.from({ length: C }, (_, c) => c).sort((a, b) => rank(scores, p * C, b, a) || a - b);
      const top = order[0];
      if (scores[p * C + top] > bestScore[p]) {
        bestScore[p] = scores[p * C + top];
        best.set(plans.subarray((p * C + top) * step, (p * C + top + 1) * step), p * step);
      } else if (bestScore[p] === -Infinity && it === 0)
        best.set(plans.subarray((p * C + top) * step, (p * C + top + 1) * step), p * step);
      dist.refit(
        p,
        plans,
        order.slice(0, elites).map((c) => (p * C + c) * step),
      );
    }
  }
  return { plans: best, scores: bestScore };
}

/** Compares the scores of candidates a and b of a problem (at `base`), non-finite below every finite score. */
function rank(scores: Float64Array, base: number, a: number, b: number): number {
  const x = scores[base + a],
    y = scores[base + b];
  const fx = Number.isFinite(x),
    fy = Number.isFinite(y);
  if (fx && fy) return x - y;
  return fx === fy ? 0 : fx ? 1 : -1;
}

/** Plans [P, H, A] after their first action was taken: shifted one step on, the last step repeated. */
export function shiftPlans(plans: Float32Array, problems: number, horizon: number): Float32Array {
  const step = plans.length / (problems * horizon);
  const out = new Float32Array(plans.length);
  for (let p = 0; p < problems; p++)
    for (let h = 0; h < horizon; h++) {
      const from = (p * horizon + Math.min(h + 1, horizon - 1)) * step;
      out.set(plans.subarray(from, from + step), (p * horizon + h) * step);
    }
  return out;
}
