// The MLP training step `pnpm perf` and scripts/figures/engine-routes.ts time on each engine: a 256-512-512-256
// MLP (ReLU between layers, linear output), batch 256, MSE loss on seeded random data, one Adam step (lr 1e-3)
// per iteration. FLOPs: a dense layer's forward pass is 2*N*I*O, a training step counts as 3x forward (forward,
// dx, dW). The PyTorch twin (scripts/figures/mlp_twin.py) runs the same step with Debian's python3-torch.

import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createRng } from '@worldbench/core';
import { Adam, Mlp, tf, tfjsOps } from '@worldbench/neural';
import { OrtEngine } from '@worldbench/onnx';

export const WIDTHS = [256, 512, 512, 256];
export const BATCH = 256;
export const STEP_FLOPS = 3 * WIDTHS.slice(1).reduce((sum, out, i) => sum + 2 * BATCH * WIDTHS[i] * out, 0);

/** A step that frees what it made; its time is what is measured. */
export type Step = () => unknown;

/** The step's seeded inputs x [256, 256] and targets y [256, 256], row-major. */
export function mlpData(seed = 'perf'): { x: Float32Array; y: Float32Array } {
  const rng = createRng(seed);
  const draw = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  return { x: draw(BATCH * WIDTHS[0]), y: draw(BATCH * WIDTHS[WIDTHS.length - 1]) };
}

/** neural's fast Dense layers (fused matMul forward, transpose + plain matMul backward) and Adam, on tfjs. */
export function tfjsStep(data: { x: Float32Array; y: Float32Array }): { step: Step; dispose: () => void } {
  const mlp = new Mlp(createRng('perf').fork('fast'), WIDTHS);
  const params = mlp.params();
  const adam = new Adam(params);
  const x = tf.tensor2d(data.x, [BATCH, WIDTHS[0]]);
  const y = tf.tensor2d(data.y, [BATCH, WIDTHS[WIDTHS.length - 1]]);
  const step = () =>
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
  return { step, dispose: () => (mlp.dispose(), adam.dispose(), tf.dispose([x, y])) };
}

/** The same Mlp traced into an ONNX training graph (@worldbench/onnx's OrtEngine), Adam in JS. */
export async function engineStep(data: {
  x: Float32Array;
  y: Float32Array;
}): Promise<{ step: Step; dispose: () => Promise<void> }> {
  const mlp = new Mlp(createRng('perf').fork('fast'), WIDTHS);
  const out = WIDTHS[WIDTHS.length - 1];
  const engine = await OrtEngine.create({
    params: mlp.params(),
    inputs: [
      { name: 'x', shape: [BATCH, WIDTHS[0]] },
      { name: 'y', shape: [BATCH, out] },
    ],
    loss: (ops, i) => {
      const d = ops.sub(mlp.apply(ops, i.x), i.y);
      return ops.mean(ops.mean(ops.mul(d, d), 1), 0);
    },
    data: () => ({ x: { data: data.x, dims: [BATCH, WIDTHS[0]] }, y: { data: data.y, dims: [BATCH, out] } }),
  });
  const batch = new Int32Array(BATCH);
  return { step: () => engine.step(batch, 1e-3), dispose: () => engine.finish().then(() => mlp.dispose()) };
}

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

/**
 * The PyTorch twin's ms/step per run (one thread), or why it did not run. Debian's torch calls whatever libblas.so.3
 * resolves to: `blas` says which (the reference BLAS alone, without libopenblas0, is many times slower).
 */
export function torchTwin(
  runs: number,
  steps: number,
  warmup: number,
): { ms: number[]; torch: string; blas: string } | { skipped: string } {
  const python = '/usr/bin/python3';
  const args = ['scripts/figures/mlp_twin.py', '--runs', `${runs}`, '--steps', `${steps}`, '--warmup', `${warmup}`];
  const run = spawnSync(python, args, { env: { ...process.env, OMP_NUM_THREADS: '1' }, encoding: 'utf8' });
  if (run.error) return { skipped: `${python} not found (${run.error.message}): apt-get install python3-torch` };
  if (run.status !== 0) {
    const last = run.stderr.trim().split('\n').pop() ?? '';
    return { skipped: /No module named 'torch'/.test(last) ? 'torch absent: apt-get install python3-torch' : last };
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
