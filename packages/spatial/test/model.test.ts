// The model's behaviour with real numbers, on dev seeds and small budgets (each fit takes 10-60 s on one
// tfjs-wasm thread, so the timeouts are generous).
import {
  checkWorldModel,
  createRng,
  evaluateModel,
  jobWorld,
  quietRun,
  trainingSet,
  block,
  tensor,
  type Query,
  type Scenario,
} from '@worldbench/core';
import hiddenLaws from '@worldbench/hidden-laws';
import { initBackend, tf } from '@worldbench/neural';
import bouncingBalls from '@worldbench/bouncing-balls';
import lifeLike from '@worldbench/life-like';
import spriteWorld from '@worldbench/sprite-world';
import { beforeAll, describe, expect, it } from 'vitest';
import spatial, { spatialDefaults, type SpatialConfig, type SpatialModel } from '../src/index';
import { buildSamples, buildTrainingData } from '../src/dataset';
import { actionClasses, codebookUsage, normalisedMutualInformation } from '../src/latent-actions';
import { LatentActionModel } from '../src/model';
import { dataTensors, latentCodes, trainLatentActionModel } from '../src/train';
import { geometryOf } from '../src/world-model';
import { fitted } from './fitted';

const TIMEOUT = 900_000;
/** A short fit for the tests that check plumbing rather than skill. */
const tiny: Partial<SpatialConfig> = { minSteps: 10, maxSteps: 10 };

beforeAll(async () => {
  await initBackend();
});

describe('dynamics on bouncing-balls frames (true actions)', { tags: ['slow'] }, () => {
  it(
    'beats persistence at h = 1 by a skill of at least 0.25 at budget 256 (seed 0)',
    async () => {
      const r = await evaluateModel(spatial, bouncingBalls, {
        view: 'frame',
        budget: 256,
        seed: 0,
        horizon: 4,
        episodes: 32,
      });
      // measured 0.290 in the test split's units (docs/metrics.md); 0.331 in the training std's units of before
      expect(r.metrics.test.skill['1']).toBeGreaterThan(0.25);
      await r.model.dispose?.();
    },
    TIMEOUT,
  );
});

describe('latent action model on sprite-world (no action labels)', { tags: ['slow'] }, () => {
  it(
    // the expert presses noop on ~82% of its steps and some directions on under 1%, so only 3-5 codes can be
    // meaningful (measured at budget 512, seeds 0-2: 4, 3, 5 codes used; NMI 0.955, 0.892, 0.944)
    'uses at least 3 of its 8 codes (each on >= 1% of transitions, no collapse) and reaches NMI >= 0.8 with the ' +
      'true actions',
    async () => {
      const world = jobWorld(spriteWorld, 0);
      const data = trainingSet(spriteWorld, world, 'behavior', 512, 0).observed;
      const config = { ...spatialDefaults };
      const g = geometryOf(spriteWorld.spec, 'frame', config);
      const d = buildTrainingData(g, data, 'frame');
      const t = dataTensors(g, d);
      const lam = new LatentActionModel(createRng('lam'), {
        geometry: g,
        contextFrames: 1,
        width: 64,
        codes: 8,
        latentDim: 16,
        commitment: 0.25,
      });
      await trainLatentActionModel(lam, t, buildSamples(d, 1, 0).samples, config, 200, createRng('train'));
      const codes = latentCodes(
        lam,
        t,
        d.transitions.frame,
        Int32Array.from(d.transitions.frame, (f) => f + 1),
      );
      const usage = codebookUsage(codes, 8);
      const nmi = normalisedMutualInformation(
        codes,
        actionClasses(spriteWorld.spec.action!, d.transitions.actions!, d.transitions.count),
      );
      expect(usage.used).toBeGreaterThanOrEqual(3);
      expect(usage.perplexity).toBeGreaterThan(1.3);
      expect(nmi).toBeGreaterThan(0.8);
      lam.dispose();
      t.dispose();
    },
    TIMEOUT,
  );

  it(
    'trains action-free end to end: forecasts through the labelled map, explain() reports usage and NMI',
    async () => {
      const { model, query } = await fitted(spriteWorld, 256, 1, { ...tiny, actionFree: true });
      const f = await model.forecast(query, quietRun(1));
      expect(f.mean.shape).toEqual([6, 8, 30, 30]);
      const latent = model.explain!().latentActions as Record<string, unknown>;
      expect(latent.codebookSize).toBe(8);
      expect(typeof latent.nmi).toBe('number');
      expect(latent.labelled).toBeGreaterThan(0);
      expect(Object.keys(latent.codeOfAction as object).length).toBeGreaterThan(0);
      await model.dispose?.();
    },
    TIMEOUT,
  );
});

