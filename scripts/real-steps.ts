// jepa's and spatial's real networks, each with its loss's main term written once against the Ops interface, so
// the same loss trains on tfjs and on the ONNX Runtime engine: what `pnpm perf` and
// scripts/figures/real-engine-steps.ts time side by side. Their whole losses are tfjs code in their packages
// (not changed here): these terms are
//   jepa     latentLoss of the k-step predictor rollout against the target encoder (encoders + predictor, with its
//            context read and pointer), on jepa's default networks built from code-trace's geometry (budget 1024,
//            seed 1000, jepa's batch size and k);
//   spatial  trainDynamics' teacher-forced pixel-weighted squared error of the dynamics' step (default config,
//            sprite-world's frame geometry and action kind), on seeded random frames of the real shapes.
// Each checks that both engines give the same loss and gradients on the first batch, from the same weights.

import codeTrace from '@worldbench/code-trace';
import { createRng, jobWorld, trainingSet } from '@worldbench/core';
import { Adam, type Module, type Ops, tf, tfjsOps } from '@worldbench/neural';
import { OrtEngine, type StepData } from '@worldbench/onnx';
import spriteWorld from '@worldbench/sprite-world';
import { buildTrainingSet, inputOf, statesOf, stepsOf, windowBatch } from '../packages/jepa/src/batch';
import { jepaDefaults } from '../packages/jepa/src/config';
import { fitGeometry } from '../packages/jepa/src/index';
import { buildNetworks, type Networks, rollout } from '../packages/jepa/src/model';
import { batchSizeFor, rolloutStepsFor } from '../packages/jepa/src/schedule';
import { trainableParams } from '../packages/jepa/src/train';
import { spatialDefaults } from '../packages/spatial/src/config';
import { Dynamics, actionKindOf } from '../packages/spatial/src/model';
import { geometryOf } from '../packages/spatial/src/world-model';
import { type Step, gradientGap } from './train-steps';

/** A real network's step on both engines, checked against each other on the first batch. */
export interface RealStep {
  title: string;
  /** The geometry, batch and weight count, in one line. */
  summary: string;
  check: { tfjsLoss: number; engineLoss: number; worst: number; scale: number };
  /** Trained weights (scalars). */
  weights: number;
  tfjs: Step;
  engine: Step;
  dispose: () => Promise<void>;
}

/** Inputs by name, as tfjs tensors (the caller frees them). */
type Inputs = Record<string, tf.Tensor>;

/**
 * One loss on two copies of a network from the same seed: on tfjs (tfjsOps, tf.variableGrads, neural's Adam) and
 * traced by the engine (OrtEngine, ArrayAdam), each step's inputs cut by `inputs` (tfjs code, read out as arrays
 * for the engine).
 */
async function sideBySide<N>(o: {
  make: () => N;
  params: (net: N) => tf.Variable[];
  modules: (net: N) => Record<string, Module>;
  dispose: (net: N) => void;
  loss: <T>(ops: Ops<T>, net: N, i: Record<string, T>) => T;
  inputs: (batch: Int32Array) => Inputs;
  /** The engine's step data, where it has them as arrays already (default: `inputs` read out). */
  arrays?: (batch: Int32Array) => StepData;
  nextBatch: () => Int32Array;
}): Promise<Omit<RealStep, 'title' | 'summary'>> {
  const first = o.nextBatch();
  const tfjsNet = o.make();
  const params = o.params(tfjsNet);
  const adam = new Adam(params);
  const tfjsRun = (batch: Int32Array, update: boolean) => {
    const inputs = o.inputs(batch);
    const r = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => o.loss(tfjsOps, tfjsNet, inputs) as tf.Scalar, params);
      if (update)
        adam.step(
          params.map((p) => grads[p.name]),
          1e-3,
        );
      return { loss: value.dataSync()[0], grads: update ? [] : params.map((p) => grads[p.name]?.dataSync() ?? null) };
    });
    tf.dispose(Object.values(inputs));
    return r;
  };

  const engineNet = o.make();
  const probe = o.inputs(first);
  const specInputs = Object.entries(probe).map(([name, t]) => ({
    name,
    shape: t.shape,
    dtype: t.dtype === 'int32' ? ('int32' as const) : ('float32' as const),
  }));
  tf.dispose(Object.values(probe));
  const data = (batch: Int32Array): StepData => {
    const inputs = o.inputs(batch);
    const out: StepData = {};
    for (const [name, t] of Object.entries(inputs))
      out[name] = { data: t.dataSync() as Float32Array | Int32Array, dims: t.shape };
    tf.dispose(Object.values(inputs));
    return out;
  };
  const engine = await OrtEngine.create({
    params: o.params(engineNet),
    inputs: specInputs,
    loss: (ops, i) => o.loss(ops, engineNet, i),
    data: o.arrays ?? data,
    modules: o.modules(engineNet),
  });

  const reference = tfjsRun(first, false);
  const traced = await engine.gradients(first);
  return {
    check: { tfjsLoss: reference.loss, engineLoss: traced.loss, ...gradientGap(traced.grads, reference.grads) },
    weights: params.reduce((sum, p) => sum + p.size, 0),
    tfjs: () => tfjsRun(o.nextBatch(), true),
    engine: () => engine.step(o.nextBatch(), 1e-3),
    dispose: async () => {
      adam.dispose();
      await engine.finish();
      for (const net of [tfjsNet, engineNet]) o.dispose(net);
    },
  };
}

