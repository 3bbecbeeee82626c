// What `pnpm perf` runs: the training throughput of two steps (scripts/train-steps.ts: a 256-512-512-256 MLP,
// and a transformer of jepa's block geometry), each side by side in one run on every engine, one thread each,
// then jepa's and spatial's real networks (scripts/real-steps.ts), each against its PyTorch twin:
//   fast dense   neural's layers on whichever tfjs backend initBackend() picks
//   stock        tf.layers.dense, tf.train.adam, optimizer.minimize (what the fast layers replace; MLP only)
//   ort engine   the same network traced into an ONNX training graph (@worldbench/onnx OrtEngine), Adam in JS
//   torch        the PyTorch twin (scripts/figures/torch_twins.py and, of the real networks, torch_real_twins.py;
//                Debian's python3-torch, one thread); skipped with a message where torch is absent
// Each times `steps` steps after `warmup` untimed ones; the table gives the median over `runs` runs, and the
// ratios to the twin (engine speed / torch speed). A real network's twin loads the TS network's initial weights by
// name and must train as many weights and give the same first-batch loss and gradients: a mismatch is an error
// (exit 1), not a row.
//
//   pnpm perf                      5 runs x 20 steps after 3 warm-up steps
//   pnpm perf --runs 1 --steps 2   a quick smoke run

import { cpus } from 'node:os';
import { initBackend, tf } from '@worldbench/neural';
import { ORT_ENGINE } from '@worldbench/onnx';
import {
  MLP,
  type Step,
  TRANSFORMER,
  type TwinResult,
  type Workload,
  dataOf,
  engineStep,
  load,
  median,
  tfjsStep,
  timeSteps,
  timingArgs,
  torchTwin,
} from './train-steps';
import { type RealStep, jepaStep, jepaWholeStep, spatialStep } from './real-steps';

const { runs, steps, warmup } = timingArgs('perf');

const backend = await initBackend();
const loadBefore = load();
const data = dataOf(MLP);

