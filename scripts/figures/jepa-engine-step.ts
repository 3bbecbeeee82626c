// Issue 24: jepa's real networks trained on the ONNX Runtime engine against tfjs, side by side in one run.
//
// jepa's full loss (packages/jepa/src/losses.ts) is tfjs code, so the engine cannot trace it yet. This script
// writes its main term once against the Ops interface, on jepa's own networks (default config, built by
// buildNetworks from a real scenario's geometry): encode s_t with the online encoder, encode s_t..s_t+k with the
// target encoder under stop-gradient, roll the predictor out k steps on its own outputs (model.ts `rollout`), and
// take latentLoss's weighted mean squared distance. The same function runs on tfjs (tfjsOps, tf.variableGrads,
// neural's Adam) and is traced by the engine (OrtEngine, ArrayAdam). It checks that both give the same loss and
// gradients on the first batch, then times a step on each (minibatches of jepa's batch size and k).
//
//   tsx scripts/figures/jepa-engine-step.ts [--runs 5] [--steps 20] [--warmup 3]   (code-trace, budget 1024, seed 1000)

import codeTrace from '@worldbench/code-trace';
import { createRng, jobWorld, trainingSet } from '@worldbench/core';
import { Adam, type Ops, initBackend, tf, tfjsOps } from '@worldbench/neural';
import { OrtEngine, type StepData } from '@worldbench/onnx';
import { buildTrainingSet, inputOf, statesOf, stepsOf, windowBatch } from '../../packages/jepa/src/batch';
import { jepaDefaults } from '../../packages/jepa/src/config';
import { fitGeometry } from '../../packages/jepa/src/index';
import { buildNetworks, type Networks, rollout } from '../../packages/jepa/src/model';
import { batchSizeFor, rolloutStepsFor } from '../../packages/jepa/src/schedule';
import { trainableParams } from '../../packages/jepa/src/train';
import { load, median, timeSteps, timingArgs } from '../train-steps';

const { runs, steps, warmup } = timingArgs('jepa-engine-step');
const backend = await initBackend();
const [BUDGET, SEED] = [1024, 1000];

const config = jepaDefaults;
const data = trainingSet(codeTrace, jobWorld(codeTrace, SEED), 'behavior', BUDGET, SEED).observed;
const geometry = fitGeometry(codeTrace.spec, 'state', config, data);
const set = buildTrainingSet(geometry, data, 'state', config.realReadout === 'change');
const windows = set.startEpisode.length;
const B = batchSizeFor(windows, geometry.state.tokens, config);
const k = rolloutStepsFor(geometry.state.kind, windows, config);

/** One batch's inputs, by name: what the loss reads (tfjs tensors; the engine gets their values). */
type Inputs = Record<string, tf.Tensor>;

function batchInputs(examples: Int32Array): Inputs {
  return tf.tidy(() => {
    const b = windowBatch(set, examples, k);
    const s0 = statesOf(b.states, 0, 1, k + 1);
    const later = statesOf(b.states, 1, k, k + 1);
    const insideLater = tf.reshape(stepsOf(tf.reshape(b.inside, [B * (k + 1)]), 1, k, k + 1), [B * k, 1]);
    const out: Inputs = {
      s0Mask: s0.tokenMask,
      allMask: b.states.tokenMask,
      weight: tf.mul(later.tokenMask, insideLater), //                                 [B k, N]
    };
    const add = (name: string, t: tf.Tensor | undefined | null) => t && (out[name] = t);
    add('s0Ids', inputOf(s0).ids);
    add('s0X', inputOf(s0).x);
    add('allIds', b.states.ids);
    add('allX', b.states.x);
    add('context', b.context);
    b.actions?.forEach((a, j) => add(`action${j}`, a));
    return out;
  });
}

/** The latent prediction term of jepaLoss, once against Ops: zhat_1..k against the target encoder's latents. */
function predictionLoss<T>(ops: Ops<T>, nets: Networks, i: Record<string, T>): T {
  const z0 = nets.online.apply(ops, { ids: i.s0Ids, x: i.s0X, tokenMask: i.s0Mask }); //       [B, N, D]
  const targets = ops.stopGradient(nets.target.apply(ops, { ids: i.allIds, x: i.allX, tokenMask: i.allMask }));
  const actions = i.action0 !== undefined ? Array.from({ length: k }, (_, j) => i[`action${j}`]) : null;
  const predicted = rollout(ops, nets, z0, i.s0Ids ?? null, i.context ?? null, actions, i.s0Mask, k);
  const [N, D] = [geometry.state.tokens, config.width];
  const later = ops.reshape(ops.slice(ops.reshape(targets, [B, k + 1, N, D]), 1, 1, k + 1), [B * k, N, D]);
  const stacked = ops.reshape(
    ops.concat(
      predicted.map((z) => ops.reshape(z, [B, 1, N, D])),
      1,
    ),
    [B * k, N, D],
  );
  const d = ops.sub(stacked, later);
  const perToken = ops.mean(ops.mul(d, d), 2); //                                              [B k, N]
  const weighted = ops.sum(ops.sum(ops.mul(perToken, i.weight), 1), 0);
  return ops.div(weighted, ops.maximum(ops.sum(ops.sum(i.weight, 1), 0), 1));
}

