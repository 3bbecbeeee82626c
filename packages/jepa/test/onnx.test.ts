// Forecasting through ONNX Runtime (onnx.ts) on dev seeds: each graph traced from the networks agrees with the
// same networks run by tfjs on random latents, the whole forecast agrees with the tfjs forecast within 1e-4
// (code-trace with its program read through the pc; bouncing-balls: real, masked, with actions; sprite-world: a
// grid read cell by cell),
// FitReport.backend names the forecast's runtime, and the ORT sessions are released on refit and dispose.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import bouncingBalls from '@worldbench/bouncing-balls';
import codeTrace from '@worldbench/code-trace';
import spriteWorld from '../../../scenarios/sprite-world/src/index';
import {
  createRng,
  evaluationSet,
  evaluationWindows,
  jobWorld,
  quietRun,
  trainingSet,
  type Query,
  type Scenario,
} from '@worldbench/core';
import { backendName, initBackend, tf, tfjsOps as ops } from '@worldbench/neural';
import { ORT_ENGINE, onnxForecastBackend, openSession, ortTensor, type OrtFeeds } from '@worldbench/onnx';
import type { JepaConfig } from '../src/config';
import { forecastWith, tfjsRollout, type RolloutInput } from '../src/forecast';
import jepa from '../src/index';
import { exportForecastGraphs, OnnxRollout } from '../src/onnx';
import { disposeTrainingSet } from '../src/batch';
import { trainJepa } from '../src/train';
import { disposeNetworks, maxAbs, smallConfig, smallSetup } from './helpers';

beforeAll(async () => {
  await initBackend();
});

afterEach(() => {
  vi.restoreAllMocks();
});

const MINUTES = 60_000;
const TOLERANCE = 1e-4;

/** Test windows of a scenario: `count` episodes, horizon `horizon`. */
function testQuery(scenario: Scenario, seed: number, count: number, horizon: number): Query {
  const test = evaluationSet(scenario, jobWorld(scenario, seed), 'test', seed, { count, horizon });
  return evaluationWindows(scenario.spec, test, 'state', horizon).query;
}

/**
 * Small networks trained for a few steps; then the largest |ORT - tfjs| of each graph output on the
 * query's encoded inputs and random latents, and of the forecasts.
 */
