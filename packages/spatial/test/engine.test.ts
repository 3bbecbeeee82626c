// spatial on the ONNX Runtime training engine: every stage's loss (written once against Ops, losses.ts) gives the
// same loss and gradients on the engine as on tfjs from the same weights and batch; training on the engine is
// deterministic per seed; a fit names the engine that trained it. The engine is chosen explicitly here
// (WORLDBENCH_TRAIN_ENGINE passed as env), whatever the default. Dev seeds, budget 64.
import { createRng, jobWorld, quietRun, trainingSet } from '@worldbench/core';
import bouncingBalls from '@worldbench/bouncing-balls';
import { initBackend, tf, tfjsOps } from '@worldbench/neural';
import { ORT_ENGINE, OrtEngine, type StepData } from '@worldbench/onnx';
import spriteWorld from '@worldbench/sprite-world';
import { beforeAll, describe, expect, it } from 'vitest';
import spatial, { spatialDefaults, type SpatialModel } from '../src/index';
import { buildSamples, buildTrainingData, pixelWeights, type TrainingData } from '../src/dataset';
import { Dynamics, LatentActionModel, actionKindOf } from '../src/model';
import type { PatchGeometry } from '../src/patches';
import type { Stage } from '../src/stage';
import { PatchTokenizer, tokenizerStage } from '../src/tokenizer';
import {
  type ActionTable,
  dataTensors,
  dynamicsStage,
  latentActionStage,
  tokenDynamicsStage,
  trainDynamics,
  trainLatentActionModel,
} from '../src/train';
import { contextFramesOf, dynamicsShape, geometryOf } from '../src/world-model';

const ONNX = { WORLDBENCH_TRAIN_ENGINE: 'onnx' };
const config = spatialDefaults;

beforeAll(async () => {
  await initBackend();
});

/** bouncing-balls (real actions, C = 3) or sprite-world (int actions, C = 1) training data at budget 64, seed 0. */
function dataOf(scenario: typeof bouncingBalls) {
  const g = geometryOf(scenario.spec, 'frame', config);
  const data = trainingSet(scenario, jobWorld(scenario, 0), 'behavior', 64, 0).observed;
  const d = buildTrainingData(g, data, 'frame');
  const C = contextFramesOf(scenario.spec, config);
  return { g, d, C };
}

/** The encoder input of every transition (real values as given, int actions as ids element * vocab + value). */
function actionsOf(scenario: typeof bouncingBalls, d: TrainingData): ActionTable {
  const spec = scenario.spec.action!;
  const A = spec.shape.reduce((a, b) => a * b, 1);
  const raw = d.transitions.actions!;
  if (spec.kind === 'real') return { values: raw, A };
  return { values: Int32Array.from(raw, (v, j) => (j % A) * spec.vocab! + Math.round(v)), A };
}

function dynamicsOf(scenario: typeof bouncingBalls, C: number, tokens = 0): Dynamics {
  const action = actionKindOf(scenario.spec.action, false, config.latentActions);
  const g = geometryOf(scenario.spec, 'frame', config);
  return new Dynamics(createRng('engine-test').fork('dynamics'), dynamicsShape(config, g, C, action, tokens));
}

function lamOf(g: PatchGeometry, C: number): LatentActionModel {
  return new LatentActionModel(createRng('lam'), {
    geometry: g,
    contextFrames: C,
    width: config.width,
    codes: config.latentActions,
    latentDim: config.latentDim,
    commitment: config.commitment,
  });
}

/** A step's data as tensors (what the tfjs path feeds its loss). */
function tensors(data: StepData): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [
      k,
      tf.tensor(v.data as Float32Array, v.dims, v.data instanceof Int32Array ? 'int32' : 'float32'),
    ]),
  );
}

/**
 * Loss and gradients of `stage` on `batch` on tfjs and on the engine, from the same weights: the relative gap of
 * the losses, and the largest gradient gap over the largest gradient.
 */
async function compare(stage: Stage, batch: Int32Array): Promise<{ loss: number; lossGap: number; gradGap: number }> {
  const inputs = tensors(stage.data(batch));
  const reference = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => stage.forward(tfjsOps, inputs).loss as tf.Scalar, stage.params);
    return { loss: value.dataSync()[0], grads: stage.params.map((p) => grads[p.name].dataSync()) };
  });
  tf.dispose(Object.values(inputs));
  const engine = await OrtEngine.create({
    params: stage.params,
    inputs: stage.inputs,
    modules: stage.modules,
    data: stage.data,
    loss: (ops, i) => stage.forward(ops, i).loss,
  });
  const traced = await engine.gradients(batch);
  await engine.finish();
  let worst = 0;
  let scale = 0;
  traced.grads.forEach((g, p) =>
    g.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - reference.grads[p][j]));
      scale = Math.max(scale, Math.abs(reference.grads[p][j]));
    }),
  );
  return {
    loss: reference.loss,
    lossGap: Math.abs(traced.loss - reference.loss) / Math.abs(reference.loss),
    gradGap: worst / scale,
  };
}

// a batch of 20 samples: not the default 32, so the symbolic batch dimension is exercised
const batch = Int32Array.from({ length: 20 }, (_, i) => (i * 7) % 40);

