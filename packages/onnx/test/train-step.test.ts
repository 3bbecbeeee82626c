// The ONNX Runtime training step (GradOps' gradient graph): every differentiable op of the Ops interface gets
// gradients that match central finite differences of the same graph's loss; layers and a network match tfjs's
// gradients; a step is deterministic; bad specs are clear errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng, type Rng } from '@worldbench/core';
import { Dense, LayerNorm, Mlp, MultiHeadAttention, initBackend, tf, tfjsOps, type Ops } from '@worldbench/neural';
import { TrainStep } from '../src/train/train-step';

beforeAll(async () => {
  await initBackend();
});

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const normals = (rng: Rng, n: number, std = 1) => Float32Array.from({ length: n }, () => std * rng.normal());
const variable = (rng: Rng, shape: number[]) => tf.variable(tf.tensor(normals(rng, size(shape)), shape));

/**
 * A scalar from y of static shape: sum(y * r) for a fixed seeded r, so every entry of y gets its own weight in
 * the loss (a plain sum would hide a wrong gradient that sums to the right total, e.g. softmax's).
 */
function scalarise<T>(ops: Ops<T>, y: T, rng: Rng): T {
  const shape = ops.shape(y) as number[];
  const flat = ops.reshape(y, [-1]);
  return ops.sum(ops.mul(flat, ops.constant(normals(rng, size(shape)), [size(shape)])), 0);
}

/**
 * The engine's gradients of `loss` at the variables' values against central differences (f(w + h) - f(w - h)) / 2h
 * of the same graph's loss, entry by entry: |analytic - numeric| <= atol + rtol |numeric| (float32; h = 1e-2 as
 * neural's gradcheck).
 */
async function expectEngineGradientsMatch(
  params: tf.Variable[],
  loss: (ops: Ops<string>) => string,
  { h = 1e-2, rtol = 1e-2, atol = 1e-3 }: { h?: number; rtol?: number; atol?: number } = {},
): Promise<void> {
  const step = await TrainStep.compile({ params, inputs: [], loss: (ops) => loss(ops) });
  try {
    const weights = params.map((p) => Float32Array.from(p.dataSync() as Float32Array));
    const { grads } = await step.run({}, weights);
    for (let k = 0; k < params.length; k++) {
      const w = weights[k];
      let worst = 0;
      let at = -1;
      const numeric = new Float32Array(w.length);
      for (let j = 0; j < w.length; j++) {
        const base = w[j];
        w[j] = base + h;
        const up = (await step.run({}, weights)).loss;
        w[j] = base - h;
        const down = (await step.run({}, weights)).loss;
        w[j] = base;
        numeric[j] = (up - down) / (2 * h);
        const ratio = Math.abs(grads[k][j] - numeric[j]) / (atol + rtol * Math.abs(numeric[j]));
        if (ratio > worst) [worst, at] = [ratio, j];
      }
      const where = `weight ${k} [${params[k].shape}] entry ${at}: engine ${grads[k][at]}, numeric ${numeric[at]}`;
      expect(worst, where).toBeLessThanOrEqual(1);
      expect(Math.max(...numeric.map(Math.abs)), `weight ${k}: the loss depends on it`).toBeGreaterThan(1e-3);
    }
  } finally {
    await step.release();
  }
}

/** An op case: its weights' shapes and its output from them (written once against Ops). */
interface Case {
  shapes: number[][];
  /** Points where the op has a kink: weights drawn within 0.05 of one move 0.1 away (central differences need it). */
  kinks?: number[];
  /** Step of the central differences, when 1e-2 would cross a kink the weights cannot be kept from. */
  h?: number;
  apply: <T>(ops: Ops<T>, w: T[]) => T;
}

