// act(), Plan2Explore-style (src/act.ts, src/ensemble.ts): valid and deterministic actions on every scenario with
// actions; no act() with one head; forecasts untouched by the heads; the heads disagree more away from the training
// data than on it; save -> load keeps them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  block,
  createRng,
  isCategorical,
  jobWorld,
  quietRun,
  sliceSteps,
  trainingSet,
  tensor,
  type Episodes,
  type Scenario,
  type Tensor,
} from '@worldbench/core';
import { initBackend } from '@worldbench/neural';
import bouncingBalls from '../../../scenarios/bouncing-balls/src/index';
import codeTrace from '../../../scenarios/code-trace/src/index';
import hiddenLaws from '../../../scenarios/hidden-laws/src/index';
import resonance from '../../../scenarios/resonance/src/index';
import spriteWorld from '../../../scenarios/sprite-world/src/index';
import jepa, { type JepaConfig } from '../src/index';
import { planDisagreement, presentLatents } from '../src/act';
import { buildTrainingSet, disposeTrainingSet } from '../src/batch';
import { DisagreementHeads, trainHeads } from '../src/ensemble';
import { fitGeometry } from '../src/geometry';
import { buildNetworks } from '../src/model';
import { trainJepa } from '../src/train';
import { disposeNetworks, smallConfig } from './helpers';

beforeAll(async () => {
  await initBackend();
});

/** Small and fast: the invariants do not depend on size. */
const tiny: JepaConfig = {
  ...smallConfig,
  minSteps: 8,
  maxSteps: 8,
  probeFraction: 0.25,
  actHeads: 3,
  actHeadSteps: 40,
  actHorizon: 4,
  actCandidates: 8,
  actIterations: 2,
};

/** The first `steps` observations (and the actions between them) of each episode: an act() history. */
function historyOf(episodes: Episodes, steps: number): Episodes {
  return sliceSteps(episodes, 0, steps);
}

