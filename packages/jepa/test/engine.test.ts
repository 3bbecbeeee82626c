// jepa on the ONNX Runtime training engine (the default): its traced loss (jepaLoss written once against Ops) gives
// tfjs's loss, loss parts and gradients on a first batch of each layout, and of a generalist's networks (tables bound
// from shared values, token-space.ts); a fit repeats bit for bit per seed; the
// engine that trained is the one reported, and WORLDBENCH_TRAIN_ENGINE=tfjs trains on tfjs.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import bouncingBalls from '@worldbench/bouncing-balls';
import codeTrace from '@worldbench/code-trace';
import hiddenLaws from '@worldbench/hidden-laws';
import { createRng, jobWorld, quietRun, trainingSet, type Scenario } from '@worldbench/core';
import { backendName, initBackend, tf, tfjsOps } from '@worldbench/neural';
import { ORT_ENGINE, OrtEngine, TRAIN_ENGINE_ENV } from '@worldbench/onnx';
import lifeLike from '../../../scenarios/life-like/src/index';
import {
  buildTrainingSet,
  disposeTrainingSet,
  stepBatchOf,
  tensorsOf,
  windowArrays,
  type TrainingSet,
} from '../src/batch';
import type { JepaConfig } from '../src/config';
import { generalistNetworks } from '../src/generalist';
import { fitGeometry } from '../src/geometry';
import type { Networks } from '../src/model';
import { jepaLoss } from '../src/losses';
import { batchSizeFor, rolloutStepsFor } from '../src/schedule';
import { jepaEngineSpec, trainableParams, trainJepa } from '../src/train';
import { disposeNetworks, smallConfig, smallSetup, snapshot } from './helpers';

beforeAll(async () => {
  await initBackend();
});

afterEach(() => {
  delete process.env[TRAIN_ENGINE_ENV];
});

const PARTS = ['prediction', 'variance', 'covariance', 'probe'] as const;

/**
 * World `w`'s networks and training set of a generalist on `scenarios` (the other worlds' networks are built around the
 * same trunk and left unused): its state, program and probe tables bound from the shared values (token-space.ts).
 */
function generalistSetup(scenarios: Scenario[], w: number, budget: number, seed: number, config: JepaConfig) {
  const data = scenarios.map((s) => trainingSet(s, jobWorld(s, seed), 'behavior', budget, seed).observed);
  const geometries = scenarios.map((s, i) => fitGeometry(s.spec, 'state', { ...config, historySteps: 1 }, data[i]));
  const nets = generalistNetworks(
    geometries,
    config,
    seed,
    scenarios.map((_, i) => i),
  );
  return { nets: nets[w], set: buildTrainingSet(geometries[w], data[w], 'state', config.realReadout === 'change') };
}

/** Loss, parts and gradients of jepaLoss on tfjs and on the engine, on the same first batch and weights. */
async function firstBatch(scenario: Scenario, budget: number, seed: number, config: JepaConfig) {
  return firstBatchOf(smallSetup(scenario, budget, seed, config), config);
}

async function firstBatchOf({ nets, set }: { nets: Networks; set: TrainingSet }, config: JepaConfig) {
  const n = set.startEpisode.length;
  const B = batchSizeFor(n, set, config);
  const k = rolloutStepsFor(set, n, config);
  const examples = Int32Array.from({ length: B }, (_, i) => Math.floor((i * n) / B));
  const params = trainableParams(nets);
  const tfjs = tf.tidy(() => {
    const batch = stepBatchOf(tensorsOf(windowArrays(set, examples, k)), B, k);
    let parts: Record<string, number> = {};
    const { value, grads } = tf.variableGrads(() => {
      const p = jepaLoss(tfjsOps, nets, batch, config);
      parts = Object.fromEntries(PARTS.map((name) => [name, p[name].dataSync()[0]]));
      return p.total as tf.Scalar;
    }, params);
    // a weight the loss does not reach (e.g. an action table of a view without actions) has a zero gradient
    const read = (i: number) => (grads[params[i].name]?.dataSync() as Float32Array) ?? new Float32Array(params[i].size);
    return { loss: value.dataSync()[0], parts, grads: params.map((_, i) => read(i)) };
  });
  const engine = await OrtEngine.create({ ...jepaEngineSpec(nets, set, config, B, k), params });
  const traced = await engine.gradients(examples);
  await engine.finish();
  disposeTrainingSet(set);
  disposeNetworks(nets);
  let gap = 0;
  let scale = 0;
  tfjs.grads.forEach((g, i) =>
    g.forEach((v, j) => {
      gap = Math.max(gap, Math.abs(v - traced.grads[i][j]));
      scale = Math.max(scale, Math.abs(v));
    }),
  );
  return { tfjs, traced, gap, scale, k, B };
}

