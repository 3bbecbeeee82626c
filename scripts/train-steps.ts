// The training steps `pnpm perf` and scripts/figures/engine-routes.ts time on each engine, one Adam step (lr 1e-3)
// on an MSE loss of seeded random data per iteration:
//   mlp          a 256-512-512-256 MLP (ReLU between layers, linear output), batch 256. FLOPs: a dense layer's
//                forward pass is 2*N*I*O, a training step counts as 3x forward (forward, dx, dW).
//   transformer  jepa's default block geometry (width 64, 4 heads, MLP ratio 2): a Dense embedding 16 -> 64, 5
//                TransformerBlocks (jepa's 2 encoder + 3 predictor layers), a LayerNorm and a Dense 64 -> 16, over
//                128 sequences of 16 tokens. Small matrices: the cost per op counts as much as the FLOPs.
// The PyTorch twins (scripts/figures/torch_twins.py) run the same steps with Debian's python3-torch.

import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createRng } from '@worldbench/core';
import {
  Adam,
  Dense,
  LayerNorm,
  Mlp,
  Module,
  MultiHeadAttention,
  type Ops,
  TransformerBlock,
  tf,
  tfjsOps,
} from '@worldbench/neural';
import { OrtEngine } from '@worldbench/onnx';

/** A step that frees what it made; its time is what is measured. */
export type Step = () => unknown;

/** A workload: a network of neural's layers and the shapes of its inputs x and targets y. */
export interface Workload {
  name: 'mlp' | 'transformer';
  make: () => Module & { apply<V>(ops: Ops<V>, x: V): V };
  x: number[];
  y: number[];
  /** Examples per step (the first dimension). */
  examples: number;
  /** FLOPs of a step, where they say how fast it runs (the MLP's). */
  flops?: number;
}

/** Seeded inputs and targets of a workload, row-major. */
export function dataOf(w: Workload, seed = 'perf'): { x: Float32Array; y: Float32Array } {
  const rng = createRng(`${seed} ${w.name}`);
  const draw = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  return { x: draw(w.x), y: draw(w.y) };
}

/** The mean squared error of the network's output against y, written once for every engine. */
function mse<V>(ops: Ops<V>, net: { apply(ops: Ops<V>, x: V): V }, x: V, y: V): V {
  const d = ops.reshape(ops.sub(net.apply(ops, x), y), [-1]);
  return ops.mean(ops.mul(d, d), 0);
}

/** The step on tfjs: neural's layers through tfjsOps (fast kernels), tf.variableGrads, Adam. */
export function tfjsStep(w: Workload, data: { x: Float32Array; y: Float32Array }): { step: Step; dispose: () => void } {
  const net = w.make();
  const params = net.params();
  const adam = new Adam(params);
  const [x, y] = [tf.tensor(data.x, w.x), tf.tensor(data.y, w.y)];
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => mse<tf.Tensor>(tfjsOps, net, x, y) as tf.Scalar, params);
      adam.step(
        params.map((p) => grads[p.name]),
        1e-3,
      );
      return value.dataSync()[0];
    });
  return { step, dispose: () => (net.dispose(), adam.dispose(), tf.dispose([x, y])) };
}

/** The same network traced into an ONNX training graph (@worldbench/onnx's OrtEngine), Adam in JS. */
export async function engineStep(
  w: Workload,
  data: { x: Float32Array; y: Float32Array },
): Promise<{ step: Step; dispose: () => Promise<void> }> {
  const net = w.make();
  const engine = await OrtEngine.create({
    params: net.params(),
    inputs: [
      { name: 'x', shape: w.x },
      { name: 'y', shape: w.y },
    ],
    loss: (ops, i) => mse<string>(ops, net, i.x, i.y),
    data: () => ({ x: { data: data.x, dims: w.x }, y: { data: data.y, dims: w.y } }),
  });
  const batch = new Int32Array(w.examples);
  return { step: () => engine.step(batch, 1e-3), dispose: () => engine.finish().then(() => net.dispose()) };
}

// region the two workloads ------------------------------------------------------------------------------------
const WIDTHS = [256, 512, 512, 256];
const BATCH = 256;

export const MLP: Workload = {
  name: 'mlp',
  make: () => new Mlp(createRng('perf').fork('mlp'), WIDTHS),
  x: [BATCH, WIDTHS[0]],
  y: [BATCH, WIDTHS[WIDTHS.length - 1]],
  examples: BATCH,
  flops: 3 * WIDTHS.slice(1).reduce((sum, out, i) => sum + 2 * BATCH * WIDTHS[i] * out, 0),
};

const T = { features: 16, width: 64, heads: 4, depth: 5, sequences: 128, tokens: 16 };

/** The transformer workload: x -> Dense -> blocks -> LayerNorm -> Dense, [sequences, tokens, features]. */
class TokenNet extends Module {
  readonly embed: Dense;
  readonly blocks: TransformerBlock[];
  readonly norm: LayerNorm;
  readonly out: Dense;

  constructor() {
    super();
    const rng = createRng('perf').fork('transformer');
    this.embed = new Dense(rng, T.features, T.width);
    this.blocks = Array.from(
      { length: T.depth },
      (_, i) =>
        new TransformerBlock(
          rng.fork(`block${i}`),
          new MultiHeadAttention(rng.fork(`attention${i}`), T.width, T.heads),
          T.width,
          2 * T.width,
        ),
    );
    this.norm = new LayerNorm(T.width);
    this.out = new Dense(rng, T.width, T.features);
  }

  apply<V>(ops: Ops<V>, x: V): V {
    let h = this.embed.apply(ops, x);
    for (const block of this.blocks) h = block.apply(ops, h);
    return this.out.apply(ops, this.norm.apply(ops, h));
  }