const CASES: Record<string, Case> = {
  'add (broadcast)': { shapes: [[3, 4], [4]], apply: (o, [a, b]) => o.add(a, b) },
  'add a number': { shapes: [[3, 4]], apply: (o, [a]) => o.add(a, 0.5) },
  'sub (broadcast)': {
    shapes: [
      [2, 3, 4],
      [3, 1],
    ],
    apply: (o, [a, b]) => o.sub(a, b),
  },
  'sub from a number': { shapes: [[3, 4]], apply: (o, [a]) => o.sub(1, a) },
  'mul (broadcast)': {
    shapes: [
      [2, 3, 4],
      [1, 4],
    ],
    apply: (o, [a, b]) => o.mul(a, b),
  },
  'mul by itself': { shapes: [[5]], apply: (o, [a]) => o.mul(a, a) },
  'div (broadcast)': { shapes: [[3, 4], [4]], apply: (o, [a, b]) => o.div(a, o.add(o.mul(b, b), 0.5)) },
  'div a number by': { shapes: [[5]], apply: (o, [a]) => o.div(2, o.add(o.mul(a, a), 1)) },
  'div by a number': { shapes: [[5]], apply: (o, [a]) => o.div(a, 4) },
  'maximum (broadcast)': { shapes: [[3, 4], [4]], apply: (o, [a, b]) => o.maximum(a, b) },
  'maximum with a number': { shapes: [[12]], kinks: [0.2], apply: (o, [a]) => o.maximum(a, 0.2) },
  sqrt: { shapes: [[6]], apply: (o, [a]) => o.sqrt(o.add(o.mul(a, a), 0.5)) },
  logSoftmax: { shapes: [[3, 5]], apply: (o, [a]) => o.logSoftmax(a) },
  neg: { shapes: [[6]], apply: (o, [a]) => o.neg(a) },
  abs: { shapes: [[6]], kinks: [0], apply: (o, [a]) => o.abs(a) },
  clip: { shapes: [[12]], kinks: [-0.5, 0.7], apply: (o, [a]) => o.clip(a, -0.5, 0.7) },
  relu: { shapes: [[12]], kinks: [0], apply: (o, [a]) => o.relu(a) },
  gelu: { shapes: [[12]], apply: (o, [a]) => o.gelu(a) },
  where: { shapes: [[3, 4], [4]], kinks: [0], apply: (o, [a, b]) => o.where(o.less(a, 0), a, b) },
  'where with a number': {
    shapes: [[3, 4]],
    kinks: [0.2],
    apply: (o, [a]) => o.where(o.less(a, 0.2), o.mul(a, 3), 0.1),
  },
  'cast float to float': { shapes: [[5]], apply: (o, [a]) => o.cast(o.mul(a, a), 'float32') },
  sum: { shapes: [[3, 4, 2]], apply: (o, [a]) => o.sum(a, 1) },
  mean: { shapes: [[3, 4, 2]], apply: (o, [a]) => o.mean(a, 2) },
  max: { shapes: [[3, 5]], apply: (o, [a]) => o.max(a, 1) },
  softmax: { shapes: [[3, 5]], apply: (o, [a]) => o.softmax(a) },
  reshape: { shapes: [[2, 3, 4]], apply: (o, [a]) => o.mul(o.reshape(a, [0, -1]), o.reshape(a, [0, -1])) },
  transpose: {
    shapes: [
      [2, 3, 4],
      [4, 2, 3],
    ],
    apply: (o, [a, b]) => o.mul(o.transpose(a, [2, 0, 1]), b),
  },
  concat: {
    shapes: [
      [2, 3],
      [2, 1],
    ],
    apply: (o, [a, b]) => o.concat([a, b, a], 1),
  },
  slice: { shapes: [[3, 5]], apply: (o, [a]) => o.slice(a, 1, 1, 4) },
  split: { shapes: [[4, 6]], apply: (o, [a]) => o.mul(...(o.split(a, 1, 3).slice(0, 2) as [typeof a, typeof a])) },
  padEnd: { shapes: [[3, 2]], apply: (o, [a]) => o.mul(o.padEnd(a, 0, 2, 1.5), o.padEnd(a, 0, 2, 1.5)) },
  'gather axis 0 (repeated indices)': {
    shapes: [[5, 3]],
    apply: (o, [a]) => o.gather(a, 0, o.constant(Int32Array.from([4, 0, 4, 2, 4, 1]), [2, 3])),
  },
  'gather axis 1': {
    shapes: [[2, 5, 3]],
    apply: (o, [a]) => o.gather(a, 1, o.constant(Int32Array.from([3, 3, 0, 1]), [2, 2])),
  },
  'gather by float ids': {
    shapes: [[4, 2]],
    apply: (o, [a]) => o.gather(a, 0, o.constant(Float32Array.from([1, 3, 1]), [3])),
  },
  'matMul 2-D': {
    shapes: [
      [3, 4],
      [4, 5],
    ],
    apply: (o, [a, b]) => o.matMul(a, b),
  },
  'matMul batched (broadcast)': {
    shapes: [
      [2, 3, 4],
      [4, 2],
    ],
    apply: (o, [a, b]) => o.matMul(a, b),
  },
  'dense linear 2-D': { shapes: [[3, 4], [4, 5], [5]], apply: (o, [x, w, b]) => o.dense(x, w, b) },
  'dense relu 3-D': {
    // a pre-activation within 1e-2 of 0 (x w moves by x h): a smaller step keeps to one side of the kink
    h: 1e-3,
    shapes: [[2, 3, 4], [4, 5], [5]],
    apply: (o, [x, w, b]) => o.dense(x, w, b, 'relu'),
  },
  layerNorm: { shapes: [[2, 3, 6], [6], [6]], apply: (o, [x, g, b]) => o.layerNorm(x, g, b, 1e-5) },
  'attention (causal, key mask)': {
    shapes: [
      [2, 3, 4],
      [2, 3, 4],
      [2, 3, 4],
    ],
    apply: (o, [q, k, v]) =>
      o.attention(q, k, v, 2, { causal: true, keyMask: o.constant(Float32Array.from([1, 1, 0, 1, 0, 1]), [2, 3]) }),
  },
  'attention (cross)': {
    shapes: [
      [2, 2, 4],
      [2, 3, 4],
      [2, 3, 4],
    ],
    apply: (o, [q, k, v]) => o.attention(q, k, v, 1),
  },
};

