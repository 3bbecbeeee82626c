// bouncing-balls-v1: 1-3 balls in a box under gravity, with an impulse action on ball 0. Gravity and
// restitution are hidden and drawn per episode around a per-job centre, so a model has to infer them in
// context from the history it is shown. Every number here is frozen in README.md; changing one bumps the id.
import type { Rng, Scenario, ScenarioSpec, Split } from '@worldbench/core';
import { BALL_FIELDS, MAX_BALLS, MAX_SPEED, RADIUS, advance, type BallsState } from './physics';
import { FRAME_SIZE, renderFrame, renderState } from './render';

export { advance, makeState, totalEnergy, type BallsState } from './physics';

/** The hidden law of one job: the centres that every episode's parameters are drawn around. */
export interface BallsWorld {
  /** Gravity centre g0, box units / s^2, drawn from U(GRAVITY_CENTRE_RANGE). */
  readonly gravityCentre: number;
  /** Restitution centre e0, drawn from U(RESTITUTION_CENTRE_RANGE). */
  readonly restitutionCentre: number;
}

/** g0 ~ U(2, 6). */
export const GRAVITY_CENTRE_RANGE = [2, 6] as const;
/** e0 ~ U(0.75, 0.95). */
export const RESTITUTION_CENTRE_RANGE = [0.75, 0.95] as const;
/** train/test episodes: g ~ U(0.8 g0, 1.2 g0). */
export const TRAIN_GRAVITY_FACTOR = [0.8, 1.2] as const;
/** ood episodes: g ~ U(1.3 g0, 1.6 g0), outside the train range. */
export const OOD_GRAVITY_FACTOR = [1.3, 1.6] as const;
/** Every episode: e ~ U(e0 - 0.05, e0 + 0.05), clipped to <= 1. */
export const RESTITUTION_SPREAD = 0.05;
/** train/test episodes have 1..3 balls (uniform); ood episodes have 4. */
export const TRAIN_BALLS = [1, 3] as const;
export const OOD_BALLS = 4;
/** Initial velocity components ~ U(-1, 1), box units / s. */
export const INITIAL_SPEED = 1;
/** shift(): the new gravity centre is at least this far from the old one. */
export const SHIFT_MIN_GRAVITY_CHANGE = 1.5;
/** behavior(): the chance per step that the expert acts at all. */
export const EXPERT_ACT_PROBABILITY = 0.25;

const spec: ScenarioSpec = {
  id: 'bouncing-balls-v1',
  summary:
    '1-3 balls (4 in ood) bounce in a box under hidden per-episode gravity and restitution; the action kicks ball 0.',
  views: {
    state: { shape: [MAX_BALLS, BALL_FIELDS], kind: 'real', range: [-MAX_SPEED, MAX_SPEED], mask: 'state_mask' },
    state_mask: { shape: [MAX_BALLS], kind: 'int', vocab: 2 },
    frame: { shape: [FRAME_SIZE, FRAME_SIZE], kind: 'image', range: [0, 1] },
  },
  // where training data lies (the report's plot per protocol): every ball's centre in the box
  statePlane: {
    view: 'state',
    x: { index: 0, label: 'x (box units)', range: [0, 1] },
    y: { index: 1, label: 'y (box units, up)', range: [0, 1] },
  },
  action: { shape: [2], kind: 'real', range: [-1, 1] },
  episodeLength: 48,
  historySteps: 4,
  horizon: 16,
  observationNoise: { state: 0.005 },
  tags: ['physics', 'actions', 'image', 'masked'],
};

/** Non-overlapping centres, uniform in [RADIUS, 1 - RADIUS]^2: each ball is redrawn until it clears the others. */
function placeBalls(rng: Rng, count: number): [number, number][] {
  const centres: [number, number][] = [];
  for (let attempt = 0; centres.length < count; attempt++) {
    // 4 balls of radius 0.07 fill ~6% of the box, so a draw fails rarely; this bound only catches a bug.
    if (attempt > 10_000) throw new Error(`bouncing-balls: could not place ${count} non-overlapping balls`);
    const x = rng.uniform(RADIUS, 1 - RADIUS),
      y = rng.uniform(RADIUS, 1 - RADIUS);
    if (centres.every(([cx, cy]) => Math.hypot(cx - x, cy - y) >= 2 * RADIUS)) centres.push([x, y]);
  }
  return centres;
}

const scenario: Scenario<BallsWorld, BallsState> = {
  spec,

  sampleWorld(rng) {
    return {
      gravityCentre: rng.uniform(...GRAVITY_CENTRE_RANGE),
      restitutionCentre: rng.uniform(...RESTITUTION_CENTRE_RANGE),
    };
  },

  reset(world, rng, split: Split) {
    const ood = split === 'ood';
    const count = ood ? OOD_BALLS : TRAIN_BALLS[0] + rng.int(TRAIN_BALLS[1] - TRAIN_BALLS[0] + 1);
    const [lo, hi] = ood ? OOD_GRAVITY_FACTOR : TRAIN_GRAVITY_FACTOR;
    const gravity = world.gravityCentre * rng.uniform(lo, hi);
    const e0 = world.restitutionCentre;
    const restitution = Math.min(1, rng.uniform(e0 - RESTITUTION_SPREAD, e0 + RESTITUTION_SPREAD));
    const balls = new Float64Array(MAX_BALLS * BALL_FIELDS);
    placeBalls(rng, count).forEach(([x, y], i) => {
      balls.set(
        [x, y, rng.uniform(-INITIAL_SPEED, INITIAL_SPEED), rng.uniform(-INITIAL_SPEED, INITIAL_SPEED)],
        i * BALL_FIELDS,
      );
    });
    return { count, gravity, restitution, balls };
  },

  step(_world, state, action) {
    return advance(state, action);
  },

  render(_world, state) {
    return { ...renderState(state), frame: renderFrame(state) };
  },

  // A narrow expert: mostly idle; when it acts, it kicks ball 0 up, or (in the upper half) nudges it toward
  // the centre line. Off-policy data from it never shows downward or strong sideways impulses.
  behavior(_world, state, rng) {
    if (!rng.bernoulli(EXPERT_ACT_PROBABILITY)) return new Float32Array([0, 0]);
    const [x, y] = state.balls;
    if (y > 0.5) return new Float32Array([x < 0.5 ? 0.5 : -0.5, 0]);
    return new Float32Array([0, 1]);
  },

  // Broad: kicks as often as the expert, but in any direction and strength.
  explore(_world, _state, rng) {
    if (!rng.bernoulli(EXPERT_ACT_PROBABILITY)) return new Float32Array([0, 0]);
    return new Float32Array([rng.uniform(-1, 1), rng.uniform(-1, 1)]);
  },

  shift(world, rng) {
    let gravityCentre: number;
    do gravityCentre = rng.uniform(...GRAVITY_CENTRE_RANGE);
    while (Math.abs(gravityCentre - world.gravityCentre) < SHIFT_MIN_GRAVITY_CHANGE);
    return { gravityCentre, restitutionCentre: world.restitutionCentre };
  },
};

export default scenario;
