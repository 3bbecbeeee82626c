// The 'vq' tokenizer option: the patch tokenizer alone (codebook in use, reconstruction bound), and the
// token dynamics end to end (fit, forecast shape / finiteness / range, explain(), the ORT forecast as the
// tfjs one, checkWorldModel's determinism and save -> load, no tensor leak). Dev seeds, budgets <= 256.
import {
  checkWorldModel,
  createRng,
  evaluationSet,
  evaluationWindows,
  jobWorld,
  quietRun,
  trainingSet,
  type Scenario,
} from '@worldbench/core';
import { initBackend, tf } from '@worldbench/neural';
import bouncingBalls from '@worldbench/bouncing-balls';
import spriteWorld from '@worldbench/sprite-world';
import { beforeAll, describe, expect, it } from 'vitest';
import spatial, { spatialConfig, spatialDefaults, type SpatialConfig } from '../src/index';
import { buildTrainingData } from '../src/dataset';
import { codebookUsage } from '../src/latent-actions';
import { PatchTokenizer, reconstructionError, trainTokenizer } from '../src/tokenizer';
import { dataTensors } from '../src/train';
import { geometryOf } from '../src/world-model';

const TIMEOUT = 900_000;
/** A short vq fit for the tests that check plumbing rather than skill. */
const tinyVq: Partial<SpatialConfig> = { tokenizer: 'vq', tokenizerSteps: 50, minSteps: 10, maxSteps: 10 };

beforeAll(async () => {
  await initBackend();
});

describe('the vq patch tokenizer', () => {
  it('rejects an unknown tokenizer, naming the valid ones', () => {
    expect(() => spatialConfig.resolve({ tokenizer: 'fsq' })).toThrow(/tokenizer is 'linear' or 'vq', got "fsq"/);
  });

  it('uses most of its codebook on bouncing-balls frames and reconstructs them to under a quarter of the pixel ' +
    'variance', {
    tags: ['slow'],
    timeout: TIMEOUT,
  }, async () => {
    const world = jobWorld(bouncingBalls, 0);
    const g = geometryOf(bouncingBalls.spec, 'frame', spatialDefaults);
    const d = buildTrainingData(g, trainingSet(bouncingBalls, world, 'behavior', 256, 0).observed, 'frame');
    const t = dataTensors(g, d);
    const tokenizer = new PatchTokenizer(createRng('tokenizer'), {
      pp: g.pp,
      width: 64,
      codes: 64,
      dim: 16,
      commitment: 0.25,
    });
    const trained = await trainTokenizer(tokenizer, t.cores, 32, 2e-3, 300, createRng('train'));
    const ids = tokenizer.ids(tf.reshape(t.cores, [-1, g.pp]) as tf.Tensor2D);
    const usage = codebookUsage(ids, 64);
    // ~88% of the patches are empty background (one code); the dead-code restarts spread the rest over the
    // codebook (measured 59 of 64 codes used, 139 restarts, reconstruction mse 0.0038 vs variance 0.024)
    expect(usage.counts.filter((c) => c > 0).length).toBeGreaterThanOrEqual(48);
    expect(trained.restarts).toBeGreaterThan(0);
    const variance = tf.tidy(() => tf.moments(t.cores).variance.dataSync()[0]);
    expect(reconstructionError(tokenizer, t.cores, ids)).toBeLessThan(0.25 * variance);
    tokenizer.dispose();
    t.dispose();
  });
});

describe('the token dynamics (tokenizer = vq)', () => {
  it('trains end to end on sprite-world: forecasts the right shape, finite, in [0, 1], through ORT as through tfjs; ' +
    'explain() reports the tokenizer; no tensor leak', { tags: ['slow'], timeout: TIMEOUT }, async () => {
    const seed = 1;
    const world = jobWorld(spriteWorld, seed);
    const train = trainingSet(spriteWorld, world, 'behavior', 128, seed).observed;
    const test = evaluationSet(spriteWorld, world, 'test', seed, { count: 6, horizon: 8 });
    const { query } = evaluationWindows(spriteWorld.spec, test, 'frame', 8);
    const before = tf.memory().numTensors;
    const forecasts: Float32Array[] = [];
    for (const forecastBackend of ['onnx', 'tfjs'] as const) {
      const model = await spatial.create(spriteWorld.spec, 'frame', {
        ...spatialDefaults,
        ...tinyVq,
        forecastBackend,
      });
      await model.fit(train, quietRun(seed));
      const f = await model.forecast(query, quietRun(seed));
      expect(f.mean.shape).toEqual([6, 8, 30, 30]);
      expect(f.mean.data.every((x) => Number.isFinite(x) && x >= 0 && x <= 1)).toBe(true);
      forecasts.push(f.mean.data);
      const tokenizer = model.explain!().tokenizer as Record<string, number | string>;
      expect(tokenizer.kind).toBe('vq');
      expect(tokenizer.codebookSize).toBe(64);
      expect(tokenizer.perplexity).toBeGreaterThan(1);
      // (50 tokenizer steps: plumbing; the reconstruction bound is the test above)
      expect(Number.isFinite(tokenizer.reconstructionMse)).toBe(true);
      expect(tokenizer.pixelVariance).toBeGreaterThan(0);
      await model.dispose?.();
    }
    let worst = 0;
    forecasts[0].forEach((x, i) => (worst = Math.max(worst, Math.abs(x - forecasts[1][i]))));
    expect(worst).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('passes checkWorldModel (determinism, save -> load) on bouncing-balls and sprite-world', {
    tags: ['slow'],
    timeout: TIMEOUT,
  }, async () => {
    for (const scenario of [bouncingBalls, spriteWorld] as Scenario[])
      expect(await checkWorldModel(spatial, scenario, { config: tinyVq })).toEqual(['frame']);
  });
});