describe('TrainStep: every op against finite differences', () => {
  for (const [name, c] of Object.entries(CASES))
    it(name, async () => {
      const rng = createRng(`grad ${name}`);
      const params = c.shapes.map((s) => {
        const values = normals(rng, size(s)).map((v) => {
          const near = (c.kinks ?? []).find((k) => Math.abs(v - k) < 0.05);
          return near === undefined ? v : near + (v < near ? -0.1 : 0.1);
        });
        return tf.variable(tf.tensor(values, s));
      });
      const r = rng.fork('projection');
      await expectEngineGradientsMatch(
        params,
        (ops) =>
          scalarise(
            ops,
            c.apply(
              ops,
              params.map((p) => ops.param(p)),
            ),
            r.fork('same'),
          ),
        { h: c.h },
      );
      tf.dispose(params);
    });

  it('stopGradient passes nothing back: d/dw [w r + sg(w) r] = r', async () => {
    const rng = createRng('stop');
    const w = variable(rng, [4]);
    const r = Float32Array.from([0.5, -1, 2, 0.25]);
    const step = await TrainStep.compile({
      params: [w],
      inputs: [],
      loss: (ops) => {
        const x = ops.param(w);
        const rr = ops.constant(r, [4]);
        return ops.sum(ops.add(ops.mul(x, rr), ops.mul(ops.stopGradient(x), rr)), 0);
      },
    });
    const { grads } = await step.run({}, [Float32Array.from(w.dataSync() as Float32Array)]);
    expect(Array.from(grads[0])).toEqual(Array.from(r));
    await step.release();
    w.dispose();
  });
});

