// Benchmark figure: jepa's forecast throughput through tfjs and through ONNX Runtime on the same weights.
// The networks are jepa's defaults (width 64, 4 heads, 2 encoder and 3 predictor blocks, probe 128), fitted
// briefly on code-trace (seed 1000, budget 256, 24 optimiser steps: the timing does not depend on how well
// they learned). A forecast is the whole forecast path (forecast.ts's forecastWith: encode the last states,
// roll the predictor out, decode with the probe) for batch 64 x horizon 32, with the program context; the
// networks run in tfjs (tfjsRollout) or in ORT (onnx.ts's OnnxRollout). One thread on each side (tfjs-wasm is
// single-threaded in Node; ORT with SESSION_OPTIONS). Median of 5 runs on the test windows of seeds
// 1000-1004, after one warm-up run; steps/s = batch * horizon / wall time; the machine's load is printed.
// Run: nice -n 5 pnpm exec tsx scripts/figures/jepa-onnx-throughput.ts
import { loadavg } from 'node:os';
import codeTrace from '@worldbench/code-trace';
import {
  createRng,
  evaluationSet,
  forecastWindows,
  jobWorld,
  quietRun,
  trainingSet,
  type Query,
} from '@worldbench/core';
import { backendName, initBackend } from '@worldbench/neural';
import { ORT_VERSION } from '@worldbench/onnx';
import { reportSpeedup, timeRuns } from './timing';
import { jepaDefaults } from '../../packages/jepa/src/config';
import { forecastWith, tfjsRollout, type RolloutNetworks } from '../../packages/jepa/src/forecast';
import { buildNetworks, fitGeometry } from '../../packages/jepa/src/index';
import type { Geometry } from '../../packages/jepa/src/model';
import { OnnxRollout } from '../../packages/jepa/src/onnx';
import { buildTrainingSet, disposeTrainingSet } from '../../packages/jepa/src/batch';
import { trainJepa } from '../../packages/jepa/src/train';

const [batch, horizon, runs, seed] = [64, 32, 5, 1000];
const config = { ...jepaDefaults, minSteps: 24, maxSteps: 24 };

await initBackend();
const world = jobWorld(codeTrace, seed);
const train = trainingSet(codeTrace, world, 'behavior', 256, seed).observed;
const geometry: Geometry = fitGeometry(codeTrace.spec, 'state', config, train);
const nets = buildNetworks(geometry, config, `${seed}/jepa`);
const set = buildTrainingSet(geometry, train, 'state', config.realReadout === 'change');
await trainJepa(nets, set, config, createRng(`${seed}/jepa/train`), quietRun(seed));
disposeTrainingSet(set);
const params = nets.online.count() + nets.predictor.count() + nets.probe.count();

function query(s: number): Query {
  const test = evaluationSet(codeTrace, world, 'test', s, { count: batch, horizon });
  return forecastWindows(
    codeTrace.spec,
    'state',
    test.observed,
    test.clean,
    test.starts,
    codeTrace.spec.historySteps,
    horizon,
  ).query;
}
const spec = codeTrace.spec.views.state;
const forecast = (run: RolloutNetworks, q: Query) => forecastWith(run, geometry, spec, q, nets.probe.change);
const viaTfjs = tfjsRollout(nets, geometry);
const onnx = await OnnxRollout.open(nets, geometry);

// the two sides agree before either is timed
const [a, b] = [await forecast(viaTfjs, query(seed)), await forecast(onnx.run, query(seed))];
let diff = 0;
for (let i = 0; i < a.data.length; i++) diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));

const load0 = loadavg()[0];
const queries = Array.from({ length: runs }, (_, r) => query(seed + r));
// 999: warm-up, not a benchmark seed
const timed = (rollout: RolloutNetworks) => timeRuns((q: Query) => forecast(rollout, q), query(999), queries);
const tfjsMs = await timed(viaTfjs);
const ortMs = await timed(onnx.run);
await onnx.release();
console.log(
  `jepa defaults on ` +
    `code-trace: ${params} parameters ` +
    `(width ${config.width}, ${config.heads} heads, ${config.encoderLayers}+${config.predictorLayers} blocks), ` +
    `fitted 24 steps; ` +
    `forecast batch ${batch} x horizon ${horizon}; max |tfjs - ort| over the ` +
    `forecast ${diff}; load before ${load0.toFixed(1)}`,
);
reportSpeedup(
  [
    [`tfjs (${backendName()})`, tfjsMs],
    [`onnxruntime ${ORT_VERSION}`, ortMs],
  ],
  batch * horizon,
);
