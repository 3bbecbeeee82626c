// Issue 24: the routes to a faster training step, measured side by side in one run on the MLP step of
// scripts/train-steps.ts (256-512-512-256, ReLU, batch 256, MSE, Adam lr 1e-3; one thread each):
//   torch       the PyTorch twin (scripts/figures/torch_twins.py, Debian's python3-torch, OMP_NUM_THREADS=1)
//   ort-hand    one ONNX graph written by hand (Gemm forward, MSE, Gemm backward: weights in, gradients out) run by
//               onnxruntime-node with one intra-op thread, Adam in JS (ArrayAdam): what the ORT route can reach
//   ort-engine  @worldbench/onnx's OrtEngine: neural's Mlp traced by GradOps, whose per-op reverse-mode rules write
//               the gradient graph; the same session settings, ArrayAdam
//   tfjs        neural's fast Dense layers on the tfjs backend initBackend() picks (what trains today)
// Prints each run's ms/step with the 1-minute load, then the medians and the ratios to the twin.
//
//   tsx scripts/figures/engine-routes.ts [--runs 5] [--steps 20] [--warmup 3]

import { createRng } from '@worldbench/core';
import { ArrayAdam, initBackend } from '@worldbench/neural';
import { OnnxBuilder, openSession, ortTensor } from '@worldbench/onnx';
import {
  MLP,
  TRANSFORMER,
  type Workload,
  dataOf,
  engineStep,
  load,
  median,
  tfjsStep,
  timeSteps,
  timingArgs,
  torchTwin,
} from '../train-steps';

const { runs, steps, warmup } = timingArgs('engine-routes');
const backend = await initBackend();
const data = dataOf(MLP);
const WIDTHS = [256, 512, 512, 256];
const BATCH = MLP.examples;
const L = WIDTHS.length - 1;

// region ort-hand: the step as one hand-written graph ------------------------------------------------------
const g = new OnnxBuilder();
g.input('x', [BATCH, WIDTHS[0]]);
g.input('y', [BATCH, WIDTHS[L]]);
const ws = WIDTHS.slice(1).map((o, i) => [g.input(`w${i}`, [WIDTHS[i], o]), g.input(`b${i}`, [o])]);
const gemm = (a: string, b: string, shape: number[], attrs: Record<string, { int: number }> = {}, c?: string) =>
  g.node('Gemm', c ? [a, b, c] : [a, b], { shape, dtype: 'float32' }, attrs);
const acts = ['x'];
for (let i = 0; i < L; i++) {
  const z = gemm(acts[i], ws[i][0], [BATCH, WIDTHS[i + 1]], {}, ws[i][1]);
  acts.push(i < L - 1 ? g.node('Relu', [z], g.info(z)) : z);
}
const diff = g.sub(acts[L], 'y'); //                                                       [N, O]
const loss = g.node('ReduceMean', [g.mul(diff, diff)], { shape: [], dtype: 'float32' }, { keepdims: { int: 0 } });
let dz = g.mul(diff, g.scalar(2 / (BATCH * WIDTHS[L]))); //                                 dloss/dout
const outputs: Record<string, string> = { loss };
for (let i = L - 1; i >= 0; i--) {
  outputs[`dw${i}`] = gemm(acts[i], dz, [WIDTHS[i], WIDTHS[i + 1]], { transA: { int: 1 } });
  const db = { shape: [WIDTHS[i + 1]], dtype: 'float32' as const };
  outputs[`db${i}`] = g.node('ReduceSum', [dz, g.int64s([0])], db, { keepdims: { int: 0 } });
  if (i === 0) break;
  const dh = gemm(dz, ws[i][0], [BATCH, WIDTHS[i]], { transB: { int: 1 } });
  const active = g.node('Greater', [acts[i], g.scalar(0)], { shape: [BATCH, WIDTHS[i]], dtype: 'bool' });
  dz = g.node('Where', [active, dh, g.scalar(0)], g.info(dh));
}
const session = await openSession(g.serialize(outputs, 'mlp-step'));
const rng = createRng('engine-routes');
// He-normal weights as the tfjs Mlp's; their values do not change the speed
const weights = WIDTHS.slice(1).flatMap((o, i) => [
  Float32Array.from({ length: WIDTHS[i] * o }, () => rng.normal() * Math.sqrt(2 / WIDTHS[i])),
  new Float32Array(o),
]);
const shapes = WIDTHS.slice(1).flatMap((o, i) => [[WIDTHS[i], o], [o]]);
const names = WIDTHS.slice(1).flatMap((_, i) => [`w${i}`, `b${i}`]);
const adam = new ArrayAdam(weights);
const handStep = async () => {
  const feeds = { x: ortTensor(data.x, MLP.x), y: ortTensor(data.y, MLP.y) };
  const all: Record<string, ReturnType<typeof ortTensor>> = feeds;
  names.forEach((n, k) => (all[n] = ortTensor(weights[k], shapes[k])));
  const out = await session.run(all);
  adam.step(
    names.map((n) => out[`d${n}`].data as Float32Array),
    1e-3,
  );
};
// endregion

const loadBefore = load();

/** The twin, the engine and tfjs on one workload (and `extra` rows after the twin), in this order. */
async function routes(w: Workload, extra: Array<[string, () => unknown]> = []): Promise<[string, number][]> {
  const rows: [string, number][] = [];
  const twin = torchTwin(w.name, runs, steps, warmup);
  if ('ms' in twin) {
    process.stderr.write(`${w.name} torch: ${twin.ms.map((x) => x.toFixed(1)).join(' ')} ms/step (load ${load()})\n`);
    rows.push([`torch ${twin.torch} (${twin.blas})`, median(twin.ms)]);
  } else process.stderr.write(`${w.name} torch twin skipped: ${twin.skipped}\n`);
  for (const [name, step] of extra) rows.push([name, median(await timeSteps(name, step, runs, steps, warmup))]);
  const d = dataOf(w);
  const engine = await engineStep(w, d);
  rows.push([
    'ort-engine (traced), ArrayAdam',
    median(await timeSteps(`${w.name} engine`, engine.step, runs, steps, warmup)),
  ]);
  await engine.dispose();
  const fast = tfjsStep(w, d);
  rows.push([
    `tfjs (${backend.name}) neural layers`,
    median(await timeSteps(`${w.name} tfjs`, fast.step, runs, steps, warmup)),
  ]);
  fast.dispose();
  return rows;
}

function print(title: string, rows: [string, number][], flops?: number): void {
  console.log(title);
  const torchMs = rows[0][0].startsWith('torch') ? rows[0][1] : NaN;
  for (const [name, ms] of rows) {
    const gflops = flops ? `${(flops / ms / 1e6).toFixed(1).padStart(8)} GFLOP/s` : '';
    console.log(
      `${name.padEnd(40)}${ms.toFixed(1).padStart(8)} ms${gflops}${(torchMs / ms).toFixed(2).padStart(7)}x torch`,
    );
  }
}

const mlpRows = await routes(MLP, [['ort-hand fwd+bwd, ArrayAdam', handStep]]);
const transformerRows = await routes(TRANSFORMER);
console.log(`engine routes: median of ${runs} x ${steps} steps after ${warmup}, one thread each`);
print('256-512-512-256 MLP, batch 256, MSE, Adam', mlpRows, MLP.flops);
print("transformer of jepa's block geometry, 128 x 16 tokens, MSE, Adam", transformerRows);
console.log(`1-min load ${loadBefore} before, ${load()} after`);