describe('jepaLoss on the engine against tfjs (first batch, same weights)', () => {
  const cases: [string, Scenario, number, number, JepaConfig][] = [
    ['code-trace (context rows read by the pointer token, int actions)', codeTrace, 128, 2, smallConfig],
    ['bouncing-balls (real state, masked objects, change readout)', bouncingBalls, 128, 4, smallConfig],
    ['hidden-laws (real actions)', hiddenLaws, 128, 5, smallConfig],
    ["life-like (a 24 x 24 grid read cell by cell: gridEncoder 'local')", lifeLike, 64, 6, smallConfig],
  ];
  // float32 sums of up to ~10^4 terms (a grid's cells x windows) in each runtime's own order: ~1e-5 relative
  for (const [name, scenario, budget, seed, config] of cases)
    it(`${name}: loss and parts within 1e-4 relative, gradients within 1e-4 of the largest`, async () => {
      const { tfjs, traced, gap, scale, k } = await firstBatch(scenario, budget, seed, config);
      expect(k).toBeGreaterThanOrEqual(1);
      expect(Math.abs(traced.loss - tfjs.loss)).toBeLessThan(1e-4 * Math.abs(tfjs.loss));
      for (const part of PARTS)
        expect(Math.abs(traced.report[part] - tfjs.parts[part]), part).toBeLessThan(
          1e-4 * Math.max(1e-3, tfjs.parts[part]),
        );
      expect(scale).toBeGreaterThan(1e-4); // the loss does train the networks
      expect(gap).toBeLessThan(1e-4 * scale);
    });
});

describe("a generalist's jepaLoss on the engine against tfjs (first batch, same weights)", () => {
  const cases: [string, number, number][] = [
    ['code-trace (state and program rows of the shared categorical values, bound probe keys)', 0, 2],
    ['bouncing-balls (real features of the shared real values, change readout through the shared query)', 1, 4],
  ];
  for (const [name, w, seed] of cases)
    it(`${name}: loss and parts within 1e-4 relative, gradients within 1e-4 of the largest`, async () => {
      const setup = generalistSetup([codeTrace, bouncingBalls], w, 128, seed, smallConfig);
      // the bound tables are in the graph: the state's (and code-trace's program's) and the probe's keys
      expect(setup.nets.probe.head).not.toBeNull();
      if (w === 0) expect(setup.nets.predictor.context).not.toBeNull();
      const { tfjs, traced, gap, scale } = await firstBatchOf(setup, smallConfig);
      expect(Math.abs(traced.loss - tfjs.loss)).toBeLessThan(1e-4 * Math.abs(tfjs.loss));
      for (const part of PARTS)
        expect(Math.abs(traced.report[part] - tfjs.parts[part]), part).toBeLessThan(
          1e-4 * Math.max(1e-3, tfjs.parts[part]),
        );
      expect(scale).toBeGreaterThan(1e-4);
      expect(gap).toBeLessThan(1e-4 * scale);
    });
});

describe('trainJepa on the engine', () => {
  const config: JepaConfig = { ...smallConfig, minSteps: 6, maxSteps: 6, probeFraction: 0.5 };

  async function fit(seed: number) {
    const { nets, set } = smallSetup(codeTrace, 64, 1, config);
    const summary = await trainJepa(nets, set, config, createRng(`engine/${seed}`), quietRun(seed));
    const weights = [...snapshot(trainableParams(nets)), ...snapshot(nets.target.params())];
    disposeTrainingSet(set);
    disposeNetworks(nets);
    return { summary, weights };
  }

  it('trains on the engine by default and repeats bit for bit per seed (weights, target, history)', async () => {
    const [a, b] = [await fit(11), await fit(11)];
    expect(a.summary.engine).toBe(ORT_ENGINE);
    expect(a.summary.history).toEqual(b.summary.history);
    expect(a.summary.probeFinal).toBe(b.summary.probeFinal);
    expect(a.weights).toEqual(b.weights);
    expect((await fit(12)).weights).not.toEqual(a.weights);
  });

  it('trains on tfjs with WORLDBENCH_TRAIN_ENGINE=tfjs, naming its backend', async () => {
    process.env[TRAIN_ENGINE_ENV] = 'tfjs';
    const { summary } = await fit(11);
    expect(summary.engine).toBe(backendName());
    expect(summary.history.length).toBeGreaterThan(0);
  });
});
