// jepa's and spatial's real networks, each with a loss written once against the Ops interface, so the same loss
// trains on tfjs and on the ONNX Runtime engine: what `pnpm perf` and scripts/figures/real-engine-steps.ts time
// side by side. The losses:
//   jepa     latentLoss of the k-step predictor rollout against the target encoder (encoders + predictor, with its
//            context read and pointer), on jepa's default networks built from code-trace's geometry (budget 1024,
//            seed 1000, jepa's batch size and k);
//   spatial  the dynamics stage's own loss (losses.ts dynamicsLoss) rolled 1 step, i.e. teacher-forced: the
//            pixel-weighted squared error of the dynamics' step (default config, sprite-world's frame geometry and
//            action kind), on seeded random frames of the real shapes;
//   jepa's whole loss (losses.ts jepaLoss at the defaults, its changeWeight resolved as training does: + VICReg,
//            the probe and the anchor) on the same networks, traced by jepa's own engine spec (train.ts
//            jepaEngineSpec, the target encoder's weights fed) from the step arrays training feeds.
// Each checks that both engines give the same loss and gradients on the first batch, from the same weights, and
// writes what its PyTorch twin (scripts/figures/torch_real_twins.py) needs to run and check the same step: the
// geometry, the initial weights by name, the batches, and tfjs's loss and gradients on the first batch.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import codeTrace from '@worldbench/code-trace';
import { createRng, jobWorld, trainingSet } from '@worldbench/core';
import { Adam, type Module, type Ops, tf, tfjsOps } from '@worldbench/neural';
import { OrtEngine, type OrtEngineSpec, type StepData } from '@worldbench/onnx';
import spriteWorld from '@worldbench/sprite-world';
import {
  buildTrainingSet,
  inputOf,
  statesOf,
  stepBatchOf,
  stepsOf,
  tensorsOf,
  windowArrays,
  windowBatch,
} from '../packages/jepa/src/batch';
import { jepaDefaults } from '../packages/jepa/src/config';
import { fitGeometry } from '../packages/jepa/src/index';
import { contextTableRows } from '../packages/jepa/src/inputs';
import { changeWeightFor, jepaLoss } from '../packages/jepa/src/losses';
import { buildNetworks, type Networks, rollout } from '../packages/jepa/src/model';
import { batchSizeFor, rolloutStepsFor } from '../packages/jepa/src/schedule';
import { jepaEngineSpec, trainableParams } from '../packages/jepa/src/train';
import { spatialDefaults } from '../packages/spatial/src/config';
import type { NeighbourhoodAttention } from '../packages/spatial/src/attention';
import { dynamicsLoss } from '../packages/spatial/src/losses';
import { Dynamics, actionKindOf } from '../packages/spatial/src/model';
import { contextFramesOf, dynamicsShape, geometryOf } from '../packages/spatial/src/world-model';
import { type Step, gradientGap } from './train-steps';

/** A real network's step on both engines, checked against each other on the first batch. */
export interface RealStep {
  title: string;
  /** The geometry, batch and weight count, in one line. */
  summary: string;
  /** tfjs's first-batch loss and largest gradient; the engine's loss and largest gradient gap to tfjs's. */
  check: { tfjsLoss: number; scale: number; engine: { loss: number; worst: number } };
  /** Trained weights (scalars). */
  weights: number;
  tfjs: Step;
  engine: Step;
  /** What the engine traced (to profile its graph), and the batches the steps draw. */
  engineSpec: OrtEngineSpec;
  nextBatch: () => Int32Array;
  /** The directory of the PyTorch twin's spec (`--net <twin.net> --spec <twin.dir>`), removed by dispose. */
  twin: { net: 'jepa' | 'spatial'; dir: string };
  dispose: () => Promise<void>;
}

/** An array of the twin's spec, as data.bin holds it. */
type Blob = { data: Float32Array | Int32Array; shape: number[] };