async function parity(scenario: Scenario, seed: number, config: JepaConfig): Promise<Record<string, number>> {
  const { geometry, nets, set } = smallSetup(scenario, 64, seed, config);
  await trainJepa(nets, set, { ...config, minSteps: 6, maxSteps: 6 }, createRng(`${seed}/train`), quietRun(seed));
  disposeTrainingSet(set);
  // the predictor's output projection (and the linear action map of real actions) start at zero and are still
  // small: made random (std 0.3), so that every part of the predictor shows in its output
  const rng = createRng(`${seed}/weights`);
  for (const w of [nets.predictor.out.w, ...(nets.predictor.actionLinear ? [nets.predictor.actionLinear.w] : [])])
    tf.tidy(() =>
      w.assign(
        tf.tensor(
          Float32Array.from({ length: w.size }, () => 0.3 * rng.normal()),
          w.shape,
        ),
      ),
    );
  const q = testQuery(scenario, seed, 12, 6);
  const spec = scenario.spec.views.state;
  // the tfjs forecast, keeping the encoded inputs the networks read
  let input: RolloutInput | null = null;
  const viaTfjs = await forecastWith(
    (i) => ((input = i), tfjsRollout(nets, geometry)(i)),
    geometry,
    spec,
    q,
    nets.probe.change,
  );
  const onnx = await OnnxRollout.open(nets, geometry);
  const viaOnnx = await forecastWith(onnx.run, geometry, spec, q, nets.probe.change);
  await onnx.release();
  const inp = input as unknown as RolloutInput;

  // each graph on its own: "encode" on the encoded states, "step" on random latents
  const graphs = exportForecastGraphs(nets, geometry);
  const [encode, step] = [await openSession(graphs.encode), await openSession(graphs.step)];
  const { tokens: N, slots: S, lags: L } = geometry.state;
  const R = geometry.context.tokens,
    D = config.width,
    b = inp.count,
    A = geometry.action?.size ?? 0;
  const latents = () => Float32Array.from({ length: b * N * D }, () => rng.normal());
  const [z, z0] = [latents(), latents()];
  const feeds: OrtFeeds = { tokenMask: ortTensor(inp.tokenMask.slice(), [b, N]) };
  if (inp.ids) feeds.ids = ortTensor(inp.ids.slice(), [b, N, S]);
  if (inp.x) feeds.x = ortTensor(inp.x.slice(), [b, N, L * S]);
  if (inp.contextIds) feeds.contextIds = ortTensor(inp.contextIds.slice(), [b, R, inp.contextSlots]);
  const encoded = await encode.run(feeds);
  const actions = inp.actionsAt(0);
  const stepFeeds: OrtFeeds = { z: ortTensor(z, [b, N, D]), tokenMask: feeds.tokenMask };
  if (actions) stepFeeds.action = ortTensor(actions, [b, A]);
  if (encoded.context) stepFeeds.context = encoded.context;
  if (nets.probe.change) stepFeeds.z0 = ortTensor(z0, [b, N, D]);
  const expected = tf.tidy(() => {
    const mask = tf.tensor2d(inp.tokenMask, [b, N]);
    const ids = inp.ids ? tf.tensor3d(inp.ids, [b, N, S], 'int32') : undefined;
    const x = inp.x ? tf.tensor3d(inp.x, [b, N, L * S]) : undefined;
    const ctxIds = inp.contextIds ? tf.tensor3d(inp.contextIds, [b, R, inp.contextSlots], 'int32') : null;
    const ctx = nets.predictor.embedContext(ops, ctxIds);
    const zt = tf.tensor3d(z, [b, N, D]);
    const a = actions ? tf.tensor2d(actions, [b, A], actions instanceof Int32Array ? 'int32' : 'float32') : null;
    const pointer = ctx ? (y: tf.Tensor) => nets.probe.valuePointer(ops, y, R) : null;
    const values = pointer?.(zt) ?? null;
    const observed = pointer && ids ? nets.probe.observedValues(ops, ids, R) : null;
    const next = nets.predictor.apply(ops, zt, a, ctx, mask, values);
    const reading = nets.probe.read(
      ops,
      nets.probe.apply(ops, next, nets.probe.change ? tf.tensor3d(z0, [b, N, D]) : undefined),
    );
    const encoded = nets.online.apply(ops, { ids, x, tokenMask: mask });
    // the graphs hold the context as the predictor projects it (computed once per rollout)
    return {
      z0: encoded.dataSync(),
      context: ctx ? nets.predictor.project(ops, ctx).dataSync() : undefined,
      values: values?.dataSync(),
      z0Values: observed?.dataSync(),
      next: next.dataSync(),
      nextValues: pointer?.(next).dataSync(),
      reading: reading.dataSync(),
    };
  });
  // "step" reads the value pointer of z as an input: given tfjs's (its own is checked on z0 and on next)
  if (expected.values) stepFeeds.values = ortTensor(Float32Array.from(expected.values), [b, N, R]);
  const stepped = await step.run(stepFeeds);
  await encode.release();
  await step.release();
  disposeNetworks(nets);
  const diff: Record<string, number> = {
    z0: maxAbs(encoded.z0.data as Float32Array, expected.z0),
    next: maxAbs(stepped.next.data as Float32Array, expected.next),
    reading: maxAbs(stepped.reading.data as Float32Array, expected.reading),
    forecast: maxAbs(viaOnnx.data, viaTfjs.data),
  };
  if (expected.context) diff.context = maxAbs(encoded.context.data as Float32Array, expected.context);
  if (expected.z0Values && expected.nextValues) {
    diff.z0Values = maxAbs(encoded.values.data as Float32Array, expected.z0Values);
    diff.nextValues = maxAbs(stepped.nextValues.data as Float32Array, expected.nextValues);
  }
  // the step graph is no identity (it moved the random latents)
  diff.moved = maxAbs(expected.next, z);
  return diff;
}