describe('TrainStep: layers and networks against tfjs', () => {
  /** Engine gradients and tfjs's (tfjsOps + variableGrads) of the same loss, max abs difference. */
  async function compareWithTfjs(params: tf.Variable[], loss: <T>(ops: Ops<T>) => T): Promise<number> {
    const step = await TrainStep.compile({ params, inputs: [], loss: (ops) => loss(ops) });
    const { loss: value, grads } = await step.run(
      {},
      params.map((p) => Float32Array.from(p.dataSync() as Float32Array)),
    );
    await step.release();
    const reference = tf.tidy(() => {
      const r = tf.variableGrads(() => loss(tfjsOps) as tf.Scalar, params);
      return { value: r.value.dataSync()[0], grads: params.map((p) => r.grads[p.name].dataSync()) };
    });
    expect(Math.abs(value - reference.value)).toBeLessThan(1e-4 * Math.max(1, Math.abs(reference.value)));
    let worst = 0;
    grads.forEach((g, k) => g.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - reference.grads[k][j])))));
    return worst;
  }

  it('an Mlp, a LayerNorm and a MultiHeadAttention (causal) on seeded inputs: within 1e-4', async () => {
    const rng = createRng('layers');
    const mlp = new Mlp(rng.fork('mlp'), [6, 16, 16, 4]);
    const norm = new LayerNorm(4);
    const attention = new MultiHeadAttention(rng.fork('attention'), 4, 2);
    const x = tf.tensor(normals(rng, 2 * 3 * 6), [2, 3, 6]);
    const params = [...mlp.params(), ...norm.params(), ...attention.params()];
    const r = normals(rng, 2 * 3 * 4);
    const worst = await compareWithTfjs(params, (ops) => {
      const h = norm.apply(ops, mlp.apply(ops, ops.param(x)));
      const y = attention.apply(ops, h, { causal: true });
      return ops.sum(ops.mul(ops.reshape(y, [-1]), ops.constant(r, [r.length])), 0);
    });
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([x, ...params]);
  });

  it('a Dense layer whose input is not trained: no gradient for the data, weights within 1e-4', async () => {
    const rng = createRng('dense data');
    const dense = new Dense(rng, 5, 3, { activation: 'relu' });
    const x = tf.tensor(normals(rng, 4 * 5), [4, 5]);
    const worst = await compareWithTfjs(dense.params(), (ops) =>
      ops.mean(ops.mean(ops.mul(dense.apply(ops, ops.param(x)), dense.apply(ops, ops.param(x))), 1), 0),
    );
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([x, ...dense.params()]);
  });
});

describe('TrainStep: runs', () => {
  it('reads data inputs with a symbolic batch, and gives identical numbers for identical inputs', async () => {
    const rng = createRng('data');
    const mlp = new Mlp(rng.fork('mlp'), [3, 8, 2]);
    const step = await TrainStep.compile({
      params: mlp.params(),
      inputs: [
        { name: 'x', shape: ['batch', 3] },
        { name: 'y', shape: ['batch', 2] },
      ],
      loss: (ops, { x, y }) => {
        const d = ops.sub(mlp.apply(ops, x), y);
        return ops.mean(ops.mean(ops.mul(d, d), 1), 0);
      },
      modules: { mlp },
    });
    const weights = mlp.params().map((p) => Float32Array.from(p.dataSync() as Float32Array));
    for (const batch of [4, 7]) {
      const data = {
        x: { data: normals(rng, batch * 3), dims: [batch, 3] },
        y: { data: normals(rng, batch * 2), dims: [batch, 2] },
      };
      const a = await step.run(data, weights);
      const b = await step.run(data, weights);
      expect(a.loss).toBeGreaterThan(0);
      expect(b.loss).toBe(a.loss);
      a.grads.forEach((g, k) => expect(Array.from(b.grads[k])).toEqual(Array.from(g)));
    }
    expect(step.weightInputs[0]).toBe('mlp.layers.0.w');
    await step.release();
    mlp.dispose();
  });

  it('a loss that is not a scalar is a clear error', async () => {
    const w = tf.variable(tf.ones([3]));
    await expect(TrainStep.compile({ params: [w], inputs: [], loss: (ops) => ops.param(w) })).rejects.toThrow(
      /loss must be a scalar/,
    );
    w.dispose();
  });
});
