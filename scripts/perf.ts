// What `pnpm perf` runs: training throughput of the fast dense layers (@worldbench/neural) against
// stock tf.layers.dense, on whichever tfjs backend initBackend() picks.
//
// Workload: a 256-512-512-256 MLP (ReLU between layers, linear output), batch 256, MSE loss on random
// data, one Adam step per iteration. FLOPs: a dense layer's forward pass is 2*N*I*O, a training step
// is counted as 3x forward (forward, dx, dW). Each run times `steps` steps after `warmup` untimed ones;
// the table gives the median over `runs` runs.
//
//   pnpm perf                      5 runs x 20 steps after 3 warm-up steps
//   pnpm perf --runs 1 --steps 2   a quick smoke run

import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createRng } from '@worldbench/core';
import { Adam, Mlp, initBackend, tf, tfjsOps } from '@worldbench/neural';

const WIDTHS = [256, 512, 512, 256];
const BATCH = 256;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
  },
});
const runs = positiveInt('runs', values.runs);
const steps = positiveInt('steps', values.steps);
const warmup = positiveInt('warmup', values.warmup, true);

function positiveInt(name: string, text: string | undefined, zeroOk = false): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) {
    process.stderr.write(`perf: --${name} must be a ${zeroOk ? 'non-negative' : 'positive'} integer, got '${text}'\n`);
    process.exit(2);
  }
  return n;
}

const backend = await initBackend();
const loadBefore = loadavg()[0];

const rng = createRng('perf');
const draw = (shape: number[]) =>
  tf.tensor(
    Float32Array.from({ length: shape[0] * shape[1] }, () => rng.normal()),
    shape,
  );
const x = draw([BATCH, WIDTHS[0]]); //                                   [256, 256]
const y = draw([BATCH, WIDTHS[WIDTHS.length - 1]]); //                   [256, 256]

const forwardFlops = WIDTHS.slice(1).reduce((sum, out, i) => sum + 2 * BATCH * WIDTHS[i] * out, 0);
const stepFlops = 3 * forwardFlops;

// fast: Mlp of neural's Dense layers (fused matMul forward, transpose + plain matMul backward), our Adam
const mlp = new Mlp(rng.fork('fast'), WIDTHS);
const params = mlp.params();
const adam = new Adam(params);
const fastStep = () =>
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () => tf.losses.meanSquaredError(y, mlp.apply(tfjsOps, x)) as tf.Scalar,
      params,
    );
    adam.step(
      params.map((p) => grads[p.name]),
      1e-3,
    );
    return value.dataSync()[0];
  });

// stock: tf.sequential of tf.layers.dense, tf.train.adam, one optimizer step (no model.fit overhead)
const model = tf.sequential({
  layers: [
    tf.layers.dense({ units: WIDTHS[1], activation: 'relu', inputShape: [WIDTHS[0]] }),
    tf.layers.dense({ units: WIDTHS[2], activation: 'relu' }),
    tf.layers.dense({ units: WIDTHS[3] }),
  ],
});
const optimizer = tf.train.adam(1e-3);
const stockStep = () =>
  tf.tidy(
    () =>
      (
        optimizer.minimize(
          () => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar,
          true,
        ) as tf.Scalar
      ).dataSync()[0],
  );

interface Row {
  name: string;
  msPerStep: number;
}

function measure(name: string, step: () => number): Row {
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    for (let i = 0; i < steps; i++) step();
    times.push((performance.now() - start) / steps);
    process.stderr.write(`perf: ${name} run ${r + 1}/${runs}: ${times[r].toFixed(1)} ms/step\n`);
  }
  times.sort((a, b) => a - b);
  return { name, msPerStep: times[Math.floor(times.length / 2)] };
}

const rows = [measure('fast dense (neural)', fastStep), measure('stock tf.layers.dense', stockStep)];
const loadAfter = loadavg()[0];

const pad = (s: string, n: number) => s.padEnd(n);
const num = (v: number, digits: number, n: number) => v.toFixed(digits).padStart(n);
console.log(
  `worldbench perf: ${WIDTHS.join('-')} MLP (ReLU), batch ${BATCH}, MSE, Adam; backend ${backend.name}; ` +
    `median of ${runs} runs x ${steps} steps after ${warmup} warm-up`,
);
console.log(`${pad('layers', 24)}${'ms/step'.padStart(10)}${'examples/s'.padStart(12)}${'GFLOP/s'.padStart(10)}`);
for (const row of rows) {
  const perSecond = 1000 / row.msPerStep;
  const gflops = (perSecond * stepFlops) / 1e9;
  console.log(`${pad(row.name, 24)}${num(row.msPerStep, 1, 10)}${num(perSecond * BATCH, 0, 12)}${num(gflops, 2, 10)}`);
}
console.log(`speed-up of fast over stock: ${(rows[1].msPerStep / rows[0].msPerStep).toFixed(1)}x`);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; 1-min load ` +
    `average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`,
);

mlp.dispose();
adam.dispose();
model.dispose();
optimizer.dispose();
tf.dispose([x, y]);