// stock: tf.sequential of tf.layers.dense, tf.train.adam, one optimizer step (no model.fit overhead)
const x = tf.tensor(data.x, MLP.x);
const y = tf.tensor(data.y, MLP.y);
const model = tf.sequential({
  layers: [
    tf.layers.dense({ units: 512, activation: 'relu', inputShape: [MLP.x[1]] }),
    tf.layers.dense({ units: 512, activation: 'relu' }),
    tf.layers.dense({ units: MLP.y[1] }),
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

/** The rows of one workload, side by side: its PyTorch twin first when torch runs. */
async function workload(
  net: Workload['name'],
  engines: Array<[string, () => Promise<{ step: Step; dispose: () => unknown }>]>,
): Promise<{ rows: Row[]; twin: TwinResult }> {
  const rows: Row[] = [];
  const twin = await twinOrExit(() => torchTwin(net, runs, steps, warmup));
  if ('ms' in twin) {
    const name = `torch ${twin.torch} (${twin.blas})`;
    process.stderr.write(
      `perf: ${net} ${name}: ${twin.ms.map((m) => m.toFixed(1)).join(' ')} ms/step (load ${load()})\n`,
    );
    rows.push({ name, msPerStep: median(twin.ms) });
  } else process.stderr.write(`perf: the PyTorch twin of the ${net} is skipped: ${twin.skipped}\n`);
  for (const [name, make] of engines) {
    const { step, dispose } = await make();
    rows.push({ name, msPerStep: median(await timeSteps(`${net} ${name}`, step, runs, steps, warmup)) });
    await dispose();
  }
  return { rows, twin };
}

/**
 * The twin's result. A twin that fails where torch runs, or that is another network, ends the run with its message
 * and exit code 1 (after `cleanup`), said plainly: thrown, tfjs-wasm's handler would print its whole source.
 */
async function twinOrExit(run: () => TwinResult, cleanup?: () => Promise<void>): Promise<TwinResult> {
  try {
    return run();
  } catch (error) {
    await cleanup?.();
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}

/**
 * A twin of another network is an error, not a row: it must train as many weights as the TS network and, from the
 * same initial weights, give tfjs's loss and gradients on the first batch (float32 round-off apart).
 */
function checkTwin(step: RealStep, twin: Extract<TwinResult, { ms: number[] }>): void {
  if (twin.weights !== step.weights)
    throw new Error(
      `perf: the PyTorch twin of ${step.twin.net} trains ${twin.weights} weights, the TS network ${step.weights}: ` +
        'scripts/figures/torch_real_twins.py no longer matches the network; fix the twin',
    );
  const loss = twin.check?.loss ?? NaN;
  if (!(Math.abs(loss - step.check.tfjsLoss) <= 1e-4 * Math.abs(step.check.tfjsLoss)))
    throw new Error(
      `perf: the PyTorch twin of ${step.twin.net} gives loss ${loss} on the first batch, ` +
        `tfjs ${step.check.tfjsLoss}: the twin computes another function; fix scripts/figures/torch_real_twins.py`,
    );
  const gap = twin.check?.worst ?? NaN;
  if (!(gap <= 1e-4 * step.check.scale))
    throw new Error(
      `perf: the PyTorch twin of ${step.twin.net}'s gradients differ from tfjs's by up to ${gap} (largest ` +
        `${step.check.scale}) on the first batch: fix scripts/figures/torch_real_twins.py`,
    );
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (v: number, digits: number, n: number) => v.toFixed(digits).padStart(n);

/** One workload's rows: ms/step, examples/s (when `examples` is given), GFLOP/s (with `flops`), x torch (a twin). */
function table(title: string, rows: Row[], twin: TwinResult, examples?: number, flops?: number) {
  const torch = 'ms' in twin ? rows[0] : null;
  console.log(title);
  console.log(
    `${pad('engine', 40)}${'ms/step'.padStart(10)}${examples ? 'examples/s'.padStart(12) : ''}` +
      `${flops ? 'GFLOP/s'.padStart(10) : ''}${torch ? 'x torch'.padStart(9) : ''}`,
  );
  for (const row of rows) {
    const perSecond = 1000 / row.msPerStep;
    const perExample = examples ? num(perSecond * examples, 0, 12) : '';
    const gflops = flops ? num((perSecond * flops) / 1e9, 2, 10) : '';
    const ratio = torch ? num(torch.msPerStep / row.msPerStep, 2, 9) : '';
    console.log(`${pad(row.name, 40)}${num(row.msPerStep, 1, 10)}${perExample}${gflops}${ratio}`);
  }
  if ('blas' in twin && twin.blas !== 'openblas')
    console.log(
      `note: the twin's torch runs on ${twin.blas}, not an optimised BLAS, so its ratios flatter the others ` +
        '(apt-get install libopenblas0-pthread)',
    );
}

const mlp = await workload('mlp', [
  [`fast dense (${backend.name})`, async () => tfjsStep(MLP, data)],
  ['stock tf.layers.dense', async () => ({ step: stockStep, dispose: () => undefined })],
  ['ort engine', () => engineStep(MLP, data)],
]);
const tokens = dataOf(TRANSFORMER);
const transformer = await workload('transformer', [
  [`neural layers (${backend.name})`, async () => tfjsStep(TRANSFORMER, tokens)],
  ['ort engine', () => engineStep(TRANSFORMER, tokens)],
]);
const real: Array<{ step: RealStep; rows: Row[]; twin: TwinResult }> = [];
for (const make of [jepaStep, spatialStep, jepaWholeStep]) {
  const step = await make();
  const rows: Row[] = [];
  const twin = await twinOrExit(() => {
    const result = torchTwin(step.twin.net, runs, steps, warmup, step.twin.dir);
    if ('ms' in result) checkTwin(step, result);
    return result;
  }, step.dispose);
  if ('ms' in twin) {
    process.stderr.write(`perf: ${step.title} torch: ${twin.ms.map((m) => m.toFixed(1)).join(' ')} ms/step\n`);
    rows.push({ name: `torch ${twin.torch} (${twin.blas}, ${twin.attention})`, msPerStep: median(twin.ms) });
  } else process.stderr.write(`perf: the PyTorch twin of ${step.twin.net} is skipped: ${twin.skipped}\n`);
  const engines: Array<[string, Step]> = [
    [`neural layers (${backend.name})`, step.tfjs],
    ['ort engine', step.engine],
  ];
  for (const [name, run] of engines)
    rows.push({ name, msPerStep: median(await timeSteps(`${step.title} ${name}`, run, runs, steps, warmup)) });
  await step.dispose();
  real.push({ step, rows, twin });
}
const loadAfter = load();

console.log(`worldbench perf: one thread each; median of ${runs} runs x ${steps} steps after ${warmup} warm-up`);
table(`256-512-512-256 MLP (ReLU), batch ${MLP.examples}, MSE, Adam`, mlp.rows, mlp.twin, MLP.examples, MLP.flops);
const ms = (rows: Row[], name: string) => rows.find((r) => r.name.startsWith(name))?.msPerStep ?? NaN;
console.log(`speed-up of fast dense over stock: ${(ms(mlp.rows, 'stock') / ms(mlp.rows, 'fast')).toFixed(1)}x`);
const T = TRANSFORMER.geometry;
table(
  `transformer (jepa's block geometry: width ${T.width}, ${T.heads} heads, ${T.depth} blocks), ` +
    `${T.sequences} sequences of ${T.tokens} tokens, MSE, Adam`,
  transformer.rows,
  transformer.twin,
  TRANSFORMER.examples,
);
for (const { step, rows, twin } of real) {
  const { tfjsLoss, scale, engine } = step.check;
  const checked = 'check' in twin ? twin.check : undefined;
  table(`${step.title}: ${step.summary}`, rows, twin);
  console.log(
    `first batch: loss tfjs ${tfjsLoss.toPrecision(7)}, engine ${engine.loss.toPrecision(7)}` +
      (checked ? `, torch ${checked.loss.toPrecision(7)}` : '') +
      `; largest gradient ${scale.toExponential(1)}, its gap to tfjs: engine ${engine.worst.toExponential(1)}` +
      (checked ? ` torch ${checked.worst.toExponential(1)}` : ''),
  );
  console.log(
    `weights: ${step.weights} trained` +
      ('weights' in twin ? ` (the twin's: ${twin.weights})` : ` (no twin: ${'skipped' in twin ? twin.skipped : ''})`) +
      `; engine against tfjs: ${(ms(rows, 'neural layers') / ms(rows, 'ort engine')).toFixed(2)}x`,
  );
}
console.log(`engine: ${ORT_ENGINE}`);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; 1-min load ` +
    `average ${loadBefore} before, ${loadAfter} after`,
);

model.dispose();
optimizer.dispose();
tf.dispose([x, y]);