const rng = createRng(`jepa-engine-step ${SEED}`);
const nextBatch = () => Int32Array.from(rng.shuffle(Array.from({ length: windows }, (_, w) => w)).slice(0, B));
const first = nextBatch();

// tfjs: the loss through tfjsOps, tf.variableGrads, neural's Adam
const tfjsNets = buildNetworks(geometry, config, `${SEED}/engine`);
const tfjsParams = trainableParams(tfjsNets);
const adam = new Adam(tfjsParams);
const tfjsGrads = (examples: Int32Array) => {
  const inputs = batchInputs(examples);
  const r = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => predictionLoss(tfjsOps, tfjsNets, inputs) as tf.Scalar, tfjsParams);
    return { loss: value.dataSync()[0], grads: tfjsParams.map((p) => grads[p.name]?.dataSync() ?? null) };
  });
  tf.dispose(Object.values(inputs));
  return r;
};
const tfjsStep = () => {
  const inputs = batchInputs(nextBatch());
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => predictionLoss(tfjsOps, tfjsNets, inputs) as tf.Scalar, tfjsParams);
    adam.step(
      tfjsParams.map((p) => grads[p.name]),
      1e-3,
    );
    return value.dataSync()[0];
  });
  tf.dispose(Object.values(inputs));
};

// engine: the same loss traced; the batch's inputs made by the same tfjs code, read out as arrays
const engineNets = buildNetworks(geometry, config, `${SEED}/engine`);
const probe = batchInputs(first);
const specInputs = Object.entries(probe).map(([name, t]) => ({
  name,
  shape: t.shape,
  dtype: t.dtype === 'int32' ? ('int32' as const) : ('float32' as const),
}));
tf.dispose(Object.values(probe));
const stepData = (examples: Int32Array): StepData => {
  const inputs = batchInputs(examples);
  const out: StepData = {};
  for (const [name, t] of Object.entries(inputs))
    out[name] = { data: t.dataSync() as Float32Array | Int32Array, dims: t.shape };
  tf.dispose(Object.values(inputs));
  return out;
};
const engine = await OrtEngine.create({
  params: trainableParams(engineNets),
  inputs: specInputs,
  loss: (ops, i) => predictionLoss(ops, engineNets, i),
  data: stepData,
  modules: { online: engineNets.online, predictor: engineNets.predictor, probe: engineNets.probe },
});

// the same loss and gradients on the first batch, from the same initial weights
const reference = tfjsGrads(first);
const traced = await engine.gradients(first);
let worst = 0;
let scale = 0;
traced.grads.forEach((g, p) => {
  const r = reference.grads[p];
  g.forEach((v, j) => {
    worst = Math.max(worst, Math.abs(v - (r ? r[j] : 0)));
    scale = Math.max(scale, Math.abs(r ? r[j] : 0));
  });
});
console.log(
  `code-trace budget ${BUDGET} seed ${SEED}: ${windows} windows, batch ${B}, k ${k}, ` +
    `${geometry.state.tokens} tokens, width ${config.width}; ${tfjsParams.reduce((s, p) => s + p.size, 0)} weights`,
);
console.log(
  `first batch: loss tfjs ${reference.loss.toPrecision(7)}, engine ${traced.loss.toPrecision(7)}; ` +
    `gradients max |engine - tfjs| ${worst.toExponential(2)} (largest |gradient| ${scale.toExponential(2)})`,
);

const loadBefore = load();
const rows: [string, number][] = [
  [`tfjs (${backend.name})`, median(await timeSteps('jepa tfjs', tfjsStep, runs, steps, warmup))],
  ['ort engine', median(await timeSteps('jepa engine', () => engine.step(nextBatch(), 1e-3), runs, steps, warmup))],
];
console.log(`jepa prediction step (encoders + ${k}-step predictor rollout), median of ${runs} x ${steps} steps:`);
for (const [name, ms] of rows)
  console.log(
    `${name.padEnd(24)}${ms.toFixed(1).padStart(8)} ms/step${(rows[0][1] / ms).toFixed(2).padStart(7)}x tfjs`,
  );
console.log(`1-min load ${loadBefore} before, ${load()} after`);
await engine.finish();
