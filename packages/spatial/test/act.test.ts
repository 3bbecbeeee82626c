// act(): the disagreement heads and the actions they choose (disagreement.ts), on dev seeds and tiny budgets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  block,
  evaluationSet,
  evaluationWindows,
  isCategorical,
  quietRun,
  sliceSteps,
  tensor,
  type Episodes,
  type Query,
  type Scenario,
} from '@worldbench/core';
import bouncingBalls from '@worldbench/bouncing-balls';
import hiddenLaws from '@worldbench/hidden-laws';
import lifeLike from '@worldbench/life-like';
import { initBackend, tf } from '@worldbench/neural';
import resonance from '@worldbench/resonance';
import spriteWorld from '@worldbench/sprite-world';
import { beforeAll, describe, expect, it } from 'vitest';
import spatial, { SpatialModel, spatialDefaults, type SpatialConfig } from '../src/index';
import { fitted } from './fitted';

const TIMEOUT = 300_000;
/** A short fit without the latent action model: these tests check what act() returns, not skill. */
const tiny: Partial<SpatialConfig> = { minSteps: 10, maxSteps: 10, latentActions: 0 };

beforeAll(async () => {
  await initBackend();
});

/** The first `steps` observations of every training episode, as the runner hands act() a history (frame view only). */
function historyOf(train: Episodes, steps: number): Episodes {
  const cut = sliceSteps(train, 0, steps);
  return { views: { frame: cut.views.frame }, actions: cut.actions, context: cut.context };
}

describe('act() on every scenario with actions', () => {
  it(
    'returns valid actions of the right shape, the same for the same seed, history and fit',
    async () => {
      const cases: Array<[Scenario, Partial<SpatialConfig>]> = [
        [bouncingBalls, tiny], // real [2]
        [hiddenLaws, tiny], // real [2]
        [resonance, tiny], // real [1]
        [spriteWorld, tiny], // int [1], vocab 5
        [spriteWorld, { ...tiny, actionFree: true, latentActions: 8 }], // true actions read through the latent map
      ];
      for (const [scenario, config] of cases) {
        const { spec } = scenario;
        const action = spec.action!;
        const a = await fitted(scenario, 32, 1, config);
        // a second model fitted alike (on one scenario: the fit is the same code on every one)
        const b = scenario === resonance ? await fitted(scenario, 32, 1, config) : null;
        // one observation (shorter than the dynamics' context) and a longer history
        for (const steps of [1, 6]) {
          const history = historyOf(a.train, steps);
          const B = history.views.frame.shape[0];
          const first = await a.model.act!(history, quietRun(1));
          expect(first.shape).toEqual([B, ...action.shape]);
          for (const x of first.data) {
            if (isCategorical(action)) {
              expect(Number.isInteger(x)).toBe(true);
              expect(x >= 0 && x < (action.vocab as number)).toBe(true);
            } else expect(x >= action.range![0] && x <= action.range![1]).toBe(true);
          }
          expect(Array.from((await a.model.act!(history, quietRun(1))).data)).toEqual(Array.from(first.data));
          if (b) expect(Array.from((await b.model.act!(history, quietRun(1))).data)).toEqual(Array.from(first.data));
        }
        await a.model.dispose();
        await b?.model.dispose();
      }
    },
    TIMEOUT,
  );

  it(
    'draws its candidates from the run seed: another seed, other actions',
    async () => {
      const { model, train } = await fitted(bouncingBalls, 32, 2, tiny);
      const history = historyOf(train, 6);
      const one = Array.from((await model.act!(history, quietRun(2))).data);
      const other = Array.from((await model.act!(history, quietRun(3))).data);
      expect(other).not.toEqual(one);
      await model.dispose();
    },
    TIMEOUT,
  );

  it(
    'has no act() with one head, with the vq tokenizer, or without actions, and says why in explain()',
    async () => {
      const one = await spatial.create(bouncingBalls.spec, 'frame', { ...spatialDefaults, disagreementHeads: 1 });
      expect(one.act).toBeUndefined();
      expect(one.actUnavailable).toMatch(/disagreementHeads = 1/);
      const vq = await spatial.create(bouncingBalls.spec, 'frame', { ...spatialDefaults, tokenizer: 'vq' });
      expect(vq.act).toBeUndefined();
      expect(vq.actUnavailable).toMatch(/tokenizer 'vq'/);
      const none = await spatial.create(lifeLike.spec, 'frame', spatialDefaults);
      expect(none.act).toBeUndefined();
      const { model } = await fitted(bouncingBalls, 32, 1, { ...tiny, disagreementHeads: 1 });
      expect(model.heads).toBeNull();
      expect(model.explain().act).toEqual({ reason: 'disagreementHeads = 1: no heads to disagree, so no act()' });
      await model.dispose();
    },
    TIMEOUT,
  );
});

