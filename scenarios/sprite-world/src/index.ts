// sprite-world-v1: a 10 x 10 tile grid with walls, an agent, pushable boxes and a goal (Genie-style,
// action-conditioned video). The hidden law of a job is the control mapping: which direction each action
// index moves the agent. Every number here is frozen in README.md; changing one bumps the id.
import type { Scenario, ScenarioSpec, Split } from '@worldbench/core';
import { ACTIONS, actionFor, actionIndex, sampleMapping, swapLeftRight, type SpriteWorld } from './controls';
import { expertDirection } from './expert';
import { SIZE, VOCAB, moveAgent, type GridState } from './grid';
import { hypotheses } from './hypotheses';
import { drawLayout } from './layouts';
import { FRAME_SIZE, renderFrame, renderState } from './render';

export {
  ACTIONS,
  IDENTITY,
  IDENTITY_PROBABILITY,
  actionFor,
  sampleMapping,
  swapLeftRight,
  type SpriteWorld,
} from './controls';
export { expertDirection } from './expert';
export {
  CELLS,
  DIRECTION_NAMES,
  SIZE,
  TILE,
  VOCAB,
  agentIndex,
  formatGrid,
  isConnected,
  isWalkable,
  moveAgent,
  parseGrid,
  type Direction,
  type GridState,
} from './grid';
export { hypotheses } from './hypotheses';
export {
  DIVIDER_INDEX,
  MAX_WALLS_PER_LINE,
  OOD_BOXES,
  TRAIN_BOXES,
  TRAIN_WALL_TILES,
  drawLayout,
  wallsPerLine,
} from './layouts';
export { FRAME_SIZE, SPRITE, SPRITES, decodeFrame, renderFrame, renderState } from './render';

const spec: ScenarioSpec = {
  id: 'sprite-world-v1',
  summary:
    'An agent walks a 10 x 10 tile grid, pushing boxes past walls toward a goal; a hidden per-job mapping decides ' +
    'which direction each action index moves it.',
  views: {
    state: { shape: [SIZE, SIZE], kind: 'int', vocab: VOCAB },
    frame: { shape: [FRAME_SIZE, FRAME_SIZE], kind: 'image', range: [0, 1] },
  },
  action: { shape: [1], kind: 'int', vocab: ACTIONS },
  episodeLength: 32,
  historySteps: 4,
  horizon: 8,
  tags: ['grid', 'actions', 'image', 'discrete', 'control-mapping'],
};

const scenario: Scenario<SpriteWorld, GridState> = {
  spec,

  sampleWorld(rng) {
    return { mapping: sampleMapping(rng) };
  },

  reset(_world, rng, split: Split) {
    return { tiles: drawLayout(rng, split === 'ood' ? 'two-rooms' : 'segments') };
  },

  step(world, state, action) {
    return { tiles: moveAgent(state.tiles, world.mapping[actionIndex(action)]) };
  },

  render(_world, state) {
    return { state: renderState(state), frame: renderFrame(state) };
  },

  // Narrow: it knows the mapping, walks a shortest path to the goal around boxes (never pushes one) and then
  // stands on it pressing noop. Off-policy data shows few pushes, few bumps into walls, and long idle tails.
  behavior(world, state) {
    return new Float32Array([actionFor(world.mapping, expertDirection(state.tiles))]);
  },

  // Broad: every action index uniformly, whatever the state.
  explore(_world, _state, rng) {
    return new Float32Array([rng.int(ACTIONS)]);
  },

  shift(world) {
    return { mapping: swapLeftRight(world.mapping) };
  },

  hypotheses,
};

export default scenario;
