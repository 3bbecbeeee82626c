// act()'s objective: how well a sequence of actions over the next few steps is expected to tell the leading worlds
// apart. Core's `searchPlans` finds the best sequence by the cross-entropy method over action sequences; receding
// horizon: the first action is taken, and the rest of the plan warm-starts the next step's search.
//
// Why plan and not take the greedy one-step choice: where the worlds agree near the present state (a driven spring
// whose candidate laws part only at large amplitude) every single action scores the same, and only a sequence (push
// in phase with the motion for many steps) reaches where they differ.
import type { PlanScorer } from '@worldbench/core';

/** One leading world as the planner sees it: its posterior weight, and its rollout of a plan from the present. */
export interface PlanWorld {
  weight: number;
  /** Residual noise variance per dimension (the scale a difference in predicted observations is measured in). */
  noiseVariance: Float64Array;
  /** The world's predicted states [H][D] under the plan's actions [H][A], from the window's present state. */
  rollout(actions: Float64Array[]): Float64Array[];
}

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
 * The plan scorer of act() for core's `searchPlans`: the objective (`expectedInformationGain` or `expectedEvidence`)
 * of each candidate plan [P, C, H, A] (flat) of each problem p (an episode) over that episode's leading worlds.
 */
export function planScorer(
  objective: 'information' | 'evidence',
  worldsOf: readonly (readonly PlanWorld[])[],
  frozenOf: readonly Uint8Array[],
  horizon: number,
  A: number,
): PlanScorer {
  const value = objective === 'information' ? expectedInformationGain : expectedEvidence;
  return async (plans, problems, candidates) => {
    const scores = new Float64Array(problems * candidates);
    for (let p = 0; p < problems; p++)
      for (let c = 0; c < candidates; c++) {
        const at = (p * candidates + c) * horizon * A;
        const plan: Plan = Array.from({ length: horizon }, (_, h) =>
          Float64Array.from(plans.subarray(at + h * A, at + (h + 1) * A)),
        );
        const worlds = worldsOf[p];
        const paths = worlds.map((w) => w.rollout(plan));
        scores[p * candidates + c] = value(worlds, pairDistances(worlds, paths, frozenOf[p]));
      }
    return scores;
  };
}