describe('disagreement heads', () => {
  it(
    'leave the forecasts exactly as without them (the trunk is fixed while they train)',
    async () => {
      const seed = 4;
      const { model: withHeads, query } = await fitted(bouncingBalls, 64, seed, { ...tiny, latentActions: 8 });
      const config = { ...tiny, latentActions: 8, disagreementHeads: 1 };
      const without = (await fitted(bouncingBalls, 64, seed, config)).model;
      const a = (await withHeads.forecast(query)).mean.data;
      const b = (await without.forecast(query)).mean.data;
      expect(a.every((x, i) => Object.is(x, b[i]))).toBe(true);
      await withHeads.dispose();
      await without.dispose();
    },
    TIMEOUT,
  );

  it(
    'disagree more away from the training data than on it (resonance frames, budget 256, seed 0)',
    async () => {
      // the expert keeps a swing of 0.1 near the strip's centre; half the test split's episodes start at an amplitude
      // of 1.5-2, where the training frames never lit a pixel
      const seed = 0,
        H = 4,
        K = resonance.spec.historySteps;
      const { model, train, world } = await fitted(resonance, 256, seed, {});
      const test = evaluationSet(resonance, world, 'test', seed, { count: 32, horizon: H });
      const away = evaluationWindows(resonance.spec, test, 'frame', H).query;
      // windows of the training episodes themselves, under the actions the expert took there
      const E = train.views.frame.shape[0];
      const on: Query = {
        view: 'frame',
        history: historyOf(sliceSteps(train, 10, 10 + K), K),
        actions: tensor([E, H, 1]),
        horizon: H,
      };
      for (let e = 0; e < E; e++)
        for (let h = 0; h < H; h++) block(on.actions!, e, h).set(block(train.actions!, e, 9 + K + h));
      const mean = (xs: Float64Array) => xs.reduce((s, x) => s + x, 0) / xs.length;
      const onData = mean(await model.disagreement(on));
      const awayFromData = mean(await model.disagreement(away));
      // measured 3.3e-6 on the training windows, 5.1e-5 on the test windows (15.6 times); margin: 3 times
      expect(awayFromData).toBeGreaterThan(3 * onData);
      await model.dispose();
    },
    TIMEOUT,
  );

  it(
    'are saved and loaded: the same disagreement and actions after a round trip, and no tensor left behind',
    async () => {
      const before = tf.memory().numTensors;
      const { model, train } = await fitted(spriteWorld, 32, 5, tiny);
      const history = historyOf(train, 5);
      const actions = Array.from((await model.act!(history, quietRun(5))).data);
      const dir = mkdtempSync(join(tmpdir(), 'spatial-act-'));
      try {
        await model.save(dir);
        const loaded = await SpatialModel.load(dir);
        expect(loaded.heads?.count()).toBe(model.heads?.count());
        expect(Array.from((await loaded.act!(history, quietRun(5))).data)).toEqual(actions);
        await loaded.dispose();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      await model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
    TIMEOUT,
  );
});
