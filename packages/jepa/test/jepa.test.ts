// The model end to end on dev seeds: on code-trace it learns the step beyond persistence and its latents do
// not collapse; it rejects unknown config keys, passes the public conformance suite on one scenario of each
// kind of state view, and leaks no tensors; the training schedule (passes and rollout steps per budget and view).
import { beforeAll, describe, expect, it } from 'vitest';
import bouncingBalls from '@worldbench/bouncing-balls';
import codeTrace from '@worldbench/code-trace';
import {
  checkWorldModel,
  evaluateModel,
  quietRun,
  trainingSet,
  jobWorld,
  evaluationSet,
  evaluationWindows,
} from '@worldbench/core';
import { persistence } from '@worldbench/baselines';
import { initBackend, tf } from '@worldbench/neural';
import lifeLike from '../../../scenarios/life-like/src/index';
import spriteWorld from '../../../scenarios/sprite-world/src/index';
import jepa from '../src/index';
import { plannedSteps, rolloutStepsFor, scheduleFor } from '../src/schedule';
import type { LatentDiagnostics } from '../src/diagnostics';

beforeAll(async () => {
  await initBackend();
});

const MINUTES = 60_000;

describe('jepa on code-trace (dev seed 3, budget 1024, default config)', () => {
  it('beats persistence on unseen programs, reads the program through the pc, and does not collapse', {
    tags: ['slow'],
    timeout: 20 * MINUTES,
  }, async () => {
    const opts = { view: 'state', budget: 1024, seed: 3 } as const;
    const ours = await evaluateModel(jepa, codeTrace, opts);
    const base = await evaluateModel(persistence, codeTrace, opts);
    const explained = ours.explain as { diagnostics: LatentDiagnostics; context: { pointer: { token: number } } };
    const diagnostics = explained.diagnostics;
    // the pointer into the program is the pc (state token 0), chosen from the training data
    expect(explained.context.pointer.token).toBe(0);
    // on training transitions the one-step predicted latents, read by the probe, are exactly right more often
    // than persistence (measured 2026-11-27: 0.703 against 0.564; an untrained residual predictor is
    // persistence in latent space, so this fails when nothing is learned)
    expect(diagnostics.probe.predicted.accStep as number).toBeGreaterThan(
      (diagnostics.persistence.accStep as number) + 0.08,
    );
    // on the 64 test windows (unseen programs) the next state is exactly right more often than persistence
    // (measured 0.531 against 0.453, 5 windows more; with every token attending to the program it was 0.453:
    // the registers' reads let it memorise the 32 training programs, README)
    const acc = ours.metrics.test.accStep['1'] as number;
    const accPersistence = base.metrics.test.accStep['1'] as number;
    expect(acc).toBeGreaterThan(accPersistence + 0.04);
    // no collapse: per token position the latents spread over many of their 64 dimensions (collapse: ~1; measured 37)
    expect(diagnostics.effectiveRank.min).toBeGreaterThan(8);
    // the probe reads the encoded latents of training states exactly
    expect(diagnostics.probe.accStep).toBeGreaterThan(0.95);
    await ours.model.dispose?.();
    await base.model.dispose?.();
  });

  it('rejects an unknown config key, listing the valid ones', async () => {
    await expect(jepa.create(codeTrace.spec, 'state', { ...jepa.defaults, rollout: 2 } as never)).rejects.toThrow(
      /no config key "rollout"; valid: width, .*rolloutSteps/,
    );
  });

  it('refuses the keys of retired designs, saying what became of them', async () => {
    await expect(
      jepa.create(codeTrace.spec, 'state', { ...jepa.defaults, contextRead: 'predictor' } as never),
    ).rejects.toThrow(/key contextRead was retired \(the program is read by the pointer token alone.*\); drop it/);
    expect(() => jepa.config?.resolve({ ...jepa.defaults, realActions: 'token' })).toThrow(
      /key realActions was retired \(real actions always enter as a linear map/,
    );
    expect(Object.keys(jepa.retiredKeys ?? {}).filter((k) => k in jepa.defaults)).toEqual([]);
  });
});

describe('training schedule', () => {
  it(
    'keeps `epochs` up to growFrom examples, then grows the passes as the square root; real views on large ' +
      'datasets roll out realRolloutSteps',
    () => {
      const c = jepa.defaults;
      expect(plannedSteps(1024, c)).toBe(Math.round((c.epochs * 1024) / c.batchSize));
      expect(plannedSteps(512, c)).toBe(Math.round((c.epochs * 512) / c.batchSize));
      expect(plannedSteps(4096, c)).toBe(Math.round((c.epochs * 4096) / c.batchSize));
      // 4x the examples: 2x the passes
      expect(plannedSteps(16384, c)).toBe(Math.min(c.maxSteps, Math.round((2 * c.epochs * 16384) / c.batchSize)));
      // above growFrom the same steps as the earlier 6 passes growing from 1024 windows (the 4096+ figures' schedule)
      expect(plannedSteps(8192, c)).toBe(Math.round((6 * Math.sqrt(8) * 8192) / c.batchSize));
      expect(plannedSteps(1 << 20, c)).toBe(c.maxSteps);
      expect(plannedSteps(8, c)).toBe(c.minSteps);
      // passes are counted at the batch the fit uses
      expect(plannedSteps(1024, c, 8)).toBe(Math.round((c.epochs * 1024) / 8));
      const shape = (kind: 'categorical' | 'real', cells = false) => ({ kind, tokens: cells ? 576 : 5, cells });
      const k = (kind: 'categorical' | 'real', n: number, config = c) => rolloutStepsFor(shape(kind), n, config);
      expect([
        k('categorical', 4096),
        k('real', 1024),
        k('real', 4096),
        k('real', 4096, { ...c, realRolloutSteps: 0 }),
      ]).toEqual([2, 2, 8, 1]);
      // rolloutSteps 0 (the teacher-forced twin of selfForcingGain) is teacher forcing on every view and size
      expect([k('categorical', 4096, { ...c, rolloutSteps: 0 }), k('real', 4096, { ...c, rolloutSteps: 0 })]).toEqual([
        1, 1,
      ]);
      // a 24 x 24 grid read cell by cell: cellBatch windows a step over cellEpochs passes, cellRolloutSteps
      expect(scheduleFor(1024, shape('categorical', true), c)).toEqual({
        batch: c.cellBatch,
        steps: Math.round((c.cellEpochs * 1024) / c.cellBatch),
        k: c.cellRolloutSteps,
      });
      expect(scheduleFor(1024, shape('categorical'), c)).toEqual({
        batch: c.batchSize,
        steps: plannedSteps(1024, c),
        k: c.rolloutSteps,
      });
      expect(scheduleFor(1024, shape('categorical', true), { ...c, cellRolloutSteps: 3 }).k).toBe(3);
      expect(scheduleFor(1024, shape('categorical', true), { ...c, rolloutSteps: 0, cellRolloutSteps: 3 }).k).toBe(1);
    },
  );
});

describe('jepa on life-like (dev seed 0, budget 256, default config: the grid read cell by cell)', () => {
  it('learns the cellular rule: far more cells right at h = 1 than persistence', {
    tags: ['slow'],
    timeout: 30 * MINUTES,
  }, async () => {
    const opts = { view: 'state', budget: 256, seed: 0 } as const;
    const ours = await evaluateModel(jepa, lifeLike, opts);
    const base = await evaluateModel(persistence, lifeLike, opts);
    // skill reads whole steps exactly right (accStep), which neither gets at this budget (576 cells a step);
    // the share of cells right tells them apart. Measured 2026-12-06: jepa 0.980 against persistence's 0.718
    // (the patches reader, the earlier default, forecast persistence exactly: skill 0.000 at every budget)
    const acc = ours.metrics.test.accElement['1'] as number;
    const accPersistence = base.metrics.test.accElement['1'] as number;
    expect(acc).toBeGreaterThan(accPersistence + 0.15);
    expect(acc).toBeGreaterThan(0.9);
    // the diagnostics read at most 32768 cell tokens: 56 grids of 576 cells
    expect((ours.explain as { diagnostics: { states: number } }).diagnostics.states).toBe(56);
    await ours.model.dispose?.();
    await base.model.dispose?.();
  });
});

describe('conformance', () => {
  // one scenario per kind of state: categorical with a program (code-trace), real with a mask and actions
  // (bouncing-balls), a categorical grid read in patches (life-like)
  for (const scenario of [codeTrace, bouncingBalls, lifeLike])
    it(
      `passes checkWorldModel on ${scenario.spec.id} (budget 64, 4 training steps)`,
      async () => {
        // the contract, not the quality: a few optimiser steps keep the file fast
        expect(
          await checkWorldModel(jepa, scenario, { seed: 5, budget: 64, config: { epochs: 1, minSteps: 4 } }),
        ).toEqual(['state']);
      },
      10 * MINUTES,
    );
});

describe('jepa on sprite-world (dev seed 0, budget 1024, default config)', () => {
  it('reads the action: above persistence at h = 1, where the state alone explains the expert', {
    tags: ['slow'],
    timeout: 30 * MINUTES,
  }, async () => {
    const ours = await evaluateModel(jepa, spriteWorld, { view: 'state', budget: 1024, seed: 0 });
    // measured 2026-12-06: 0.324; with the action embedded from zero (the earlier default) -0.378, below
    // persistence: the expert's action is a function of the state, and the network never grew the action's rows
    expect(ours.metrics.test.skill['1'] as number).toBeGreaterThan(0.15);
    await ours.model.dispose?.();
  });
});

describe('tensor memory', () => {
  it(
    'fit + forecast + dispose leaves no tensor behind (real view with a mask and actions)',
    async () => {
      const seed = 7;
      const world = jobWorld(bouncingBalls, seed);
      const train = trainingSet(bouncingBalls, world, 'behavior', 64, seed).observed;
      const test = evaluationSet(bouncingBalls, world, 'test', seed, { count: 8, horizon: 4 });
      const { query } = evaluationWindows(bouncingBalls.spec, test, 'state', 4);
      const before = tf.memory().numTensors;
      for (let round = 0; round < 2; round++) {
        const model = await jepa.create(bouncingBalls.spec, 'state', { ...jepa.defaults, minSteps: 5, maxSteps: 5 });
        await model.fit(train, quietRun(seed));
        const f = await model.forecast(query, quietRun(seed));
        expect(f.mean.shape).toEqual([8, 4, 4, 4]);
        // padding rows are forecast as zeros
        const mask = query.history.views.state_mask;
        for (let b = 0; b < 8; b++)
          for (let ball = 0; ball < 4; ball++)
            if (mask.get(b, 3, ball) === 0) expect(f.mean.get(b, 0, ball, 0)).toBe(0);
        await model.dispose?.();
        expect(tf.memory().numTensors).toBe(before);
      }
    },
    10 * MINUTES,
  );
});