/** What the PyTorch twin of a real network is told (see scripts/figures/torch_real_twins.py). */
export interface TwinSpec {
  net: 'jepa' | 'spatial';
  /** The sizes the twin builds its modules from. */
  geometry: Record<string, number | string>;
  /** Every weight it loads (frozen ones too), by the TS modules' dotted paths. */
  modules: Record<string, Module>;
  /** Fixed tables the network holds outside its weights (spatial's neighbourhood index and mask). */
  constants?: Record<string, Blob>;
}

/** Batches of step data the twin cycles through (its data are ready tensors: no batch is cut while timed). */
const TWIN_BATCHES = 8;

/**
 * Writes the twin's spec.json and data.bin into a new temporary directory: `net`, `geometry`, `trainable` (the names
 * of the trained weights, in the optimiser's order) and byte offsets of every array (`params`, `batches`,
 * `constants`, `grads`: tfjs's gradients on batch 0, absent where tfjs found none).
 */
function writeTwinSpec(
  spec: TwinSpec,
  trained: tf.Variable[],
  batches: Record<string, Blob>[],
  grads: (Float32Array | Int32Array | Uint8Array | null)[],
  loss: number,
): string {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const put = ({ data, shape }: Blob) => {
    const entry = { offset, shape, dtype: data instanceof Int32Array ? 'int32' : 'float32' };
    parts.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
    offset += data.byteLength;
    return entry;
  };
  const names = new Map<tf.Variable, string>();
  const params: Record<string, unknown> = {};
  for (const [module, m] of Object.entries(spec.modules))
    for (const [name, v] of m.namedParams(`${module}.`)) {
      names.set(v, name);
      params[name] = put({ data: v.dataSync() as Float32Array, shape: v.shape });
    }
  const trainable = trained.map((v) => {
    const name = names.get(v);
    if (name === undefined) throw new Error(`twin spec: trained weight ${v.name} is in none of the twin's modules`);
    return name;
  });
  const gradEntries: Record<string, unknown> = {};
  grads.forEach((g, p) => {
    if (g) gradEntries[trainable[p]] = put({ data: Float32Array.from(g), shape: trained[p].shape });
  });
  const json = {
    net: spec.net,
    geometry: spec.geometry,
    trainable,
    loss,
    params,
    batches: batches.map((b) => Object.fromEntries(Object.entries(b).map(([name, blob]) => [name, put(blob)]))),
    constants: Object.fromEntries(Object.entries(spec.constants ?? {}).map(([name, blob]) => [name, put(blob)])),
    grads: gradEntries,
  };
  const dir = mkdtempSync(join(tmpdir(), `worldbench-${spec.net}-twin-`));
  writeFileSync(join(dir, 'data.bin'), Buffer.concat(parts));
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(json));
  return dir;
}

/** Inputs by name, as tfjs tensors (the caller frees them). */
type Inputs = Record<string, tf.Tensor>;

/**
 * The engine's side of a step: `loss` traced over the step's inputs with the weights of `modules` (its data `arrays`,
 * where they are arrays already, else `inputs` read out), or the model's own engine spec but its trained weights
 * (`spec`: its inputs, data, fed weights and loss).
 */
type EngineSide<N> =
  | { modules: (net: N) => Record<string, Module>; arrays?: (batch: Int32Array) => StepData }
  | { spec: (net: N) => Omit<OrtEngineSpec, 'params' | 'adam'> };

/**
 * One loss on two copies of a network from the same seed: on tfjs (tfjsOps, tf.variableGrads, neural's Adam) and
 * on the engine (OrtEngine, ArrayAdam), each step's tfjs inputs cut by `inputs` (tfjs code), the engine's as
 * `engine` says.
 */
