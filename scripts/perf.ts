// What `pnpm perf` runs: the training throughput of one MLP step (scripts/mlp-step.ts: a 256-512-512-256 MLP,
// ReLU, batch 256, MSE, Adam) side by side in one run, one thread each:
//   fast dense   neural's Dense layers on whichever tfjs backend initBackend() picks
//   stock        tf.layers.dense, tf.train.adam, optimizer.minimize (what the fast layers replace)
//   ort engine   the same network traced into an ONNX training graph (@worldbench/onnx OrtEngine), Adam in JS
//   torch        the PyTorch twin (scripts/figures/mlp_twin.py, Debian's python3-torch, OMP_NUM_THREADS=1);
//                skipped with a message where torch is absent
// Each times `steps` steps after `warmup` untimed ones; the table gives the median over `runs` runs, and the
// ratios to the twin.
//
//   pnpm perf                      5 runs x 20 steps after 3 warm-up steps
//   pnpm perf --runs 1 --steps 2   a quick smoke run

import { cpus } from 'node:os';
import { initBackend, tf } from '@worldbench/neural';
import { ORT_ENGINE } from '@worldbench/onnx';
import {
  BATCH,
  STEP_FLOPS,
  WIDTHS,
  engineStep,
  load,
  median,
  mlpData,
  type Step,
  tfjsStep,
  timeSteps,
  timingArgs,
  torchTwin,
} from './mlp-step';

const { runs, steps, warmup } = timingArgs('perf');

const backend = await initBackend();
const loadBefore = load();
const data = mlpData();

// stock: tf.sequential of tf.layers.dense, tf.train.adam, one optimizer step (no model.fit overhead)
const x = tf.tensor2d(data.x, [BATCH, WIDTHS[0]]);
const y = tf.tensor2d(data.y, [BATCH, WIDTHS[WIDTHS.length - 1]]);
const model = tf.sequential({
  layers: [
    tf.layers.dense({ units: WIDTHS[1], activation: 'relu', inputShape: [WIDTHS[0]] }),
    tf.layers.dense({ units: WIDTHS[2], activation: 'relu' }),
    tf.layers.dense({ units: WIDTHS[3] }),
  ],
});
const optimizer = tf.train.adam(1e-3);
const stockStep: Step = () =>
  tf.tidy(() =>
    (
      optimizer.minimize(
        () => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar,
        true,
      ) as tf.Scalar
    ).dataSync(),
  );

interface Row {
  name: string;
  msPerStep: number;
}
const rows: Row[] = [];
const measure = async (name: string, step: Step) =>
  rows.push({ name, msPerStep: median(await timeSteps(name, step, runs, steps, warmup)) });

const twin = torchTwin(runs, steps, warmup);
if ('ms' in twin) {
  const name = `torch ${twin.torch} (${twin.blas})`;
  process.stderr.write(`perf: ${name}: ${twin.ms.map((m) => m.toFixed(1)).join(' ')} ms/step (load ${load()})\n`);
  rows.push({ name, msPerStep: median(twin.ms) });
} else process.stderr.write(`perf: the PyTorch twin is skipped: ${twin.skipped}\n`);
const fast = tfjsStep(data);
await measure(`fast dense (${backend.name})`, fast.step);
fast.dispose();
await measure(`stock tf.layers.dense`, stockStep);
const engine = await engineStep(data);
await measure(`ort engine`, engine.step);
await engine.dispose();
const loadAfter = load();

const pad = (s: string, n: number) => s.padEnd(n);
const num = (v: number, digits: number, n: number) => v.toFixed(digits).padStart(n);
const torch = 'ms' in twin ? rows[0] : null;
console.log(
  `worldbench perf: ${WIDTHS.join('-')} MLP (ReLU), batch ${BATCH}, MSE, Adam; one thread each; ` +
    `median of ${runs} runs x ${steps} steps after ${warmup} warm-up`,
);
console.log(
  `${pad('engine', 32)}${'ms/step'.padStart(10)}${'examples/s'.padStart(12)}${'GFLOP/s'.padStart(10)}` +
    `${torch ? 'x torch'.padStart(9) : ''}`,
);
for (const row of rows) {
  const perSecond = 1000 / row.msPerStep;
  const ratio = torch ? num(torch.msPerStep / row.msPerStep, 2, 9) : '';
  console.log(
    `${pad(row.name, 32)}${num(row.msPerStep, 1, 10)}${num(perSecond * BATCH, 0, 12)}` +
      `${num((perSecond * STEP_FLOPS) / 1e9, 2, 10)}${ratio}`,
  );
}
const ms = (name: string) => rows.find((r) => r.name.startsWith(name))?.msPerStep ?? NaN;
console.log(`speed-up of fast dense over stock: ${(ms('stock') / ms('fast')).toFixed(1)}x`);
console.log(`speed-up of the ort engine over fast dense: ${(ms('fast') / ms('ort')).toFixed(1)}x (${ORT_ENGINE})`);
if (torch && twin && 'blas' in twin && twin.blas !== 'openblas')
  console.log(
    `note: the twin's torch runs on ${twin.blas}, not an optimised BLAS: its ratios flatter the others ` +
      '(apt-get install libopenblas0-pthread)',
  );
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; 1-min load ` +
    `average ${loadBefore} before, ${loadAfter} after`,
);

model.dispose();
optimizer.dispose();
tf.dispose([x, y]);
