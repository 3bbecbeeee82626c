// Benchmark figure: forecast throughput of one network run by tfjs and by ONNX Runtime on the same weights
// (exported with @worldbench/onnx's exportOnnx). The network is a representative one-step world model: each of
// the K observed states is embedded by a Dense layer, goes through a causal attention block and a GELU MLP block
// (residual + LayerNorm each), and a Dense head maps the flattened sequence to the next state. A forecast rolls
// it out for 32 sequential steps at batch 64, feeding each prediction back into the window. One thread on each
// side (tfjs-wasm is single-threaded in Node; ORT with SESSION_OPTIONS). Median of 5 runs (seeds 1000-1004)
// after one warm-up run; the machine's load is printed.
// Run: pnpm exec tsx scripts/figures/onnx-throughput.ts
import { createRequire } from 'node:module';
import type * as Ort from '../../packages/onnx/node_modules/onnxruntime-node';
import { createRng } from '@worldbench/core';
import {
  Dense,
  LayerNorm,
  Mlp,
  MultiHeadAttention,
  backendName,
  initBackend,
  tf,
  tfjsOps,
  type Ops,
} from '@worldbench/neural';
import { exportOnnx, ORT_VERSION, SESSION_OPTIONS } from '@worldbench/onnx';
import { reportSpeedup, timeRuns } from './timing';

// onnxruntime-node is a dependency of packages/onnx, not of the workspace root: loaded from there
const ort = createRequire(new URL('../../packages/onnx/package.json', import.meta.url))(
  'onnxruntime-node',
) as typeof Ort;

const [batch, steps, runs] = [64, 32, 5];
const [state, history, width, heads] = [16, 8, 64, 4];

await initBackend();
const rng = createRng('onnx-throughput/1000');
const embed = new Dense(rng, state, width);
const attn = new MultiHeadAttention(rng, width, heads);
const norm1 = new LayerNorm(width);
const ff = new Mlp(rng, [width, 4 * width, width], 'gelu');
const norm2 = new LayerNorm(width);
const head = new Dense(rng, history * width, state);
const params = [embed, attn, norm1, ff, norm2, head].reduce((s, l) => s + l.count(), 0);

/** The network, written once: window [B, K, S] -> next state [B, S]; tfjs runs it, exportOnnx traces it. */
function predict<T>(ops: Ops<T>, window: T): T {
  const h = embed.apply(ops, window);
  const h1 = norm1.apply(ops, ops.add(h, attn.apply(ops, h, { causal: true })));
  const h2 = norm2.apply(ops, ops.add(h1, ff.apply(ops, h1)));
  return head.apply(ops, ops.reshape(h2, [0, -1]));
}

const bytes = exportOnnx(
  (ops) => ({ next: predict(ops, 'window') }),
  [{ name: 'window', shape: ['batch', history, state] }],
);
const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);

function startWindow(seed: number): Float32Array {
  const r = createRng(`onnx-throughput/window/${seed}`);
  return Float32Array.from({ length: batch * history * state }, () => r.normal());
}

/** A 32-step rollout in tfjs; returns the last prediction. */
function rolloutTfjs(start: Float32Array): Float32Array {
  let window = tf.tensor3d(start, [batch, history, state]);
  let last: Float32Array = new Float32Array(0);
  for (let s = 0; s < steps; s++) {
    const next = tf.tidy(() => {
      const pred = predict(tfjsOps, window) as tf.Tensor2D;
      return [
        pred,
        tf.concat([tf.slice(window, [0, 1, 0], [-1, -1, -1]), tf.expandDims(pred, 1)], 1) as tf.Tensor3D,
      ] as const;
    });
    window.dispose();
    window = next[1];
    last = next[0].dataSync() as Float32Array; // the forecast is read out every step, as a bench forecast does
    next[0].dispose();
  }
  window.dispose();
  return last;
}

/** The same rollout through ORT, sliding the window in JS. */
async function rolloutOrt(start: Float32Array): Promise<Float32Array> {
  const window = start.slice();
  let last: Float32Array = new Float32Array(0);
  for (let s = 0; s < steps; s++) {
    const result = await session.run({ window: new ort.Tensor('float32', window, [batch, history, state]) });
    last = (result.next.data as Float32Array).slice();
    result.next.dispose();
    for (let b = 0; b < batch; b++) {
      window.copyWithin(b * history * state, b * history * state + state, (b + 1) * history * state);
      window.set(last.subarray(b * state, (b + 1) * state), (b * history + history - 1) * state);
    }
  }
  return last;
}

// the two sides agree before either is timed
let diff = 0;
const [a, b] = [rolloutTfjs(startWindow(1000)), await rolloutOrt(startWindow(1000))];
for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));

const starts = Array.from({ length: runs }, (_, r) => startWindow(1000 + r));
const tfjsMs = await timeRuns(rolloutTfjs, startWindow(999), starts); // 999: warm-up, not a benchmark seed
const ortMs = await timeRuns(rolloutOrt, startWindow(999), starts);
await session.release();
console.log(
  `network: ${params} parameters, state ${state}, K ${history}, width ${width}, ${heads} heads; ` +
    `rollout batch ${batch} x ${steps} steps; final-step max |tfjs - ort| ${diff.toExponential(1)}`,
);
reportSpeedup(
  [
    [`tfjs (${backendName()})`, tfjsMs],
    [`onnxruntime ${ORT_VERSION}`, ortMs],
  ],
  batch * steps,
);