describe('rollouts, memory, determinism', { tags: ['slow'] }, () => {
  it(
    'rolls out H frames of the right shape, finite and inside [0, 1], on every kind of action',
    async () => {
      for (const scenario of [lifeLike, spriteWorld, bouncingBalls] as Scenario[]) {
        const { model, query } = await fitted(scenario, 64, 2, tiny);
        const f = await model.forecast(query, quietRun(2));
        expect(f.mean.shape).toEqual([6, 8, ...scenario.spec.views.frame.shape]);
        expect(f.mean.data.every((x) => Number.isFinite(x) && x >= 0 && x <= 1)).toBe(true);
        await model.dispose?.();
      }
    },
    TIMEOUT,
  );

  it(
    'leaves no tensor behind after create, fit, forecast and dispose',
    async () => {
      const before = tf.memory().numTensors;
      const { model, query } = await fitted(spriteWorld, 64, 3, { ...tiny, actionFree: true });
      await model.forecast(query, quietRun(3));
      await model.dispose?.();
      expect(tf.memory().numTensors).toBe(before);
    },
    TIMEOUT,
  );

  it(
    'gives identical forecasts for the same seed and different ones for another seed',
    async () => {
      const a = await fitted(bouncingBalls, 64, 4, tiny);
      const b = await fitted(bouncingBalls, 64, 4, tiny);
      const fa = (await a.model.forecast(a.query, quietRun(4))).mean.data;
      const fb = (await b.model.forecast(b.query, quietRun(4))).mean.data;
      expect(fa.every((x, i) => Object.is(x, fb[i]))).toBe(true);
      const world = jobWorld(bouncingBalls, 4);
      const other = await spatial.create(bouncingBalls.spec, 'frame', { ...spatialDefaults, ...tiny });
      await other.fit(trainingSet(bouncingBalls, world, 'behavior', 64, 4).observed, quietRun(5));
      const fc = (await other.forecast(a.query, quietRun(5))).mean.data;
      expect(fc.some((x, i) => x !== fa[i])).toBe(true);
      for (const m of [a.model, b.model, other]) await m.dispose?.();
    },
    TIMEOUT,
  );

  it(
    'passes checkWorldModel on every image scenario and refuses state-only ones with a reason',
    async () => {
      for (const scenario of [bouncingBalls, spriteWorld, lifeLike] as Scenario[])
        expect(await checkWorldModel(spatial, scenario, { config: tiny })).toEqual(['frame']);
      const support = spatial.supports({ ...lifeLike.spec, views: { state: lifeLike.spec.views.state } });
      expect(support.views).toEqual([]);
      expect('reason' in support && support.reason).toMatch(/image views/);
    },
    TIMEOUT,
  );
});

describe('ensembles of dynamics networks', { tags: ['slow'] }, () => {
  it(
    "forecasts the average of its members' rollouts; member 0 is the one network; saves and loads (seed 6)",
    async () => {
      const one = await fitted(bouncingBalls, 64, 6, tiny);
      const two = await fitted(bouncingBalls, 64, 6, { ...tiny, ensemble: 2 });
      expect(two.model.members.length).toBe(2);
      const weights = (m: SpatialModel, k: number) => m.members[k].params().map((p) => Array.from(p.dataSync()));
      expect(weights(two.model, 0)).toEqual(weights(one.model, 0));
      expect(weights(two.model, 1)).not.toEqual(weights(two.model, 0));
      const both = (await two.model.forecast(two.query)).mean.data;
      const alone = (await two.model.memberForecasts(two.query)).map((f) => f.mean.data);
      expect(alone[0]).toEqual((await one.model.forecast(one.query)).mean.data);
      expect(alone[1].some((x, i) => Math.abs(x - alone[0][i]) > 1e-3)).toBe(true);
      expect(both.every((x, i) => Math.abs(x - (alone[0][i] + alone[1][i]) / 2) < 1e-6)).toBe(true);
      for (const m of [one.model, two.model]) await m.dispose?.();
      // determinism and save -> load
      expect(await checkWorldModel(spatial, bouncingBalls, { config: { ...tiny, ensemble: 2 } })).toEqual(['frame']);
    },
    TIMEOUT,
  );
});

