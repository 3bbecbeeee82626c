// The contract every scenario implements: a deterministic simulator with explicit randomness.
import type { HypothesisSpace } from './hypotheses';
import type { Rng } from './rng';
import type { ScenarioSpec } from './spec';

export type Split = 'train' | 'test' | 'ood';
export type PolicyName = 'behavior' | 'explore';

export interface Scenario<World = unknown, State = unknown> {
  spec: ScenarioSpec;
  /** The hidden law of one job (law family, dialect, rule): fixed for its train, test and ood episodes. */
  sampleWorld(rng: Rng): World;
  /** Per-episode parameters and start state; ood draws outside the train ranges. */
  reset(world: World, rng: Rng, split: Split): State;
  /** Must not mutate `state`. `action` is null exactly when spec.action is null. */
  step(world: World, state: State, action: Float32Array | null, rng: Rng): State;
  /** Noise-free views of one step, each of spec.views[name] size. */
  render(world: World, state: State): Record<string, Float32Array>;
  /** Constant per episode, e.g. the program; called once with the state `reset` returned. */
  context?(world: World, state: State): Record<string, Float32Array>;
  /** An "expert": narrow on purpose, so off-policy learners see a biased slice of the world. */
  behavior(world: World, state: State, rng: Rng): Float32Array | null;
  /** Broad random actions: what test episodes use. */
  explore(world: World, state: State, rng: Rng): Float32Array | null;
  /** A change of hidden law, for the live protocol. */
  shift?(world: World, rng: Rng): World;
  /** Candidate worlds (containing the truth and many wrong alternatives), for possible-worlds. */
  hypotheses?: HypothesisSpace;
}
