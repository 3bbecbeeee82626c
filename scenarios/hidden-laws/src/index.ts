// hidden-laws-v1: a particle in the plane under one hidden law drawn per job from a family of 7 (free flight,
// gravity, spring, damped spring, pendulum, quadratic drag, central attraction), pushed by an applied force.
// The law's parameters are drawn per episode, so a model has to tell the law and read its parameters from
// the history. The home scenario of the possible-worlds school: `hypotheses` states every candidate law.
// Every number here is frozen in README.md; changing one bumps the id.
import type { Scenario, ScenarioSpec, Split } from '@worldbench/core';
import { hypotheses } from './hypotheses';
import { LAWS, TRUE_LAWS, TRUE_LAW_IDS, type TrueLawId } from './laws';
import { advance } from './physics';
import { FRAME_SIZE, renderFrame } from './render';

export {
  ALTERNATIVE_LAWS,
  LAWS,
  SOFTENING,
  TRUE_LAWS,
  TRUE_LAW_IDS,
  energy,
  type Law,
  type LawParameter,
  type TrueLawId,
} from './laws';
export { DT, FORCE_SCALE, SUBSTEPS, advance, type Dynamics } from './physics';
export { FRAME_EXTENT, FRAME_SIZE, PARTICLE_RADIUS, renderFrame } from './render';
export { hypotheses } from './hypotheses';

/** The hidden law of one job. */
export interface LawsWorld {
  readonly law: TrueLawId;
}

/** One episode: the particle and the per-episode parameters of every law. Never mutated after creation. */
export interface LawsState {
  /**
   * x, y, vx, vy, stored as float32 (as the state view shows them), so a hypothesis predicting from the view reproduces
   * the next state exactly.
   */
  readonly particle: Float32Array;
  /**
   * The episode's parameters of each of the 7 laws (in each law's `parameters` order), all drawn at reset,
   * so that the state stays meaningful when the live protocol shifts the law mid-stream; the world's law
   * picks the set that applies.
   */
  readonly params: Readonly<Record<TrueLawId, readonly number[]>>;
}

/** Initial x and y ~ U(-1, 1), every split. */
export const INITIAL_POSITION = 1;
/** train/test initial vx and vy ~ U(-1, 1). */
export const TRAIN_INITIAL_SPEED = [-1, 1] as const;
/**
 * ood initial vx and vy: magnitude ~ U(1, 1.5) with a random sign, outside the train range (so free-flight worlds have
 * an ood split too).
 */
export const OOD_INITIAL_SPEED = [1, 1.5] as const;
/** behavior(): the chance per step that the expert pushes (+1, 0). */
export const EXPERT_PUSH_PROBABILITY = 0.25;

const spec: ScenarioSpec = {
  id: 'hidden-laws-v1',
  summary:
    'A particle in the plane under one hidden law of 7 (free, gravity, spring, damped spring, pendulum, drag, ' +
    'central) with per-episode parameters; the action is an applied force.',
  views: {
    // no `range`: the particle may leave the frame and nothing bounds it; see README
    state: { shape: [4], kind: 'real' },
    frame: { shape: [FRAME_SIZE, FRAME_SIZE], kind: 'image', range: [0, 1] },
  },
  // where training data lies (the report's plot per protocol): the particle's position, one unit past the frame's edges
  statePlane: {
    view: 'state',
    x: { index: 0, label: 'x (position)', range: [-3, 3] },
    y: { index: 1, label: 'y (position)', range: [-3, 3] },
  },
  action: { shape: [2], kind: 'real', range: [-1, 1] },
  episodeLength: 32,
  historySteps: 4,
  horizon: 16,
  observationNoise: { state: 0.02 },
  tags: ['physics', 'actions', 'image', 'hypotheses'],
};

/** The episode's parameters of the world's law, in its `parameters` order. */
export function episodeParameters(world: LawsWorld, state: LawsState): readonly number[] {
  return state.params[world.law];
}

/** A state at `particle` (rounded to float32) with the given parameters (laws not listed get none). */
export function makeState(
  particle: readonly number[],
  params: Partial<Record<TrueLawId, readonly number[]>> = {},
): LawsState {
  const all = Object.fromEntries(TRUE_LAW_IDS.map((id) => [id, params[id] ?? []])) as Record<
    TrueLawId,
    readonly number[]
  >;
  return { particle: Float32Array.from(particle), params: all };
}

const scenario: Scenario<LawsWorld, LawsState> & { hypotheses: typeof hypotheses } = {
  spec,

  sampleWorld(rng) {
    return { law: rng.pick(TRUE_LAW_IDS) };
  },

  // Draw order: x, y, vx, vy, then every law's parameters in TRUE_LAWS order, whatever the world's law.
  reset(_world, rng, split: Split) {
    const ood = split === 'ood';
    const x = rng.uniform(-INITIAL_POSITION, INITIAL_POSITION),
      y = rng.uniform(-INITIAL_POSITION, INITIAL_POSITION);
    const speed = () =>
      ood ? (rng.bernoulli(0.5) ? 1 : -1) * rng.uniform(...OOD_INITIAL_SPEED) : rng.uniform(...TRAIN_INITIAL_SPEED);
    const vx = speed(),
      vy = speed();
    const params = {} as Record<TrueLawId, readonly number[]>;
    for (const law of TRUE_LAWS)
      params[law.id as TrueLawId] = Object.freeze(law.parameters.map((p) => rng.uniform(...(ood ? p.ood! : p.train))));
    return { particle: Float32Array.from([x, y, vx, vy]), params: Object.freeze(params) };
  },

  step(world, state, action) {
    const law = LAWS[world.law];
    return {
      particle: Float32Array.from(advance(law.dynamics(state.params[world.law]), state.particle, action)),
      params: state.params,
    };
  },

  render(_world, state) {
    return { state: state.particle.slice(), frame: renderFrame(state.particle) };
  },

  // A narrow expert: idle three steps in four; otherwise the full push along +x. Its data never shows a
  // force along y or toward -x.
  behavior(_world, _state, rng) {
    return new Float32Array(rng.bernoulli(EXPERT_PUSH_PROBABILITY) ? [1, 0] : [0, 0]);
  },

  // Broad: a force uniform in the whole action box, every step.
  explore(_world, _state, rng) {
    return new Float32Array([rng.uniform(-1, 1), rng.uniform(-1, 1)]);
  },

  // The law changes to one of the other 6, uniformly.
  shift(world, rng) {
    return { law: rng.pick(TRUE_LAW_IDS.filter((id) => id !== world.law)) };
  },

  hypotheses,
};

export default scenario;