describe('ORT parity with tfjs (small networks trained 6 steps, dev seeds)', () => {
  it(
    'code-trace, the pc gathers its row (default): every graph output and the forecast within 1e-4',
    async () => {
      const d = await parity(codeTrace, 3, smallConfig);
      expect(Object.keys(d).sort()).toEqual([
        'context',
        'forecast',
        'moved',
        'next',
        'nextValues',
        'reading',
        'z0',
        'z0Values',
      ]);
      for (const k of ['z0', 'context', 'z0Values', 'next', 'nextValues', 'reading', 'forecast'])
        expect(d[k], k).toBeLessThanOrEqual(TOLERANCE);
      expect(d.moved).toBeGreaterThan(0.1);
    },
    5 * MINUTES,
  );

  it(
    'bouncing-balls (real, mask, actions, change readout): within 1e-4',
    async () => {
      const d = await parity(bouncingBalls, 5, smallConfig);
      for (const k of ['z0', 'next', 'reading', 'forecast']) expect(d[k], k).toBeLessThanOrEqual(TOLERANCE);
      expect(d.moved).toBeGreaterThan(0.1);
    },
    5 * MINUTES,
  );

  it(
    'sprite-world (a grid read cell by cell, local mixing, an action on every cell): within 1e-4',
    async () => {
      const d = await parity(spriteWorld, 2, smallConfig);
      for (const k of ['z0', 'next', 'reading', 'forecast']) expect(d[k], k).toBeLessThanOrEqual(TOLERANCE);
      expect(d.moved).toBeGreaterThan(0.1);
    },
    5 * MINUTES,
  );
});

describe('the model forecasting through ORT (code-trace, dev seed 6, budget 128)', () => {
  it(
    'forecasts as the tfjs switch does, reports each backend, and releases its sessions on refit and dispose',
    async () => {
      const seed = 6;
      const train = trainingSet(codeTrace, jobWorld(codeTrace, seed), 'behavior', 128, seed).observed;
      const q = testQuery(codeTrace, seed, 16, 8);
      const release = vi.spyOn(OnnxRollout.prototype, 'release');
      const config = { ...jepa.defaults, width: 32, minSteps: 8, maxSteps: 8 };
      const viaOnnx = await jepa.create(codeTrace.spec, 'state', config);
      const viaTfjs = await jepa.create(codeTrace.spec, 'state', { ...config, forecastBackend: 'tfjs' });
      // the training engine (the ONNX Runtime engine by default), and ONNX Runtime beside it for the forecasts
      expect((await viaOnnx.fit(train, quietRun(seed))).backend).toBe(onnxForecastBackend(ORT_ENGINE));
      expect((await viaTfjs.fit(train, quietRun(seed))).backend).toBe(ORT_ENGINE);
      expect(backendName()).not.toMatch(/onnxruntime/);
      // same seed, same training: the two runtimes forecast the same classes
      const [a, b] = [
        (await viaOnnx.forecast(q, quietRun(seed))).mean,
        (await viaTfjs.forecast(q, quietRun(seed))).mean,
      ];
      expect(a.shape).toEqual(b.shape);
      expect(maxAbs(a.data, b.data)).toBeLessThanOrEqual(TOLERANCE);
      expect(release).not.toHaveBeenCalled();
      await viaOnnx.fit(train, quietRun(seed)); // a refit releases the sessions of the last fit
      expect(release).toHaveBeenCalledTimes(1);
      await viaOnnx.dispose?.();
      await viaTfjs.dispose?.();
      expect(release).toHaveBeenCalledTimes(2);
    },
    5 * MINUTES,
  );

  it('rejects an unknown forecastBackend, listing the valid ones', async () => {
    await expect(
      jepa.create(codeTrace.spec, 'state', { ...jepa.defaults, forecastBackend: 'gpu' } as never),
    ).rejects.toThrow(/forecastBackend is 'onnx' or 'tfjs', got "gpu"/);
  });
});
