// act()'s planner: the sequence of actions over the next few steps whose observations are expected to tell the
// leading worlds apart best, found by the cross-entropy method over action sequences; receding horizon: the first
// action is taken, and the rest of the plan warm-starts the next step's search.
//
// Why plan and not take the greedy one-step choice: where the worlds agree near the present state (a driven spring
// whose candidate laws part only at large amplitude) every single action scores the same, and only a sequence (push
// in phase with the motion for many steps) reaches where they differ.
import { isCategorical, sizeOf, type Rng, type TensorSpec } from '@worldbench/core';

/** One leading world as the planner sees it: its posterior weight, and its rollout of a plan from the present. */
export interface PlanWorld {
  weight: number;
  /** Residual noise variance per dimension (the scale a difference in predicted observations is measured in). */
  noiseVariance: Float64Array;
  /** The world's predicted states [H][D] under the plan's actions [H][A], from the window's present state. */
  rollout(actions: Float64Array[]): Float64Array[];
}

export interface PlanSettings {
  /** What a plan is scored by: `expectedInformationGain` or `expectedEvidence`. */
  objective: 'information' | 'evidence';
  /** Steps planned ahead. */
  horizon: number;
  /** Action sequences scored per iteration. */
  candidates: number;
  /** Iterations of the cross-entropy method (1: random shooting). */
  iterations: number;
}

/** The share of each iteration's sequences whose statistics make the next iteration's sampling distribution. */
const ELITE_SHARE = 1 / 8;
/** A real action's sampling std never shrinks below this share of its range (the search keeps looking around). */
const MIN_STD_SHARE = 0.05;
/** Int actions: the weight an elite's choice gets in the next iteration's probabilities (the rest stays as it was). */
const CATEGORICAL_STEP = 0.7;

/**
 * The Bhattacharyya distance between each pair of worlds' predicted observations of a plan: each world rolls its own
 * trajectory under the plan; each step's observation is Gaussian around it with the pair's noise variance (the mean
 * of the two worlds' residual variances, per dimension), independent across steps, so the distances of the steps add:
 * B_ij = sum over the plan's steps and (unfrozen) dimensions of (y_i - y_j)^2 / (8 sigma^2). Summed over the plan, not
 * taken at its end: every step of the plan is observed and counts, and a plan that passes through where the worlds
 * differ and comes back is as informative as one that ends there. Non-finite differences (a world that left the
 * reals) are left out, so every plan keeps a comparable score. [W][W], symmetric, zero diagonal.
 */
export function pairDistances(
  worlds: readonly PlanWorld[],
  paths: ReadonlyArray<readonly Float64Array[]>,
  frozen: Uint8Array,
): Float64Array[] {
  const W = worlds.length;
  const distance = Array.from({ length: W }, () => new Float64Array(W));
  for (let i = 0; i < W; i++)
    for (let j = i + 1; j < W; j++) {
      let b = 0;
      for (let h = 0; h < paths[i].length; h++)
        for (let d = 0; d < frozen.length; d++) {
          if (frozen[d]) continue;
          const variance = Math.max(0.5 * (worlds[i].noiseVariance[d] + worlds[j].noiseVariance[d]), 1e-12);
          const term = (paths[i][h][d] - paths[j][h][d]) ** 2 / (8 * variance);
          if (Number.isFinite(term)) b += term;
        }
      distance[i][j] = distance[j][i] = b;
    }
  return distance;
}

const normalised = (worlds: readonly PlanWorld[]) => {
  const total = worlds.reduce((s, w) => s + w.weight, 0);
  return worlds.map((x) => x.weight / total);
};

/**
 * Expected information gain of a plan about which held world is the truth (nats):
 *   EIG ~ -sum_i w_i ln sum_j w_j exp(-B_ij),
 * the pairwise-distance estimate of the mutual information between the world and the observations of a Gaussian
 * mixture (Kolchinsky & Tracey 2017, "Estimating mixture entropy with pairwise distances"), B from `pairDistances`:
 * a lower bound on the information, 0 when no pair is told apart and the posterior's entropy H(w) when every pair is.
 * Bounded: telling apart a world of mass 1e-3 by a thousand noise units is worth little next to telling the two
 * leading worlds apart by three; and once every held pair is told apart, every plan is worth the same.
 */
export function expectedInformationGain(worlds: readonly PlanWorld[], distance: readonly Float64Array[]): number {
  const w = normalised(worlds);
  let gain = 0;
  for (let i = 0; i < w.length; i++) {
    let s = 0;
    for (let j = 0; j < w.length; j++) s += w[j] * Math.exp(-distance[i][j]);
    gain -= w[i] * Math.log(s);
  }
  return gain;
}

/**
 * Expected evidence of a plan (nats): the posterior-weighted expected log Bayes factor between the held worlds,
 * sum_ij w_i w_j KL_ij, with KL_ij = 4 B_ij for Gaussians of equal variance: how much the plan's data is expected to
 * say against the wrong ones of each pair. Unbounded: it keeps rewarding plans that test the held worlds further
 * where they differ after the bound of `expectedInformationGain` is reached. That is the point where the held worlds
 * are not all the worlds (found from data that only covered part of the state space, they agree there and are guessed
 * beyond it): the states where the held worlds differ most are where none of them was fitted, and where a law none of
 * them is would show.
 */
