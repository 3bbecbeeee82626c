// life-like-v1: a 24 x 24 torus under a hidden life-like birth/survival rule (one of 2^18, drawn per job).
// There are no actions: the grid runs by itself from a random start. Every number here is frozen in
// README.md; changing one bumps the id.
import type { Rng, Scenario, ScenarioSpec, Split } from '@worldbench/core';
import { CELLS, MOORE_TORUS, SIZE, advance } from './grid';
import { hypotheses } from './hypotheses';
import { NAMED_RULES, parseRule, sameRule, type Rule } from './rule';

export {
  CELLS,
  SIZE,
  MOORE_TORUS,
  advance,
  binarise,
  gridFromPattern,
  makeLattice,
  neighbourCounts,
  type Edges,
  type Lattice,
  type Neighbourhood,
} from './grid';
export { TRUE_CANDIDATE, hypotheses, lifeLikeSpace } from './hypotheses';
export { NAMED_RULES, namedRule, parseRule, ruleBits, ruleFromBits, ruleNotation, sameRule, type Rule } from './rule';

/** The hidden law of one job. */
export interface LifeWorld {
  readonly rule: Rule;
  /**
   * The named rule drawn (see NAMED_RULES), or null for a uniformly random one (which may coincide with a named one).
   */
  readonly name: string | null;
}

/** One episode: its initial density (for the record and the tests) and the grid. Never mutated. */
export interface LifeState {
  /** Probability that each cell of the initial grid is live. */
  readonly density: number;
  /** [SIZE, SIZE] row-major, 0 dead / 1 live. */
  readonly cells: Uint8Array;
}

/** sampleWorld: the chance of a named rule (else a uniformly random one without B0). */
export const NAMED_RULE_PROBABILITY = 0.5;
/**
 * train/test episodes: initial density ~ U(0.4, 0.6): dense enough that 16 transitions of one episode usually show
 * every neighbour count (at U(0.2, 0.5) the bits B8/S8 often went unobserved).
 */
export const TRAIN_DENSITY = [0.4, 0.6] as const;
/** ood episodes: initial density ~ U(0.05, 0.2) or U(0.7, 0.9), each with probability 1/2. */
export const OOD_SPARSE_DENSITY = [0.05, 0.2] as const;
export const OOD_DENSE_DENSITY = [0.7, 0.9] as const;

const spec: ScenarioSpec = {
  id: 'life-like-v1',
  summary:
    'A 24 x 24 torus under a hidden life-like rule B/S (one of 2^18, drawn per job); no actions; random initial grids.',
  views: {
    state: { shape: [SIZE, SIZE], kind: 'int', vocab: 2 },
    frame: { shape: [SIZE, SIZE], kind: 'image', range: [0, 1] },
  },
  action: null,
  episodeLength: 40,
  historySteps: 2,
  horizon: 32,
  tags: ['cellular-automaton', 'discrete', 'image', 'no-actions', 'rule-inference'],
};

const namedRules = NAMED_RULES.map((r) => ({ name: r.name, rule: parseRule(r.notation) }));

function sampleRule(rng: Rng): LifeWorld {
  if (rng.bernoulli(NAMED_RULE_PROBABILITY)) return rng.pick(namedRules);
  // B1..B8 uniform (B0 = 0), S0..S8 uniform: one of 2^17 rules, each with probability 2^-17.
  return { rule: { birth: rng.int(256) << 1, survival: rng.int(512) }, name: null };
}

const scenario: Scenario<LifeWorld, LifeState> = {
  spec,

  sampleWorld(rng) {
    return sampleRule(rng);
  },

  reset(_world, rng, split: Split) {
    const [lo, hi] = split !== 'ood' ? TRAIN_DENSITY : rng.bernoulli(0.5) ? OOD_SPARSE_DENSITY : OOD_DENSE_DENSITY;
    const density = rng.uniform(lo, hi);
    const cells = new Uint8Array(CELLS);
    for (let i = 0; i < CELLS; i++) cells[i] = rng.bernoulli(density) ? 1 : 0;
    return { density, cells };
  },

  step(world, state) {
    return { density: state.density, cells: advance(MOORE_TORUS, world.rule, state.cells) };
  },

  render(_world, state) {
    // The same content twice: `state` is scored as categories (accuracy), `frame` as an image (psnr, mse).
    return { state: new Float32Array(state.cells), frame: new Float32Array(state.cells) };
  },

  // No actions: the grid runs by itself, so there is no expert and no exploration to tell apart.
  behavior() {
    return null;
  },

  explore() {
    return null;
  },

  // A different rule from the same distribution (redrawn until it differs in at least one bit).
  shift(world, rng) {
    let next: LifeWorld;
    do next = sampleRule(rng);
    while (sameRule(next.rule, world.rule));
    return next;
  },

  hypotheses,
};

export default scenario;
