// Candidate worlds for possible-worlds: the control mapping as a factored space (one factor per action index,
// options the five directions), under the true push physics and under a wrong one where boxes never move.
import type { FactoredSpace, HypothesisSpace, Transition } from '@worldbench/core';
import { ACTIONS, actionIndex, type SpriteWorld } from './controls';
import { DIRECTIONS, DIRECTION_NAMES, moveAgent, type Direction } from './grid';

/** Tile ids of a flattened `state` view. */
const decode = (view: Float32Array): Uint8Array => Uint8Array.from(view, Math.round);

function controlMapping(id: string, statement: string, boxesMove: boolean): FactoredSpace {
  return {
    kind: 'factored',
    id,
    statement,
    factors: Array.from({ length: ACTIONS }, (_, a) => ({ name: `action ${a}`, options: DIRECTION_NAMES })),
    predict(assignment, t) {
      const direction = assignment[actionIndex(t.action)] as Direction;
      return Float32Array.from(moveAgent(decode(t.current), direction, boxesMove));
    },
    // Exact: the options whose move reproduces the next grid. A step shows its direction; a blocked step (or
    // noop) is consistent with noop and every direction blocked there. Empty when no option explains it.
    evidence(t: Transition) {
      if (!t.next) return [];
      const current = decode(t.current),
        next = decode(t.next);
      const consistent = DIRECTIONS.filter((d) => moveAgent(current, d, boxesMove).every((x, i) => x === next[i]));
      return [{ factor: actionIndex(t.action), consistent: [...consistent] }];
    },
  };
}

export const hypotheses: HypothesisSpace = {
  view: 'state',
  candidates: [
    controlMapping(
      'push-boxes',
      'each action index moves the agent one tile in its own direction (or not at all); a box ahead is pushed one ' +
        'tile when the tile beyond is floor or goal; walls and doubled boxes block',
      true,
    ),
    controlMapping(
      'boxes-immovable',
      'each action index moves the agent one tile in its own direction (or not at all); boxes block like walls',
      false,
    ),
  ],
  truth(world) {
    return { id: 'push-boxes', assignment: [...(world as SpriteWorld).mapping] };
  },
  notes:
    'Both candidates factor over the five action indices with options noop/up/down/left/right (5^5 assignments ' +
    'each; the true ones map index 0 to noop and 1-4 to a permutation). ' +
    'They agree on every transition without a push; on a push boxes-immovable predicts no motion and its evidence ' +
    'has no consistent option. ' +
    'A transition where the agent stays is consistent with noop and with every direction blocked there, so an index ' +
    'seen only against walls stays ambiguous.',
};