export function expectedEvidence(worlds: readonly PlanWorld[], distance: readonly Float64Array[]): number {
  const w = normalised(worlds);
  let evidence = 0;
  for (let i = 0; i < w.length; i++) for (let j = 0; j < w.length; j++) evidence += w[i] * w[j] * 4 * distance[i][j];
  return evidence;
}

/** A plan: `horizon` actions, each [A]. */
export type Plan = Float64Array[];

/**
 * The plan that maximises the expected information gain, by the cross-entropy method: sample `candidates` sequences,
 * keep the best eighth, refit the sampling distribution to them (real actions: a Gaussian per step and element,
 * clipped to the action's range; int actions: a categorical per step and element), repeat `iterations` times; the
 * best sequence seen wins. `warm`: the previous step's plan, shifted by one (receding horizon), scored first and
 * centring the first iteration's sampling; without it sampling starts uniform over the range. All draws from `rng`.
 * Returns the best plan and its score.
 */
export function planExperiment(
  action: TensorSpec,
  worlds: readonly PlanWorld[],
  frozen: Uint8Array,
  settings: PlanSettings,
  rng: Rng,
  warm: Plan | null,
): { plan: Plan; score: number } {
  const A = sizeOf(action),
    H = settings.horizon;
  const categorical = isCategorical(action);
  const vocab = categorical ? (action.vocab as number) : 0;
  const [lo, hi] = action.range ?? [-1, 1];
  // sampling distributions: real, mean and std per (step, element); int, probabilities per (step, element, value)
  const mean = Array.from({ length: H }, (_, h) => (warm ? warm[h].slice() : new Float64Array(A).fill((lo + hi) / 2)));
  const std = Array.from({ length: H }, () => new Float64Array(A).fill((hi - lo) / 2));
  const probs = Array.from({ length: H }, () =>
    Array.from({ length: A }, () => new Float64Array(vocab).fill(vocab ? 1 / vocab : 0)),
  );
  if (categorical && warm)
    for (let h = 0; h < H; h++)
      for (let a = 0; a < A; a++) {
        probs[h][a].fill((1 - CATEGORICAL_STEP) / vocab);
        probs[h][a][warm[h][a]] += CATEGORICAL_STEP;
      }
  const sample = (): Plan =>
    Array.from({ length: H }, (_, h) =>
      Float64Array.from({ length: A }, (_, a) => {
        if (!categorical) return Math.min(hi, Math.max(lo, mean[h][a] + std[h][a] * rng.normal()));
        let u = rng.next(),
          v = 0;
        for (; v < vocab - 1; v++) if ((u -= probs[h][a][v]) < 0) break;
        return v;
      }),
    );
  const objective = settings.objective === 'information' ? expectedInformationGain : expectedEvidence;
  const score = (plan: Plan) =>
    objective(
      worlds,
      pairDistances(
        worlds,
        worlds.map((w) => w.rollout(plan)),
        frozen,
      ),
    );
  let best: Plan | null = null,
    bestScore = -Infinity;
  const elites = Math.max(2, Math.ceil(settings.candidates * ELITE_SHARE));
  for (let it = 0; it < settings.iterations; it++) {
    const plans = Array.from({ length: settings.candidates }, (_, c) =>
      it === 0 && c === 0 && warm ? warm.map((x) => x.slice()) : sample(),
    );
    const scored = plans.map((plan) => ({ plan, score: score(plan) }));
    for (const s of scored) if (s.score > bestScore) [best, bestScore] = [s.plan, s.score];
    // stable: among equal scores the earlier draw stays first, so the choice is a seeded draw, not an order effect
    const top = scored
      .map((s, i) => ({ ...s, i }))
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .slice(0, elites);
    for (let h = 0; h < H; h++)
      for (let a = 0; a < A; a++) {
        const values = top.map((t) => t.plan[h][a]);
        if (categorical) {
          const p = probs[h][a];
          for (let v = 0; v < vocab; v++) p[v] *= 1 - CATEGORICAL_STEP;
          for (const v of values) p[v] += CATEGORICAL_STEP / values.length;
        } else {
          const m = values.reduce((s, x) => s + x, 0) / values.length;
          const s2 = values.reduce((s, x) => s + (x - m) ** 2, 0) / values.length;
          mean[h][a] = m;
          std[h][a] = Math.max(Math.sqrt(s2), MIN_STD_SHARE * (hi - lo));
        }
      }
  }
  return { plan: best as Plan, score: bestScore };
}

/** The plan after its first action was taken: shifted by one step, the last step repeated (receding horizon). */
export function shiftPlan(plan: Plan): Plan {
  return plan.map((_, h) => plan[Math.min(h + 1, plan.length - 1)].slice());
}
