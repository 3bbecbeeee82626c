// The hidden law of a job: the control mapping, which direction each action index moves the agent.
import type { Rng } from '@worldbench/core';
import { DIRECTIONS, type Direction } from './grid';

/** Action indices: 0..4 (the `action` tensor's vocab). */
export const ACTIONS = 5;
/**
 * sampleWorld(): the chance that the mapping is the identity outright (else a uniform permutation, itself the identity
 * 1 time in 24).
 */
export const IDENTITY_PROBABILITY = 0.5;

/** The hidden law of one job. */
export interface SpriteWorld {
  /**
   * [ACTIONS]: the direction of each action index; index 0 is always noop, 1-4 a permutation of up, down, left, right.
   */
  readonly mapping: readonly Direction[];
}

export const IDENTITY: readonly Direction[] = DIRECTIONS;

/** With probability 1/2 the identity, else a uniformly random permutation of the four directions over indices 1-4. */
export function sampleMapping(rng: Rng): Direction[] {
  if (rng.bernoulli(IDENTITY_PROBABILITY)) return IDENTITY.slice();
  return [0, ...rng.shuffle([1, 2, 3, 4] as Direction[])];
}

/** The mapping with left and right exchanged wherever they occur (the live protocol's shift). */
export function swapLeftRight(mapping: readonly Direction[]): Direction[] {
  return mapping.map((d) => (d === 3 ? 4 : d === 4 ? 3 : d));
}

/** The action index whose mapped direction is `direction` (0 for noop). */
export function actionFor(mapping: readonly Direction[], direction: Direction): number {
  const a = mapping.indexOf(direction);
  if (a < 0) throw new Error(`sprite-world: no action index moves ${direction} under mapping [${mapping}]`);
  return a;
}

/** The action index of an action tensor; throws on anything but an integer in [0, ACTIONS). */
export function actionIndex(action: ArrayLike<number> | null): number {
  const a = action?.[0];
  if (a === undefined || !Number.isInteger(a) || a < 0 || a >= ACTIONS)
    throw new RangeError(
      `sprite-world: the action must be one integer ` +
        `in [0, ${ACTIONS}) (0 noop, 1-4 the mapped ` +
        `directions), got ${action === null ? 'null' : `[${Array.from(action)}]`}`,
    );
  return a;
}