/** The query with every action rewritten by `f` (action values in, action values out). */
describe('self-forcing schedule by dataset size', () => {
  it(
    'rolls out largeRolloutSteps from largeFrom training transitions, rolloutSteps below (bouncing-balls, 64, seed 5)',
    async () => {
      const train = trainingSet(bouncingBalls, jobWorld(bouncingBalls, 5), 'behavior', 64, 5).observed;
      const rollouts: unknown[] = [];
      for (const largeFrom of [1, 100_000]) {
        const model = await spatial.create(bouncingBalls.spec, 'frame', { ...spatialDefaults, ...tiny, largeFrom });
        const report = await model.fit(train, quietRun(5));
        rollouts.push(report.notes?.rolloutSteps);
        await model.dispose?.();
      }
      expect(rollouts).toEqual([spatialDefaults.largeRolloutSteps, spatialDefaults.rolloutSteps]);
    },
    TIMEOUT,
  );
});

function withActions(query: Query, f: (a: Float32Array) => number[]): Query {
  const actions = tensor(query.actions!.shape);
  const [B, H] = actions.shape;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) block(actions, b, h).set(f(block(query.actions!, b, h)));
  return { ...query, actions };
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('actions outside the training support', () => {
  it(
    'hidden-laws: a push along y, which the expert never made, changes no forecast (it did before: raw)',
    async () => {
      const noY = (a: Float32Array) => [a[0], 0];
      for (const actionSupport of ['span', 'raw'] as const) {
        const { model, query } = await fitted(hiddenLaws, 64, 0, { ...tiny, actionSupport });
        const pushed = (await model.forecast(query)).mean.data;
        const outside = (model.explain().actionSupport as Record<string, number> | undefined)?.forecastActionsOutside;
        const flat = (await model.forecast(withActions(query, noY))).mean.data;
        if (actionSupport === 'span') {
          expect(maxDifference(pushed, flat)).toBeLessThan(1e-6);
          expect((model.explain().actionSupport as Record<string, unknown[]>).flatAxes).toHaveLength(1);
          // the 6 x 8 explore actions of the test windows push along y (almost surely all): outside the support
          expect(outside).toBeGreaterThan(0.9 * 6 * 8);
        } else expect(maxDifference(pushed, flat)).toBeGreaterThan(1e-3);
        await model.dispose();
      }
    },
    TIMEOUT,
  );

  it(
    'sprite-world: an action id no training transition took forecasts as no action (its embedding is zeroed)',
    async () => {
      // 16 transitions of an expert that mostly waits: some directions are never pressed
      const { model, query, train } = await fitted(spriteWorld, 16, 0, tiny);
      const seen = new Set(train.actions!.data);
      const unseen = [0, 1, 2, 3, 4].filter((id) => !seen.has(id));
      expect(unseen.length).toBeGreaterThan(0);
      expect((model.summary.training as Record<string, number>).untrainedActionIds).toBe(unseen.length);
      const none = (await model.forecast({ ...query, actions: null })).mean.data;
      const never = (await model.forecast(withActions(query, () => [unseen[0]]))).mean.data;
      expect(maxDifference(none, never)).toBeLessThan(1e-5);
      await model.dispose();
    },
    TIMEOUT,
  );
});

describe('hidden-laws frames: more expert data does not make the model worse', { tags: ['slow'] }, () => {
  it(
    'skill at h = 1 at budget 1024 is above 0 and at least that at 256 less 0.05 (seed 0)',
    async () => {
      const skill = async (budget: number) => {
        const r = await evaluateModel(spatial, hiddenLaws, { view: 'frame', budget, seed: 0, horizon: 4 });
        await r.model.dispose?.();
        return r.metrics.test.skill['1']!;
      };
      const small = await skill(256),
        large = await skill(1024);
      // diagnose-frames.ts (64 windows, h = 16), seed 0: 0.54 at 1024; with actionSupport=raw -0.07 at 256 and
      // -1.90 at 1024 (docs/experiments/2026-12-06-spatial-hidden-laws-frames.md). Two fits: about 85 s, so slow
      expect(large).toBeGreaterThan(0);
      expect(large).toBeGreaterThan(small - 0.05);
    },
    TIMEOUT,
  );
});
