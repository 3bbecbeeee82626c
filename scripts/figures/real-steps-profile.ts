// Where the time of jepa's and spatial's real training steps goes (docs/experiments/2026-12-06-real-steps-vs-
// pytorch.md), one thread each:
//   engine  the step split into its data (the batch cut and read out to arrays), the graph run (one ONNX Runtime
//           session: forward + backward) and Adam in JS (ArrayAdam); the graph's nodes by op type: how many a step
//           runs and their kernel time per step (ORT session profiling)
//   torch   the PyTorch twin's ops by self time (torch.autograd.profiler, torch_twins.py --profile)
//
//   tsx scripts/figures/real-steps-profile.ts [--steps 20] [--warmup 3]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArrayAdam, initBackend } from '@worldbench/neural';
import { SESSION_OPTIONS, TrainStep } from '@worldbench/onnx';
import type * as Ort from '../../packages/onnx/node_modules/onnxruntime-node';
import { jepaStep, spatialStep } from '../real-steps';
import { load, timingArgs } from '../train-steps';

// onnxruntime-node is a dependency of packages/onnx, not of the workspace root: loaded from there
const ort = createRequire(new URL('../../packages/onnx/package.json', import.meta.url))(
  'onnxruntime-node',
) as typeof Ort;

const { steps, warmup } = timingArgs('real-steps-profile');
await initBackend();
console.log(`real steps profiled: ${steps} steps after ${warmup} warm-up, one thread each; 1-min load ${load()}`);

for (const make of [jepaStep, spatialStep]) {
  const step = await make();
  const spec = step.engineSpec;
  const graph = await TrainStep.compile(spec);
  const dir = mkdtempSync(join(tmpdir(), 'worldbench-profile-'));
  const session = await ort.InferenceSession.create(graph.bytes, {
    ...SESSION_OPTIONS,
    enableProfiling: true,
    profileFilePrefix: join(dir, 'step'),
  });
  const weights = spec.params.map((p) => Float32Array.from(p.dataSync() as Float32Array));
  const adam = new ArrayAdam(weights);
  const ms = { data: 0, run: 0, adam: 0 };
  for (let i = 0; i < warmup + steps; i++) {
    const timed = i >= warmup;
    let t = performance.now();
    const data = spec.data(step.nextBatch());
    const feeds: Record<string, Ort.Tensor> = {};
    for (const [name, { data: values, dims }] of Object.entries(data)) feeds[name] = new ort.Tensor(values, dims);
    graph.weightInputs.forEach((name, k) => (feeds[name] = new ort.Tensor('float32', weights[k], graph.shapes[k])));
    if (timed) ms.data += performance.now() - t;
    t = performance.now();
    const out = await session.run(feeds);
    if (timed) ms.run += performance.now() - t;
    t = performance.now();
    adam.step(
      graph.weightInputs.map((_, k) => out[`grad_${k}`].data as Float32Array),
      1e-3,
    );
    if (timed) ms.adam += performance.now() - t;
  }
  session.endProfiling();
  await session.release();
  await graph.release();

  // ORT's profile: one event per node run ("<node>_kernel_time", dur in microseconds), warm-up included
  const file = readdirSync(dir).find((f) => f.endsWith('.json'));
  if (!file) throw new Error(`no ORT profile was written into ${dir}`);
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Array<{
    name: string;
    dur: number;
    args?: { op_name?: string };
  }>;
  rmSync(dir, { recursive: true, force: true });
  const byOp = new Map<string, { count: number; us: number }>();
  for (const e of events) {
    if (!e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const o = byOp.get(e.args.op_name) ?? { count: 0, us: 0 };
    byOp.set(e.args.op_name, { count: o.count + 1, us: o.us + e.dur });
  }
  const runs = warmup + steps;
  const total = [...byOp.values()].reduce((s, o) => s + o.us, 0);
  const per = (x: number) => (x / steps).toFixed(2);
  console.log(`\n${step.title}: ${step.summary}`);
  console.log(
    `engine ms/step: data ${per(ms.data)}, graph run ${per(ms.run)}, Adam ${per(ms.adam)}; ` +
      `nodes per step ${[...byOp.values()].reduce((s, o) => s + o.count, 0) / runs}, ` +
      `their kernel time ${(total / runs / 1000).toFixed(2)} ms/step`,
  );
  console.log(`${'op'.padEnd(28)}${'nodes/step'.padStart(11)}${'ms/step'.padStart(9)}${'share'.padStart(7)}`);
  for (const [op, o] of [...byOp].sort((a, b) => b[1].us - a[1].us).slice(0, 14))
    console.log(
      `${op.padEnd(28)}${(o.count / runs).toFixed(0).padStart(11)}${(o.us / runs / 1000).toFixed(2).padStart(9)}` +
        `${((100 * o.us) / total).toFixed(0).padStart(6)}%`,
    );

  const args = ['scripts/figures/torch_twins.py', '--net', step.twin.net, '--spec', step.twin.dir, '--profile'];
  const timing = ['--runs', '1', '--steps', `${steps}`, '--warmup', `${warmup}`];
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
  const twin = spawnSync('/usr/bin/python3', [...args, ...timing], { env, encoding: 'utf8' });
  console.log(
    twin.status === 0
      ? `torch twin, ops by self time over ${steps} steps:\n${twin.stderr.trim()}`
      : `torch twin not profiled: ${twin.error?.message ?? twin.stderr.trim().split('\n').pop()}`,
  );
  await step.dispose();
}
console.log(`\n1-min load ${load()}`);
