// Benchmark figure: rollout throughput of spatial's dynamics through tfjs and through ONNX Runtime, same
// weights. The networks are spatial's defaults fitted briefly (30 steps, budget 256, dev seed 0) on
// bouncing-balls frames (32 x 32, real actions [2]: 64 patch tokens, width 64, 2 blocks, C = 3); the weights
// only need to be the real networks', not good ones. A run rolls out 64 histories of the test set of job
// seed 1000 + r (r = 0..4) for 32 steps with their true actions, through rollout.ts's shared loop with the
// tfjs step engine or the exported step in ORT (onnx.ts). One thread on each side (tfjs-wasm is
// single-threaded in Node; ORT with SESSION_OPTIONS). Median of 5 runs after one warm-up run; the machine's
// load is printed.
// Run: nice -n 5 pnpm exec tsx scripts/figures/spatial-onnx-throughput.ts
import { block, evaluationSet, forecastWindows, jobWorld, quietRun, trainingSet } from '@worldbench/core';
import { backendName } from '@worldbench/neural';
import { ORT_VERSION } from '@worldbench/onnx';
import { reportSpeedup, timeRuns, type Timings } from './timing';
import bouncingBalls from '@worldbench/bouncing-balls';
import spatial, { spatialDefaults, type SpatialModel } from '@worldbench/spatial';
import { actionIds } from '../../packages/spatial/src/dataset';
import { OnnxRollout } from '../../packages/spatial/src/onnx';
import { toCore } from '../../packages/spatial/src/patches';
import { rollout, tfjsEngine, type StepEngine } from '../../packages/spatial/src/rollout';

const [batch, steps, runs] = [64, 32, 5];
const spec = bouncingBalls.spec;

const model = (await spatial.create(spec, 'frame', {
  ...spatialDefaults,
  minSteps: 30,
  maxSteps: 30,
  forecastBackend: 'tfjs',
})) as SpatialModel;
await model.fit(trainingSet(bouncingBalls, jobWorld(bouncingBalls, 0), 'behavior', 256, 0).observed, quietRun(0));
const dynamics = model.dynamics!;
const g = dynamics.shape.geometry;
const A = spec.action!.shape[0];

/**
 * The first `batch` test windows of job seed `seed`: histories [batch * K * pixels] in core layout, actions [batch *
 * steps * A].
 */
function windows(seed: number): { history: Float32Array; actions: Float32Array; K: number } {
  const world = jobWorld(bouncingBalls, seed);
  const test = evaluationSet(bouncingBalls, world, 'test', seed, { count: batch, horizon: steps });
  const { query } = forecastWindows(spec, 'frame', test.observed, test.clean, test.starts, spec.historySteps, steps);
  const K = query.history.views.frame.shape[1];
  const history = new Float32Array(batch * K * g.pixels);
  for (let b = 0; b < batch; b++)
    for (let k = 0; k < K; k++)
      toCore(
        g,
        block(query.history.views.frame, b, k),
        history.subarray((b * K + k) * g.pixels, (b * K + k + 1) * g.pixels),
      );
  const actions = new Float32Array(batch * steps * A);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < steps; h++) actionIds(spec.action!, block(query.actions!, b, h), actions, (b * steps + h) * A);
  return { history, actions, K };
}

const onnx = await OnnxRollout.open(dynamics, model.config.deadzone);
const engines: Array<[string, StepEngine]> = [
  [`tfjs (${backendName()})`, tfjsEngine(dynamics, model.config.deadzone)],
  [`onnxruntime ${ORT_VERSION}`, await onnx.engine(A)],
];
const run = (engine: StepEngine, w: ReturnType<typeof windows>) =>
  rollout(engine, dynamics.shape, w.history, batch, w.K, w.actions, A, steps);

// the two sides agree before either is timed
const first = windows(1000);
const [a, b] = [await run(engines[0][1], first), await run(engines[1][1], first)];
let diff = 0;
for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));

const data = Array.from({ length: runs }, (_, r) => windows(1000 + r));
const timings: Timings[] = [];
// 999: warm-up, not a benchmark seed
for (const [, engine] of engines)
  timings.push(await timeRuns((w: ReturnType<typeof windows>) => run(engine, w), windows(999), data));
await onnx.release();
await model.dispose();

console.log(
  `spatial ` +
    `dynamics: ${dynamics.count()} parameters, ${g.P} tokens of ${g.J} halo ` +
    `values x C ` +
    `${dynamics.shape.contextFrames}, width ` +
    `${dynamics.shape.width}, depth ` +
    `${dynamics.shape.depth}; rollout batch ` +
    `${batch} x ${steps} steps; max |tfjs - ort| over the forecast ${diff.toExponential(1)}`,
);
reportSpeedup(
  engines.map(([name], i) => [name, timings[i]]),
  batch * steps,
);