describe('jepa act()', () => {
  const withActions: [string, Scenario][] = [
    ['bouncing-balls', bouncingBalls],
    ['hidden-laws', hiddenLaws],
    ['resonance', resonance],
    ['sprite-world', spriteWorld],
  ];
  it.each(withActions)('%s: valid actions of the right shape, the same from two fits of one seed', async (_, sc) => {
    const seed = 11;
    const data = trainingSet(sc, jobWorld(sc, seed), 'behavior', 64, seed).observed;
    const history = historyOf(data, 5);
    const B = history.views.state.shape[0];
    const spec = sc.spec.action;
    if (!spec) throw new Error('a scenario with actions');
    const actTwice = async () => {
      const model = await jepa.create(sc.spec, 'state', tiny);
      if (!model.act) throw new Error('jepa with actHeads > 1 on a scenario with actions must act');
      await model.fit(data, quietRun(seed));
      const first = await model.act(history, quietRun(seed));
      const second = await model.act(historyOf(data, 6), quietRun(seed)); // warm-started by the first
      await model.dispose?.();
      return [first, second];
    };
    const a = await actTwice();
    const b = await actTwice();
    for (const [i, actions] of a.entries()) {
      expect(actions.shape).toEqual([B, ...spec.shape]);
      for (const x of actions.data) {
        expect(Number.isFinite(x)).toBe(true);
        if (isCategorical(spec)) {
          expect(Number.isInteger(x)).toBe(true);
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThan(spec.vocab as number);
        } else {
          const [lo, hi] = spec.range ?? [-Infinity, Infinity];
          expect(x).toBeGreaterThanOrEqual(lo);
          expect(x).toBeLessThanOrEqual(hi);
        }
      }
      expect(Array.from(actions.data)).toEqual(Array.from(b[i].data));
    }
  });

  it('has no act() with one head, nor on a world without actions', async () => {
    const one = await jepa.create(resonance.spec, 'state', { ...tiny, actHeads: 1 });
    expect(one.act).toBeUndefined();
    expect(one.actUnavailable).toMatch(/actHeads = 1/);
    const noActions = await jepa.create(codeTrace.spec, 'state', tiny);
    expect(noActions.act).toBeUndefined();
    expect(noActions.actUnavailable).toMatch(/has no actions/);
    const acting = await jepa.create(resonance.spec, 'state', tiny);
    expect(acting.actUnavailable).toBeUndefined();
  });

  it('forecasts the same with and without the heads; save -> load keeps the heads (the same act)', async () => {
    const seed = 4;
    const world = jobWorld(resonance, seed);
    const data = trainingSet(resonance, world, 'behavior', 128, seed).observed;
    const history = historyOf(data, 8);
    const query = { view: 'state', history, actions: sliceSteps(data, 7, 12).actions, horizon: 4 };
    const withHeads = await jepa.create(resonance.spec, 'state', tiny);
    const without = await jepa.create(resonance.spec, 'state', { ...tiny, actHeads: 1 });
    await withHeads.fit(data, quietRun(seed));
    await without.fit(data, quietRun(seed));
    const f1 = await withHeads.forecast(query, quietRun(seed));
    const f0 = await without.forecast(query, quietRun(seed));
    expect(Array.from(f1.mean.data)).toEqual(Array.from(f0.mean.data));

    const acted = await withHeads.act!(history, quietRun(seed));
    const dir = mkdtempSync(join(tmpdir(), 'jepa-act-'));
    try {
      await withHeads.save(dir);
      const loaded = await jepa.load(dir);
      expect(loaded.act).toBeDefined();
      const again = await loaded.act!(history, quietRun(seed));
      expect(Array.from(again.data)).toEqual(Array.from(acted.data));
      await loaded.dispose?.();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await withHeads.dispose?.();
    await without.dispose?.();
  });
});

describe('the disagreement heads', () => {
  it('disagree more on states away from the training data than on them (resonance, the expert swing)', async () => {
    // the expert holds a swing of amplitude 0.1: its training states are small; the same windows scaled up 15 times
    // (amplitude 1.5, the test split's large starts) lie far from every training state
    const seed = 2;
    const config: JepaConfig = { ...smallConfig, actHeads: 4, actHeadSteps: 200 };
    const data = trainingSet(resonance, jobWorld(resonance, seed), 'behavior', 256, seed).observed;
    const geometry = fitGeometry(resonance.spec, 'state', config, data);
    const nets = buildNetworks(geometry, config, `${seed}/test`);
    const set = buildTrainingSet(geometry, data, 'state', config.realReadout === 'change');
    await trainJepa(nets, set, config, createRng(`${seed}/train`), quietRun(seed));
    const heads = new DisagreementHeads(createRng(`${seed}/heads`), geometry, config, geometry.action!);
    await trainHeads(heads, nets, set, config, createRng(`${seed}/heads/train`), quietRun(seed));
    const near = historyOf(data, 40);
    const far: Episodes = { ...near, views: { state: scaled(near.views.state, 15) } };
    // the same plans from both: 32 random force sequences of 8 steps per episode
    const B = near.views.state.shape[0],
      C = 32,
      H = 8;
    const rng = createRng('plans');
    const plans = Float32Array.from({ length: B * C * H }, () => rng.uniform(-1, 1));
    const meanDisagreement = (history: Episodes) => {
      const { z, tokenMask } = presentLatents(nets, geometry, 'state', history);
      const d = planDisagreement(heads, geometry, z, tokenMask, plans, B, C);
      z.dispose();
      tokenMask.dispose();
      return d.reduce((s, x) => s + x, 0) / d.length;
    };
    const onData = meanDisagreement(near);
    const away = meanDisagreement(far);
    expect(away).toBeGreaterThan(5 * onData);
    heads.dispose();
    disposeNetworks(nets);
    disposeTrainingSet(set);
  });
});

/** x [E, T, D] times `factor`. */
function scaled(x: Tensor, factor: number): Tensor {
  return tensor(
    x.shape,
    Float32Array.from(block(x), (v) => v * factor),
  );
}