describe('every stage gives the same loss and gradients on the engine as on tfjs (first batch, same weights)', () => {
  // float32 round-off of two runtimes summing in different orders: measured loss gaps up to 1.7e-5 (the 'vq'
  // tokenizer's means over 32,000 entries) and gradient gaps up to 2e-7 of the largest gradient; a wrong
  // reverse-mode rule or a wrong input gives gaps of order 1
  const expectSame = (r: { loss: number; lossGap: number; gradGap: number }) => {
    expect(Number.isFinite(r.loss) && r.loss > 0).toBe(true);
    expect(r.lossGap).toBeLessThan(1e-4);
    expect(r.gradGap).toBeLessThan(1e-4);
  };

  it('the latent action model (encoder, cosine VQ with straight-through codes, decoder)', async () => {
    const { g, d, C } = dataOf(bouncingBalls);
    const lam = lamOf(g, C);
    expectSame(await compare(latentActionStage(lam, d.frames, buildSamples(d, C, 0).samples), batch));
    lam.dispose();
  });

  it('the dynamics, teacher-forced and with a self-forcing rollout through its clipped predictions', async () => {
    for (const scenario of [bouncingBalls, spriteWorld] as (typeof bouncingBalls)[]) {
      const { g, d, C } = dataOf(scenario);
      const dynamics = dynamicsOf(scenario, C);
      // the zero-initialised head makes the untrained model persistence; move it so every weight gets a gradient
      dynamics.head.w.assign(tf.randomNormal(dynamics.head.w.shape, 0, 0.05, 'float32', 1));
      const samples = buildSamples(d, C, 2).samples;
      const weights = pixelWeights(d.frames, g.pixels, config.stdWeighting);
      // width 3: the one-step term against the mean of the later two (losses.ts dynamicsLoss)
      for (const width of [1, 2, 3])
        expectSame(
          await compare(dynamicsStage(dynamics, d.frames, samples, actionsOf(scenario, d), weights, width), batch),
        );
      dynamics.dispose();
    }
  });

  it("the 'vq' tokenizer and the token dynamics (cross-entropy over next token ids)", async () => {
    const { g, d, C } = dataOf(spriteWorld as unknown as typeof bouncingBalls);
    const tokenizer = new PatchTokenizer(createRng('tokenizer'), {
      pp: g.pp,
      width: config.width,
      codes: config.tokenCodes,
      dim: config.tokenDim,
      commitment: config.commitment,
    });
    expectSame(await compare(tokenizerStage(tokenizer, d.frames.cores, g.P), batch));
    const ids = Int32Array.from({ length: d.frames.count * g.P }, (_, j) => (j * 13) % config.tokenCodes);
    const dynamics = dynamicsOf(spriteWorld as unknown as typeof bouncingBalls, C, config.tokenCodes);
    const samples = buildSamples(d, C, 0).samples;
    expectSame(
      await compare(
        tokenDynamicsStage(dynamics, ids, samples, actionsOf(spriteWorld as unknown as typeof bouncingBalls, d)),
        batch,
      ),
    );
    tokenizer.dispose();
    dynamics.dispose();
  });
});

describe('training on the engine', () => {
  it('is deterministic per seed: LAM (restarts on) and dynamics trained twice end equal', async () => {
    const { g, d, C } = dataOf(bouncingBalls);
    const t = dataTensors(g, d);
    const base = buildSamples(d, C, 0).samples;
    const dyn = buildSamples(d, C, 1).samples;
    const small = { ...config, batchSize: 16 };
    const weights = tf.tensor2d(pixelWeights(d.frames, g.pixels, config.stdWeighting), [g.P, g.pp]);
    const actions = tf.tensor2d(d.transitions.actions!, [d.transitions.count, 2]);
    const run = async () => {
      const lam = lamOf(g, C);
      const lt = await trainLatentActionModel(lam, t, base, small, 60, createRng('train'), undefined, ONNX);
      const dynamics = dynamicsOf(bouncingBalls, C);
      const phases = await trainDynamics(
        dynamics,
        t,
        dyn,
        actions,
        weights,
        small,
        20,
        createRng('dyn'),
        undefined,
        ONNX,
      );
      const values = [...lam.params(), ...dynamics.params()].map((p) => Array.from(p.dataSync()));
      lam.dispose();
      dynamics.dispose();
      return { lt, phases, values };
    };
    const a = await run();
    const b = await run();
    expect([a.lt.result.engine, ...a.phases.map((p) => p.engine)]).toEqual([ORT_ENGINE, ORT_ENGINE, ORT_ENGINE]);
    // the restarts ran on the engine's codebook (60 steps: evaluations at 25 and 50 restart unused codes)
    expect(a.lt.restarts).toBeGreaterThan(0);
    expect(b.lt.restarts).toBe(a.lt.restarts);
    expect(b.values).toEqual(a.values);
    expect(a.phases.map((p) => p.steps)).toEqual([10, 10]);
    tf.dispose([weights, actions]);
    t.dispose();
  });

  it('names the engine in FitReport.backend and explain().training.engines', async () => {
    const before = process.env.WORLDBENCH_TRAIN_ENGINE;
    process.env.WORLDBENCH_TRAIN_ENGINE = 'onnx';
    try {
      const data = trainingSet(bouncingBalls, jobWorld(bouncingBalls, 1), 'behavior', 64, 1).observed;
      const model = (await spatial.create(bouncingBalls.spec, 'frame', {
        ...config,
        minSteps: 10,
        maxSteps: 10,
      })) as SpatialModel;
      const report = await model.fit(data, quietRun(1));
      expect(report.backend).toMatch(/^onnxruntime [\d.]+ \(training graph\)\+onnxruntime/);
      const engines = (model.explain().training as Record<string, Record<string, string>>).engines;
      expect(Object.keys(engines)).toEqual(['latentActions', 'dynamics0', 'dynamics1']);
      expect(new Set(Object.values(engines))).toEqual(new Set([ORT_ENGINE]));
      await model.dispose();
    } finally {
      if (before === undefined) delete process.env.WORLDBENCH_TRAIN_ENGINE;
      else process.env.WORLDBENCH_TRAIN_ENGINE = before;
    }
  });
});
