// resonance-v1: a driven, lightly damped bob on a line under one hidden restoring law drawn per job from 3 (linear,
// hardening, softening spring) that agree at small amplitude and differ at large, with a stiffness drawn per job and a
// damping drawn per episode. A random force adds energy as a random walk, a force in phase with the velocity adds it
// every step: within an episode of 64 steps the narrow expert and uniformly random forcing stay where the laws agree,
// and only pumping reaches where they differ. So data a model did not choose leaves the law confusable, and the test
// split starts half its episodes at large amplitude, where the law decides the forecast. Every number here is frozen
// in README.md; changing one bumps the id.
import type { Rng, Scenario, ScenarioSpec, Split } from '@worldbench/core';
import { hypotheses } from './hypotheses';
import { STATE_NOISE } from './informative';
import { DAMPING, LAWS, potentialEnergy, restoring, STIFFNESS, TRUE_LAW_IDS, type TrueLawId } from './laws';
import { advance, FORCE_SCALE } from './physics';
import { amplitudeHold, randomForce } from './policies';
import { FRAME_HEIGHT, FRAME_WIDTH, renderFrame } from './render';

export {
  ALTERNATIVE_LAWS,
  DAMPING,
  LAWS,
  NONLINEAR_SCALE,
  STIFFNESS,
  TRUE_LAWS,
  TRUE_LAW_IDS,
  potentialEnergy,
  restoring,
  type Law,
  type TrueLawId,
} from './laws';
export { DT, FORCE_SCALE, SUBSTEPS, advance, type Restoring } from './physics';
export { BOB_RADIUS, FRAME_EXTENT, FRAME_HEIGHT, FRAME_WIDTH, renderFrame } from './render';
export { EXPERT_AMPLITUDE, EXPERT_DITHER, EXPERT_GAIN, amplitudeHold, pump, randomForce } from './policies';
export { STATE_NOISE, informativeAtEveryStiffness, isInformative, lawSpread } from './informative';
export { hypotheses } from './hypotheses';

/** The hidden law of one job: the restoring law and its stiffness, the same in every episode. */
export interface ResonanceWorld {
  readonly law: TrueLawId;
  /** Stiffness per unit mass, 1 / s^2. */
  readonly k: number;
}

/** One episode's step. Never mutated after creation. */
export interface ResonanceState {
  /** x, v, stored as float32 (as the state view shows them), so a hypothesis predicting from the view is exact. */
  readonly bob: Float32Array;
  /** The episode's damping rate c, 1 / s (hidden; drawn at reset). */
  readonly c: number;
}

/** Near rest: every train episode, and the other test and ood episodes, start with x, v ~ U(-0.05, 0.05). */
export const REST_START = 0.05;
/** The share of test and ood episodes that start at large amplitude (each one a Bernoulli draw). */
export const LARGE_START_SHARE = 0.5;
/**
 * Their amplitude: the turning point A ~ U(1.5, 2), frame units, under the world's law: there the hardening force is
 * 1.75-2.3 times the spring's and the softening force 0.60-0.48 times (README: what the law is worth).
 */
export const LARGE_START_AMPLITUDE = [1.5, 2] as const;

const spec: ScenarioSpec = {
  id: 'resonance-v1',
  summary:
    'A driven, lightly damped bob on a line under one hidden restoring law of 3 (linear, hardening, softening) that ' +
    'agree at small amplitude; only forcing in phase with the velocity reaches where they differ.',
  views: {
    // no `range`: nothing bounds the bob (it starts near rest or at |x| <= 2); see README
    state: { shape: [2], kind: 'real' },
    frame: { shape: [FRAME_HEIGHT, FRAME_WIDTH], kind: 'image', range: [0, 1] },
  },
  action: { shape: [1], kind: 'real', range: [-1, 1] },
  episodeLength: 64,
  historySteps: 4,
  horizon: 32,
  observationNoise: { state: STATE_NOISE },
  // where training data lies (the report's plot per protocol): the test split's amplitudes (1.5-2) fit, with the speed
  // sqrt(k) A <= 4 of the stiffest spring there
  statePlane: {
    view: 'state',
    x: { index: 0, label: 'x (position)', range: [-2.4, 2.4] },
    y: { index: 1, label: 'v (velocity, 1 / s)', range: [-4.8, 4.8] },
  },
  tags: ['physics', 'actions', 'image', 'hypotheses', 'exploration'],
};

/** The force of an action: FORCE_SCALE * a for a single finite a in [-1, 1]; anything else throws, saying what. */
export function forceOf(action: ArrayLike<number> | null): number {
  const a = action?.length === 1 ? action[0] : NaN;
  if (!(a >= -1 && a <= 1))
    throw new RangeError(
      `resonance: the action must be one force in [-1, 1] (shape [1]), got ${
        action ? `[${Array.from(action).join(', ')}]` : 'null'
      }`,
    );
  return FORCE_SCALE * a;
}

/**
 * A state at the turning point A of the world's law (no damping): x ~ U(-A, A) and |v| the speed that gives the
 * energy of the turning point there, its sign a fair coin. Draws A, x, then the sign.
 */
function largeAmplitudeStart(world: ResonanceWorld, rng: Rng): Float32Array {
  const law = LAWS[world.law];
  const A = rng.uniform(...LARGE_START_AMPLITUDE);
  const x = rng.uniform(-A, A);
  const speed = Math.sqrt(2 * Math.max(0, potentialEnergy(law, world.k, A) - potentialEnergy(law, world.k, x)));
  return Float32Array.of(x, rng.bernoulli(0.5) ? speed : -speed);
}

const scenario: Scenario<ResonanceWorld, ResonanceState> & { hypotheses: typeof hypotheses } = {
  spec,

  // Draw order: the law, then k.
  sampleWorld(rng) {
    return { law: rng.pick(TRUE_LAW_IDS), k: rng.uniform(...STIFFNESS) };
  },

  // Draw order: c; then (test and ood only) the large-amplitude coin; then the start (x, v, or A, x, sign).
  reset(world, rng, split: Split) {
    const [lo, hi] = split === 'ood' ? DAMPING.ood : DAMPING.train;
    const c = rng.uniform(lo, hi);
    if (split !== 'train' && rng.bernoulli(LARGE_START_SHARE)) return { bob: largeAmplitudeStart(world, rng), c };
    return { bob: Float32Array.of(rng.uniform(-REST_START, REST_START), rng.uniform(-REST_START, REST_START)), c };
  },

  step(world, state, action) {
    const bob = advance(restoring(LAWS[world.law], world.k), state.c, state.bob, forceOf(action));
    return { bob: Float32Array.from(bob), c: state.c };
  },

  render(_world, state) {
    return { state: state.bob.slice(), frame: renderFrame(state.bob[0]) };
  },

  behavior(world, state, rng) {
    return amplitudeHold(state.bob, world.k, rng);
  },

  explore(_world, _state, rng) {
    return randomForce(rng);
  },

  // The law changes to one of the other 2, uniformly; the stiffness stays.
  shift(world, rng) {
    return { law: rng.pick(TRUE_LAW_IDS.filter((id) => id !== world.law)), k: world.k };
  },

  hypotheses,
};

export default scenario;
