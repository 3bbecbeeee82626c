// The rollout bound (model.ts, `rolloutBound`): a rolled-out state beyond a few times the largest magnitude its
// component had in the data fitted or in the window is the law's divergence (a cubic force past its turning point), not
// a forecast, and is held there. A planted world that doubles the state every step shows it exactly.
import { describe, expect, it } from 'vitest';
import { quietRun, tensor, type Scenario } from '@worldbench/core';
import resonance from '@worldbench/resonance';
import possibleWorlds from '../src/index';
import { createModel } from '../src/model';
import type { CandidateWorld } from '../src/worlds';

const scenario = resonance as unknown as Scenario;

/** A model holding one world, x' = 2x, fitted (so it says) on data whose largest magnitude is 1 in each component. */
function doublingModel(rolloutBound: number) {
  const doubling: CandidateWorld = {
    id: 'doubling',
    statement: "x' = 2x",
    k: 0,
    logEvidence: 0,
    noiseVariance: Float64Array.of(1e-4, 1e-4),
    usesPrevious: false,
    step: (_prev, cur) => cur.map((x) => 2 * x),
    toJSON: () => ({}),
  };
  return createModel({
    spec: scenario.spec,
    view: 'state',
    config: { ...possibleWorlds.defaults, rolloutBound, filterHistory: false, windowEvidence: false },
    worlds: [doubling],
    weights: [1],
    library: 'search',
    libraryNote: 'planted',
    batches: [],
    actCalls: 0,
    updates: 0,
    changes: [],
    seen: [1, 1],
  });
}

/** The forecast of x over 8 steps from a window that stays at (x, -0.25). */
async function forecastX(rolloutBound: number, x = 0.5): Promise<number[]> {
  const K = scenario.spec.historySteps;
  const history = {
    views: {
      state: tensor(
        [1, K, 2],
        Float32Array.from({ length: 2 * K }, (_, i) => (i % 2 ? -0.25 : x)),
      ),
    },
    actions: tensor([1, K - 1, 1]),
    context: {},
  };
  const { mean } = await doublingModel(rolloutBound).forecast(
    {
      view: 'state',
      history,
      actions: tensor([1, 8, 1]),
      horizon: 8,
    },
    quietRun(0),
  );
  return Array.from({ length: 8 }, (_, h) => mean.data[h * 2]);
}

describe('rollout bound', () => {
  it('holds a diverging rollout at 4 times the largest magnitude seen (the default), and not before', async () => {
    // 0.5 doubles to 1, 2, 4; the next, 8, is past 4 x max(1 seen, 0.5 in the window), so it is held at 4
    expect(await forecastX(4)).toEqual([1, 2, 4, 4, 4, 4, 4, 4]);
  });

  it('reads the window too: a window beyond the data raises the bound to 4 times its own magnitude', async () => {
    // x = 3 in the window: 6, 12 (= 4 x 3), then held
    expect(await forecastX(4, 3)).toEqual([6, 12, 12, 12, 12, 12, 12, 12]);
  });

  it('is off at 0: the rollout doubles on', async () => {
    expect(await forecastX(0)).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);
  });
});