// region jepa -------------------------------------------------------------------------------------------------

/** jepa's prediction step (see the file comment). */
export async function jepaStep(): Promise<RealStep> {
  const [BUDGET, SEED] = [1024, 1000];
  const config = jepaDefaults;
  const data = trainingSet(codeTrace, jobWorld(codeTrace, SEED), 'behavior', BUDGET, SEED).observed;
  const geometry = fitGeometry(codeTrace.spec, 'state', config, data);
  const set = buildTrainingSet(geometry, data, 'state', config.realReadout === 'change');
  const windows = set.startEpisode.length;
  const B = batchSizeFor(windows, geometry.state.tokens, config);
  const k = rolloutStepsFor(geometry.state.kind, windows, config);

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
  const step = await sideBySide<Networks>({
    make: () => buildNetworks(geometry, config, `${SEED}/engine`),
    params: trainableParams,
    modules: (n) => ({ online: n.online, predictor: n.predictor, probe: n.probe }),
    dispose: (n) => [n.online, n.target, n.predictor, n.probe].forEach((m) => m.dispose()),
    loss: predictionLoss,
    inputs: batchInputs,
    nextBatch: () => Int32Array.from(rng.shuffle(Array.from({ length: windows }, (_, w) => w)).slice(0, B)),
  });
  return {
    title: `jepa prediction step (encoders + ${k}-step predictor rollout)`,
    summary:
      `code-trace budget ${BUDGET} seed ${SEED}: ${windows} windows, batch ${B}, k ${k}, ` +
      `${geometry.state.tokens} tokens, width ${config.width}; ${step.weights} weights`,
    ...step,
  };
}
// endregion
// region spatial ----------------------------------------------------------------------------------------------

/** spatial's teacher-forced dynamics step (see the file comment). */
export async function spatialStep(): Promise<RealStep> {
  const config = spatialDefaults;
  const spec = spriteWorld.spec;
  const view = 'frame';
  const g = geometryOf(spec, view, config);
  const C = config.contextFrames > 0 ? config.contextFrames : spec.tags.includes('discrete') ? 1 : 3;
  const action = actionKindOf(spec.action, false, config.latentActions);
  const B = config.batchSize;
  const A = action.kind === 'none' ? 0 : action.kind === 'latent' ? 1 : action.size;
  const make = () =>
    new Dynamics(createRng('spatial-engine-step').fork('dynamics'), {
      geometry: g,
      contextFrames: C,
      width: config.width,
      depth: config.depth,
      heads: config.heads,
      mlpRatio: config.mlpRatio,
      radius: config.attentionRadius,
      action,
      tokens: 0,
    });
  // seeded frames of the real shapes: context [B, C, P, J], current and target [B, P, pp], actions [B, A]
  const rng = createRng('spatial-engine-step data');
  const uniform = (n: number) => Float32Array.from({ length: n }, () => rng.next());
  const shapes: Record<string, number[]> = {
    context: [B, C, g.P, g.J],
    current: [B, g.P, g.pp],
    target: [B, g.P, g.pp],
    weights: [g.P, g.pp],
  };
  const arrays: Record<string, Float32Array | Int32Array> = Object.fromEntries(
    Object.entries(shapes).map(([name, shape]) => [name, uniform(shape.reduce((a, b) => a * b, 1))]),
  );
  if (action.kind !== 'none') {
    shapes.actions = [B, A];
    arrays.actions =
      action.kind === 'real'
        ? Float32Array.from({ length: B * A }, () => rng.normal())
        : Int32Array.from({ length: B * A }, (_, j) =>
            action.kind === 'int' ? (j % A) * action.vocab + rng.int(action.vocab) : rng.int(action.codes),
          );
  }

  /** trainDynamics' teacher-forced loss, once against Ops: mean((step(context, current, a) - target)^2 * weights). */
  function dynamicsLoss<T>(ops: Ops<T>, dynamics: Dynamics, i: Record<string, T>): T {
    const predicted = dynamics.step(ops, i.context, i.current, i.actions ?? null); //                 [B, P, pp]
    const d = ops.sub(predicted, i.target);
    return ops.mean(ops.reshape(ops.mul(ops.mul(d, d), i.weights), [-1]), 0);
  }

  const batch = new Int32Array(B);
  const step = await sideBySide<Dynamics>({
    make,
    params: (d) => d.params(),
    modules: (d) => ({ dynamics: d }),
    dispose: (d) => d.dispose(),
    loss: dynamicsLoss,
    inputs: () => Object.fromEntries(Object.entries(arrays).map(([name, a]) => [name, tf.tensor(a, shapes[name])])),
    arrays: () =>
      Object.fromEntries(Object.entries(arrays).map(([name, a]) => [name, { data: a, dims: shapes[name] }])),
    nextBatch: () => batch,
  });
  return {
    title: "spatial dynamics step (teacher-forced, the model's default geometry)",
    summary:
      `sprite-world ${view} ${spec.views[view].shape.join('x')}: ${g.P} patches of ${g.pp} pixels (halo ${g.J}), ` +
      `C ${C}, action ${action.kind}, batch ${B}, width ${config.width}, depth ${config.depth}; ` +
      `${step.weights} weights`,
    ...step,
  };
}
// endregion
