// Where the laws can be told apart: the states from which their one-step predictions differ by more than the
// observation noise. Data from such states identifies the law; data from anywhere else leaves the laws confusable
// (README, "Why experiments matter"). Used by the tests, the reach figures, and anyone checking where a policy went.
import { restoring, STIFFNESS, TRUE_LAWS } from './laws';
import { advance } from './physics';

/** The state view's observation noise std, frame units (and units / s for v): the scale a difference must beat. */
export const STATE_NOISE = 0.01;

/**
 * The smallest, over the pairs of true laws, of the largest absolute difference (in x or v) between their one-step
 * predictions from bob = (x, v) with stiffness k, no damping and no force (damping and force move every law alike).
 * Larger than STATE_NOISE: every pair of laws is told apart by one step from here. ~ DT k |x|^3 / 3 at small
 * amplitude.
 */
export function lawSpread(k: number, bob: ArrayLike<number>): number {
  const next = TRUE_LAWS.map((law) => advance(restoring(law, k), 0, bob, 0));
  let spread = Infinity;
  for (let i = 0; i < next.length; i++)
    for (let j = i + 1; j < next.length; j++)
      spread = Math.min(spread, Math.max(Math.abs(next[i][0] - next[j][0]), Math.abs(next[i][1] - next[j][1])));
  return spread;
}

/** Whether one step from bob with the world's stiffness k tells every pair of laws apart (spread > noise). */
export function isInformative(k: number, bob: ArrayLike<number>): boolean {
  return lawSpread(k, bob) > STATE_NOISE;
}

/** The stiffnesses `informativeAtEveryStiffness` checks: 1, 1.5, ..., 4 (the range of k in steps of 0.5). */
const STIFFNESS_GRID = Array.from(
  { length: (STIFFNESS[1] - STIFFNESS[0]) / 0.5 + 1 },
  (_, i) => STIFFNESS[0] + 0.5 * i,
);

/**
 * Whether bob is informative whatever the world's stiffness (checked on a grid of k): a criterion that needs only the
 * state view, for data whose world is not at hand.
 */
export function informativeAtEveryStiffness(bob: ArrayLike<number>): boolean {
  return STIFFNESS_GRID.every((k) => isInformative(k, bob));
}