async function sideBySide<N>(o: {
  make: () => N;
  params: (net: N) => tf.Variable[];
  dispose: (net: N) => void;
  loss: <T>(ops: Ops<T>, net: N, i: Record<string, T>) => T;
  inputs: (batch: Int32Array) => Inputs;
  engine: EngineSide<N>;
  nextBatch: () => Int32Array;
  /** The PyTorch twin's spec, but the weights and batches (`modules` of the tfjs copy). */
  twin: (net: N) => TwinSpec;
  /** The twin's step data, where it reads other names than the engine (default: the engine's step data). */
  twinData?: (batch: Int32Array) => Record<string, Blob>;
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
  const engineSpec: OrtEngineSpec = {
    ...('spec' in o.engine ? o.engine.spec(engineNet) : tracedSpec(o, o.engine, engineNet, first)),
    params: o.params(engineNet),
  };
  const engine = await OrtEngine.create(engineSpec);

  const reference = tfjsRun(first, false);
  const traced = await engine.gradients(first);
  const { worst, scale } = gradientGap(traced.grads, reference.grads);
  const blobs = (batch: Int32Array): Record<string, Blob> =>
    Object.fromEntries(
      Object.entries(engineSpec.data(batch)).map(([name, d]) => {
        if (d.data instanceof BigInt64Array) throw new Error(`twin spec: input ${name} is int64; pass int32`);
        return [name, { data: d.data, shape: d.dims }];
      }),
    );
  const twinBatches = [first, ...Array.from({ length: TWIN_BATCHES - 1 }, () => o.nextBatch())].map(
    o.twinData ?? blobs,
  );
  const twin = o.twin(tfjsNet);
  const dir = writeTwinSpec(twin, params, twinBatches, reference.grads, reference.loss);
  return {
    check: { tfjsLoss: reference.loss, scale, engine: { loss: traced.loss, worst } },
    weights: params.reduce((sum, p) => sum + p.size, 0),
    tfjs: () => tfjsRun(o.nextBatch(), true),
    engine: () => engine.step(o.nextBatch(), 1e-3),
    engineSpec,
    nextBatch: o.nextBatch,
    twin: { net: twin.net, dir },
    dispose: async () => {
      adam.dispose();
      await engine.finish();
      for (const net of [tfjsNet, engineNet]) o.dispose(net);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The engine's spec of `loss` traced over the inputs `inputs` cuts (names, shapes and dtypes of `first`'s). */
function tracedSpec<N>(
  o: { loss: <T>(ops: Ops<T>, net: N, i: Record<string, T>) => T; inputs: (batch: Int32Array) => Inputs },
  side: Extract<EngineSide<N>, { modules: unknown }>,
  net: N,
  first: Int32Array,
): Omit<OrtEngineSpec, 'params' | 'adam'> {
  const probe = o.inputs(first);
  const inputs = Object.entries(probe).map(([name, t]) => ({
    name,
    shape: t.shape,
    dtype: t.dtype === 'int32' ? ('int32' as const) : ('float32' as const),
  }));
  tf.dispose(Object.values(probe));
  const data = (batch: Int32Array): StepData => {
    const tensors = o.inputs(batch);
    const out: StepData = {};
    for (const [name, t] of Object.entries(tensors))
      out[name] = { data: t.dataSync() as Float32Array | Int32Array, dims: t.shape };
    tf.dispose(Object.values(tensors));
    return out;
  };
  return { inputs, loss: (ops, i) => o.loss(ops, net, i), data: side.arrays ?? data, modules: side.modules(net) };
}

// region jepa -------------------------------------------------------------------------------------------------

const [BUDGET, SEED] = [1024, 1000];

/** jepa on code-trace (see the file comment): the training set, its batches as inputs, the twin's spec. */
function jepaSetup() {
  const data = trainingSet(codeTrace, jobWorld(codeTrace, SEED), 'behavior', BUDGET, SEED).observed;
  const geometry = fitGeometry(codeTrace.spec, 'state', jepaDefaults, data);
  const set = buildTrainingSet(geometry, data, 'state', jepaDefaults.realReadout === 'change');
  // as trainJepa resolves it: changeWeight 0 (balanced) becomes the set's weight of a changing token
  const config = { ...jepaDefaults, changeWeight: changeWeightFor(set, jepaDefaults) };
  const windows = set.startEpisode.length;
  const B = batchSizeFor(windows, set, config);
  const k = rolloutStepsFor(set, windows, config);

  /**
   * A batch's inputs; `whole` adds what the rest of jepaLoss reads: labels and weights [B (k+1), N, S] (the change
   * weight's and the probe's), and the anchor's weights of s_t [B, N, S].
   */
  function batchInputs(examples: Int32Array, whole = false): Inputs {
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
      if (whole) {
        add('labels', b.states.labels);
        add('stateWeights', tf.mul(b.states.weights, tf.reshape(b.inside, [B * (k + 1), 1, 1])));
        add('s0Weights', s0.weights);
      }
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

  /** The twin's spec: the prediction term alone, or jepaLoss's whole loss (with the anchor where `nets` has one). */
  function twin(nets: Networks, loss: 'prediction' | 'whole'): TwinSpec {
    // the twin covers code-trace's geometry; another scenario's would need its action, real or grid parts
    const { state, context, action, pointer } = geometry;
    const token = pointer?.token ?? null;
    if (state.kind !== 'categorical' || state.grid || action !== null || token === null || context.tokens === 0)
      throw new Error('jepa twin: written for categorical state tokens without actions, with a pointer into rows');
    return {
      net: 'jepa',
      geometry: {
        loss,
        width: config.width,
        heads: config.heads,
        mlpRatio: config.mlpRatio,
        encoderLayers: config.encoderLayers,
        predictorLayers: config.predictorLayers,
        probeHidden: config.probeHidden,
        probeOnPredictions: config.probeOnPredictions ? 1 : 0,
        varianceWeight: config.varianceWeight,
        covarianceWeight: config.covarianceWeight,
        changeWeight: config.changeWeight,
        anchorWeight: nets.anchor ? config.anchorWeight : 0,
        tokens: state.tokens,
        slots: state.slots,
        vocab: state.vocab,
        rows: context.tokens,
        contextTable: contextTableRows(context),
        pointer: token,
        k,
      },
      modules: {
        online: nets.online,
        target: nets.target,
        predictor: nets.predictor,
        probe: nets.probe,
        ...(nets.anchor ? { anchor: nets.anchor } : {}),
      },
    };
  }
  const make = () => buildNetworks(geometry, config, `${SEED}/engine`);
  const dispose = (n: Networks) => [n.online, n.target, n.predictor, n.probe, n.anchor].forEach((m) => m?.dispose());
  const summary =
    `code-trace budget ${BUDGET} seed ${SEED}: ${windows} windows, batch ${B}, k ${k}, ` +
    `${geometry.state.tokens} tokens, width ${config.width}`;
  return { config, set, B, k, batchInputs, predictionLoss, nextBatch, twin, make, dispose, summary };
}

/** jepa's prediction step (see the file comment). */
export async function jepaStep(): Promise<RealStep> {
  const { k, batchInputs, predictionLoss, nextBatch, twin, make, dispose, summary } = jepaSetup();
  // the anchor reads z_t in jepaLoss's other terms only: its weights would get no gradient here
  const withoutAnchor = (n: Networks): Networks => ({ ...n, anchor: null });
  const step = await sideBySide<Networks>({
    make,
    params: (n) => trainableParams(withoutAnchor(n)),
    dispose,
    loss: predictionLoss,
    inputs: (batch) => batchInputs(batch),
    engine: { modules: (n) => ({ online: n.online, predictor: n.predictor, probe: n.probe }) },
    nextBatch,
    twin: (nets) => twin(withoutAnchor(nets), 'prediction'),
  });
  return {
    title: `jepa prediction step (encoders + ${k}-step predictor rollout)`,
    summary: `${summary}; ${step.weights} weights`,
    ...step,
  };
}

/**
 * jepa's whole training loss (losses.ts jepaLoss at the defaults: prediction with changing tokens weighed +
 * VICReg variance and covariance + the probe's cross-entropy on frozen latents + the anchor's readout of z_t), on
 * the step arrays training feeds (batch.ts windowArrays); the engine is jepa's own (train.ts jepaEngineSpec: the
 * target encoder's weights fed, not trained). Without the target encoder's EMA update, as jepaStep: it runs after
 * the step in training, on tfjs variables or the engine's fed arrays.
 */
export async function jepaWholeStep(): Promise<RealStep> {
  const { config, set, B, k, batchInputs, nextBatch, twin, make, dispose, summary } = jepaSetup();
  const step = await sideBySide<Networks>({
    make,
    params: trainableParams,
    dispose,
    loss: (ops, nets, i) => jepaLoss(ops, nets, stepBatchOf(i, B, k), config).total,
    inputs: (examples) => tensorsOf(windowArrays(set, examples, k)),
    engine: { spec: (nets) => jepaEngineSpec(nets, set, config, B, k) },
    nextBatch,
    twin: (nets) => twin(nets, 'whole'),
    twinData: (examples) => {
      const inputs = batchInputs(examples, true);
      const out = Object.fromEntries(
        Object.entries(inputs).map(([name, t]) => [
          name,
          { data: t.dataSync() as Float32Array | Int32Array, shape: t.shape } as Blob,
        ]),
      );
      tf.dispose(Object.values(inputs));
      return out;
    },
  });
  return {
    title: `jepa whole loss (prediction + VICReg + probe + anchor, ${k}-step rollout)`,
    summary: `${summary}; ${step.weights} weights`,
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
  const C = contextFramesOf(spec, config);
  const action = actionKindOf(spec.action, false, config.latentActions);
  const B = config.batchSize;
  const A = action.kind === 'none' ? 0 : action.kind === 'latent' ? 1 : action.size;
  const make = () =>
    new Dynamics(createRng('spatial-engine-step').fork('dynamics'), dynamicsShape(config, g, C, action));
  // seeded frames of the real shapes, named as the stage's step data: context [B, C, P, J], current and target0
  // [B, P, pp], action0 [B, A]
  const rng = createRng('spatial-engine-step data');
  const uniform = (n: number) => Float32Array.from({ length: n }, () => rng.next());
  const shapes: Record<string, number[]> = {
    context: [B, C, g.P, g.J],
    current: [B, g.P, g.pp],
    target0: [B, g.P, g.pp],
    weights: [g.P, g.pp],
  };
  const arrays: Record<string, Float32Array | Int32Array> = Object.fromEntries(
    Object.entries(shapes).map(([name, shape]) => [name, uniform(shape.reduce((a, b) => a * b, 1))]),
  );
  if (action.kind !== 'none') {
    shapes.action0 = [B, A];
    arrays.action0 =
      action.kind === 'real'
        ? Float32Array.from({ length: B * A }, () => rng.normal())
        : Int32Array.from({ length: B * A }, (_, j) =>
            action.kind === 'int' ? (j % A) * action.vocab + rng.int(action.vocab) : rng.int(action.codes),
          );
  }

  const batch = new Int32Array(B);
  const step = await sideBySide<Dynamics>({
    make,
    params: (d) => d.params(),
    dispose: (d) => d.dispose(),
    // the stage's loss rolled 1 step (teacher forcing): mean((step(context, current, action0) - target0)^2 * weights)
    loss: (ops, d, i) => dynamicsLoss(ops, d, 1, i.weights, null, i).loss,
    inputs: () => Object.fromEntries(Object.entries(arrays).map(([name, a]) => [name, tf.tensor(a, shapes[name])])),
    engine: {
      modules: (d) => ({ dynamics: d }),
      arrays: () =>
        Object.fromEntries(Object.entries(arrays).map(([name, a]) => [name, { data: a, dims: shapes[name] }])),
    },
    nextBatch: () => batch,
    twin: (d) => {
      const { hood } = d.blocks[0].attention as NeighbourhoodAttention;
      return {
        net: 'spatial',
        geometry: {
          width: config.width,
          heads: config.heads,
          mlpRatio: config.mlpRatio,
          depth: config.depth,
          C,
          P: g.P,
          J: g.J,
          pp: g.pp,
          action: action.kind,
          actionSize: A,
          actionTable: action.kind === 'int' ? A * action.vocab : action.kind === 'latent' ? action.codes : 0,
        },
        modules: { dynamics: d },
        constants: {
          neighbours: { data: hood.index, shape: [hood.index.length] },
          neighbourMask: { data: hood.mask, shape: [hood.index.length / hood.M, hood.M, 1] },
        },
      };
    },
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