  parts() {
    return { embed: this.embed, blocks: this.blocks, norm: this.norm, out: this.out };
  }
}

export const TRANSFORMER: Workload & { geometry: typeof T } = {
  name: 'transformer',
  make: () => new TokenNet(),
  x: [T.sequences, T.tokens, T.features],
  y: [T.sequences, T.tokens, T.features],
  examples: T.sequences,
  geometry: T,
};
// endregion
// region real networks: tfjs against the engine on one loss written against Ops ------------------------------

/**
 * The largest difference between the engine's and tfjs's gradients (null: a weight tfjs found no gradient for,
 * i.e. zero), and the largest tfjs gradient for scale.
 */
export function gradientGap(
  engine: Float32Array[],
  tfjs: (Float32Array | Int32Array | Uint8Array | null)[],
): { worst: number; scale: number } {
  let worst = 0;
  let scale = 0;
  engine.forEach((g, p) => {
    const r = tfjs[p];
    g.forEach((v, j) => {
      const ref = r ? r[j] : 0;
      worst = Math.max(worst, Math.abs(v - ref));
      scale = Math.max(scale, Math.abs(ref));
    });
  });
  return { worst, scale };
}

/** Times `steps` on tfjs and on the engine and prints both with the ratio to tfjs. */
export async function compareSteps(
  title: string,
  tfjs: [string, Step],
  engine: Step,
  timing: { runs: number; steps: number; warmup: number },
): Promise<void> {
  const { runs, steps, warmup } = timing;
  const loadBefore = load();
  const rows: [string, number][] = [
    [tfjs[0], median(await timeSteps(`${title} tfjs`, tfjs[1], runs, steps, warmup))],
    ['ort engine', median(await timeSteps(`${title} engine`, engine, runs, steps, warmup))],
  ];
  console.log(`${title}, median of ${runs} x ${steps} steps:`);
  for (const [name, ms] of rows)
    console.log(
      `${name.padEnd(24)}${ms.toFixed(1).padStart(8)} ms/step${(rows[0][1] / ms).toFixed(2).padStart(7)}x tfjs`,
    );
  console.log(`1-min load ${loadBefore} before, ${load()} after`);
}
// endregion
// region timing ------------------------------------------------------------------------------------------------

/** Milliseconds per step of each of `runs` runs of `steps` steps after `warmup` (awaits a step that is async). */
export async function timeSteps(name: string, step: Step, runs: number, steps: number, warmup: number) {
  for (let i = 0; i < warmup; i++) await step();
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    for (let i = 0; i < steps; i++) await step();
    ms.push((performance.now() - start) / steps);
    process.stderr.write(`perf: ${name} run ${r + 1}/${runs}: ${ms[r].toFixed(1)} ms/step (load ${load()})\n`);
  }
  return ms;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const load = () => loadavg()[0].toFixed(2);

/** What a PyTorch twin reports: its ms/step per run, and for a real network its weights and first-batch check. */
export type TwinResult =
  | {
      ms: number[];
      torch: string;
      blas: string;
      /** Real networks: the weights the twin trains, and its loss and gradient gap to tfjs's on the first batch. */
      weights?: number;
      /** Real networks: how the twin's attention multiplies (torch_real_twins.py MultiHeadAttention). */
      attention?: string;
      check?: { loss: number; worst: number; scale: number };
    }
  | { skipped: string };

/**
 * The PyTorch twin's ms/step per run (one thread), or why it did not run. Debian's torch calls whatever libblas.so.3
 * resolves to: `blas` says which (the reference BLAS alone, without libopenblas0, is many times slower). A real
 * network's twin (`jepa`, `spatial`) reads the directory real-steps.ts wrote: pass `spec`.
 */
export function torchTwin(
  net: Workload['name'] | 'jepa' | 'spatial',
  runs: number,
  steps: number,
  warmup: number,
  spec?: string,
): TwinResult {
  const python = '/usr/bin/python3';
  const timing = ['--runs', `${runs}`, '--steps', `${steps}`, '--warmup', `${warmup}`];
  const args = ['scripts/figures/torch_twins.py', '--net', net, ...timing, ...(spec ? ['--spec', spec] : [])];
  // one thread: torch's own pool, OpenMP's and OpenBLAS's (which reads OPENBLAS_NUM_THREADS first)
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
  const run = spawnSync(python, args, { env, encoding: 'utf8' });
  if (run.error) return { skipped: `${python} not found (${run.error.message}): apt-get install python3-torch` };
  if (run.status !== 0) {
    const last = run.stderr.trim().split('\n').pop() ?? '';
    if (/No module named 'torch'/.test(last)) return { skipped: 'torch absent: apt-get install python3-torch' };
    // torch runs but the twin failed: a broken twin is an error, not a skipped row
    throw new Error(`the PyTorch twin of ${net} failed (exit ${run.status}):\n${run.stderr.trim()}`);
  }
  return JSON.parse(run.stdout.trim().split('\n').pop() as string);
}

/**
 * --runs, --steps and --warmup of the command line (default 5, 20, 3); a bad value exits with code 2 and says
 * which.
 */
export function timingArgs(tool: string): { runs: number; steps: number; warmup: number } {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      steps: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
    },
  });
  const count = (name: string, text: string | undefined, zeroOk = false): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) {
      const what = zeroOk ? 'non-negative' : 'positive';
      process.stderr.write(`${tool}: --${name} must be a ${what} integer, got '${text}'\n`);
      process.exit(2);
    }
    return n;
  };
  return {
    runs: count('runs', values.runs),
    steps: count('steps', values.steps),
    warmup: count('warmup', values.warmup, true),
  };
}

// endregion
