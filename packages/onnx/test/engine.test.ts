// The ONNX Runtime training engine through neural's training loop (trainWith): a fit reaches the loss the same
// fit reaches on tfjs (train) from the same initial weights, minibatches and schedule; a fit is bit-identical when
// repeated with the same seeds; the trained weights land in the variables.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRng } from '@worldbench/core';
import { Mlp, type Ops, backendName, initBackend, takeRows, tf, tfjsOps, train, trainWith } from '@worldbench/neural';
import { ORT_ENGINE, OrtEngine, rowsOf, trainOnChosenEngine, type EngineRun } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

const N = 256;
// y = tanh(x A) + 0.05 noise: x [N, 4], A [4, 3] seeded; a small nonlinear regression an Mlp fits in 20 epochs
function data(seed: string): { x: Float32Array; y: Float32Array } {
  const rng = createRng(seed);
  const a = Float32Array.from({ length: 12 }, () => rng.normal());
  const x = Float32Array.from({ length: N * 4 }, () => rng.normal());
  const y = new Float32Array(N * 3);
  for (let i = 0; i < N; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += x[i * 4 + k] * a[k * 3 + j];
      y[i * 3 + j] = Math.tanh(s) + 0.05 * rng.normal();
    }
  return { x, y };
}

const SCHEDULE = { n: N, batchSize: 32, epochs: 20, lr: 1e-2, warmup: 10, holdout: 0.25, patience: 5 };

function mse<T>(ops: Ops<T>, mlp: Mlp, x: T, y: T): T {
  const d = ops.sub(mlp.apply(ops, x), y);
  return ops.mean(ops.mean(ops.mul(d, d), 1), 0);
}

async function fitOnEngine(seed: number, d: { x: Float32Array; y: Float32Array }) {
  const mlp = new Mlp(createRng(seed).fork('init'), [4, 16, 16, 3]);
  const engine = await OrtEngine.create({
    params: mlp.params(),
    inputs: [
      { name: 'x', shape: ['batch', 4] },
      { name: 'y', shape: ['batch', 3] },
    ],
    loss: (ops, i) => mse(ops, mlp, i.x, i.y),
    data: (batch) => ({ x: rowsOf(d.x, [4], batch), y: rowsOf(d.y, [3], batch) }),
  });
  const result = await trainWith(engine, { ...SCHEDULE, rng: createRng(seed).fork('train') });
  const weights = mlp.params().map((p) => Array.from(p.dataSync()));
  mlp.dispose();
  return { result, weights };
}

describe('OrtEngine with trainWith', () => {
  it('fits to the loss tfjs fits to on dev seed 3: best holdout losses within 0.1% of each other', async () => {
    const d = data('engine fit');
    const seed = 3;
    const engine = await fitOnEngine(seed, d);

    const mlp = new Mlp(createRng(seed).fork('init'), [4, 16, 16, 3]);
    const [x, y] = [tf.tensor2d(d.x, [N, 4]), tf.tensor2d(d.y, [N, 3])];
    const start = tf.tidy(() => mse(tfjsOps, mlp, x, y).dataSync()[0]);
    const tfjs = await train({
      ...SCHEDULE,
      params: mlp.params(),
      loss: (idx) => mse(tfjsOps, mlp, takeRows(x, idx), takeRows(y, idx)) as tf.Scalar,
      rng: createRng(seed).fork('train'),
    });
    tf.dispose([x, y]);
    mlp.dispose();

    // both learned: the holdout loss fell well below the untrained loss on all the data
    expect(tfjs.bestLoss).toBeLessThan(start / 5);
    expect(engine.result.bestLoss).toBeLessThan(start / 5);
    // the same run on two engines: only the float32 round-off of the kernels differs (MLAS against XNNPACK or
    // libtensorflow), and 120 Adam steps amplify it little; 0.1% leaves room for other machines' kernels
    expect(Math.abs(engine.result.bestLoss - tfjs.bestLoss)).toBeLessThan(1e-3 * tfjs.bestLoss);
    expect(engine.result.steps).toBe(tfjs.steps);
  });

  it('gradients() reads the loss and gradients without updating; step() then moves the weights', async () => {
    const d = data('engine gradients');
    const mlp = new Mlp(createRng('gradients').fork('init'), [4, 16, 16, 3]);
    const engine = await OrtEngine.create({
      params: mlp.params(),
      inputs: [
        { name: 'x', shape: ['batch', 4] },
        { name: 'y', shape: ['batch', 3] },
      ],
      loss: (ops, i) => mse(ops, mlp, i.x, i.y),
      data: (batch) => ({ x: rowsOf(d.x, [4], batch), y: rowsOf(d.y, [3], batch) }),
    });
    const batch = Int32Array.from({ length: 16 }, (_, i) => i);
    const before = engine.weights.map((w) => w.slice());
    const a = await engine.gradients(batch);
    expect(engine.weights).toEqual(before);
    expect(a.grads.map((g) => g.length)).toEqual(before.map((w) => w.length));
    expect(await engine.loss(batch)).toBe(a.loss);
    expect(await engine.step(batch, 1e-2)).toBe(a.loss);
    expect(engine.weights).not.toEqual(before);
    expect(await engine.loss(batch)).toBeLessThan(a.loss);
    await engine.finish();
    mlp.dispose();
  });

  it('reads fed weights each step without a gradient, writes them back, and reports named scalars', async () => {
    const d = data('engine fed');
    const student = new Mlp(createRng('fed').fork('student'), [4, 8, 3]);
    const teacher = new Mlp(createRng('fed').fork('teacher'), [4, 8, 3]);
    const engine = await OrtEngine.create({
      params: student.params(),
      fed: teacher.params(),
      inputs: [{ name: 'x', shape: ['batch', 4] }],
      loss: (ops, i) => {
        const target = teacher.apply(ops, i.x);
        return { loss: mse(ops, student, i.x, target), report: { target: ops.mean(ops.mean(target, 1), 0) } };
      },
      data: (batch) => ({ x: rowsOf(d.x, [4], batch) }),
    });
    const batch = Int32Array.from({ length: 16 }, (_, i) => i);
    const x = tf.tensor2d(d.x.subarray(0, 16 * 4), [16, 4]);
    const [loss, target] = tf.tidy(() => {
      const t = teacher.apply(tfjsOps, x);
      return [mse(tfjsOps, student, x, t).dataSync()[0], tf.mean(t).dataSync()[0]];
    });
    const a = await engine.gradients(batch);
    expect(a.grads).toHaveLength(student.params().length); // gradients of the trained weights only
    expect(Math.abs(a.loss - loss)).toBeLessThan(1e-5 * loss);
    expect(Math.abs(a.report.target - target)).toBeLessThan(1e-5 * Math.abs(target));
    expect(engine.lastReport).toEqual(a.report);
    // the graph reads the fed arrays each step: a zero teacher outputs its zero bias
    for (const f of engine.fed) f.fill(0);
    expect((await engine.gradients(batch)).report.target).toBe(0);
    await engine.finish();
    for (const p of teacher.params()) expect(Math.max(...Array.from(p.dataSync(), Math.abs))).toBe(0);
    tf.dispose(x);
    student.dispose();
    teacher.dispose();
  });

  it('is deterministic: the same seeds give bit-identical histories and weights', async () => {
    const d = data('engine determinism');
    const [a, b] = [await fitOnEngine(7, d), await fitOnEngine(7, d)];
    expect(a.result.history).toEqual(b.result.history);
    expect(a.weights).toEqual(b.weights);
    const c = await fitOnEngine(8, d);
    expect(c.weights).not.toEqual(a.weights);
  });
});

describe('OrtEngine.createShared: graphs over one set of weights', () => {
  it('steps the routed graph only, trains the shared weights from both, and matches tfjs on the union', async () => {
    // two regressions (the halves of the data, y and -y) through one shared hidden layer and a head each: graph 0 reads
    // the shared layer and head 0, graph 1 the shared layer and head 1; even batches go to graph 0
    const d = data('shared engine');
    const make = () => {
      const rng = createRng('shared').fork('init');
      return { shared: new Mlp(rng.fork('shared'), [4, 16]), heads: [0, 1].map((h) => new Mlp(rng.fork(h), [16, 3])) };
    };
    const sign = [1, -1];
    const loss = <T>(ops: Ops<T>, m: ReturnType<typeof make>, h: number, x: T, y: T) => {
      const p = m.heads[h].apply(ops, ops.relu(m.shared.apply(ops, x)));
      const e = ops.sub(p, ops.mul(y, sign[h]));
      return ops.mean(ops.mean(ops.mul(e, e), 1), 0);
    };
    const half = N / 2;
    // trainer examples 0..N-1: the first half graph 0's, the second graph 1's (its examples re-based to 0)
    const route = (batch: Int32Array) => {
      const graph = batch[0] < half ? 0 : 1;
      return { graph, examples: batch.map((i) => i - graph * half) };
    };
    const batches = () => {
      let step = 0;
      return () => {
        const from = (step++ % 2) * half + ((step * 8) % half);
        return Int32Array.from({ length: 8 }, (_, i) => from + i);
      };
    };
    const params = (m: ReturnType<typeof make>) => [
      ...m.shared.params(),
      ...m.heads[0].params(),
      ...m.heads[1].params(),
    ];
    const schedule = { n: N, batchSize: 8, steps: 40, lr: 1e-2 };
    const sharedEngine = (m: ReturnType<typeof make>) =>
      OrtEngine.createShared({
        params: params(m),
        graphs: [0, 1].map((h) => ({
          params: [...m.shared.params(), ...m.heads[h].params()],
          inputs: [
            { name: 'x', shape: ['batch', 4] },
            { name: 'y', shape: ['batch', 3] },
          ],
          loss: (ops: Ops<string>, i: Record<string, string>) => loss(ops, m, h, i.x, i.y),
          data: (b: Int32Array) => ({ x: rowsOf(d.x, [4], b), y: rowsOf(d.y, [3], b) }),
        })),
        route,
      });

    const onEngine = make();
    const headOne = onEngine.heads[1].params().map((p) => Array.from(p.dataSync()));
    const engine = await sharedEngine(onEngine);
    // a batch of graph 0 moves the shared layer and head 0, never head 1
    const shared = engine.weights[0].slice();
    await engine.step(
      Int32Array.from({ length: 8 }, (_, i) => i),
      1e-2,
    );
    expect(engine.lastGraph).toBe(0);
    expect(engine.weights[0]).not.toEqual(shared);
    expect(engine.weights.slice(4).map((w) => Array.from(w))).toEqual(headOne);
    // gradients in the engine's order: zero for the head the graph does not read
    const g = await engine.gradients(Int32Array.from({ length: 8 }, (_, i) => half + i));
    expect(engine.lastGraph).toBe(1);
    expect(Math.max(...g.grads.slice(2, 4).map((x) => Math.max(...Array.from(x, Math.abs))))).toBe(0);
    await engine.finish();
    onEngine.shared.dispose();
    for (const h of onEngine.heads) h.dispose();

    // the same run on both engines from the same weights and batches: tfjs's Adam skips the head without a gradient
    const runEngine = make();
    const ort = await sharedEngine(runEngine);
    const a = await trainWith(ort, { ...schedule, batches: batches() });
    const onTfjs = make();
    const [x, y] = [tf.tensor2d(d.x, [N, 4]), tf.tensor2d(d.y, [N, 3])];
    const b = await train({
      ...schedule,
      params: params(onTfjs),
      batches: batches(),
      loss: (batch) => {
        const { graph, examples } = route(batch);
        return loss(tfjsOps, onTfjs, graph, takeRows(x, examples), takeRows(y, examples)) as tf.Scalar;
      },
    });
    expect(a.history.length).toBe(b.history.length);
    a.history.forEach((r, i) =>
      expect(Math.abs(r.trainLoss - b.history[i].trainLoss)).toBeLessThan(1e-4 * r.trainLoss),
    );
    const weights = (m: ReturnType<typeof make>) => params(m).flatMap((p) => Array.from(p.dataSync()));
    const [wa, wb] = [weights(runEngine), weights(onTfjs)];
    // both heads trained (from the same start: make() is seeded)
    const start = make();
    const w0 = weights(start);
    for (const at of [0, 2, 4]) expect(params(runEngine)[at].dataSync()).not.toEqual(params(start)[at].dataSync());
    expect(w0.length).toBe(wa.length);
    start.shared.dispose();
    for (const h of start.heads) h.dispose();
    expect(Math.max(...wa.map((w, i) => Math.abs(w - wb[i])))).toBeLessThan(1e-4);
    tf.dispose([x, y]);
    for (const m of [runEngine, onTfjs]) {
      m.shared.dispose();
      for (const h of m.heads) h.dispose();
    }
  });
});

describe('trainOnChosenEngine', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A run in both forms on a fresh Mlp; `trace` replaces the Ops loss (e.g. one that cannot trace). */
  function run(mlp: Mlp, d: { x: Float32Array; y: Float32Array }, trace?: EngineRun<undefined>['onnx']['loss']) {
    const [x, y] = [tf.tensor2d(d.x, [N, 4]), tf.tensor2d(d.y, [N, 3])];
    const spec: EngineRun<undefined> = {
      tfjs: {
        ...SCHEDULE,
        epochs: 2,
        params: mlp.params(),
        loss: (idx) => mse(tfjsOps, mlp, takeRows(x, idx), takeRows(y, idx)) as tf.Scalar,
        rng: createRng('choose'),
      },
      onnx: {
        inputs: [
          { name: 'x', shape: ['batch', 4] },
          { name: 'y', shape: ['batch', 3] },
        ],
        loss: trace ?? ((ops, i) => mse(ops, mlp, i.x, i.y)),
        data: (batch) => ({ x: rowsOf(d.x, [4], batch), y: rowsOf(d.y, [3], batch) }),
      },
    };
    return { spec, dispose: () => tf.dispose([x, y]) };
  }

  it('trains on the onnx engine by default and on tfjs when WORLDBENCH_TRAIN_ENGINE=tfjs, naming it', async () => {
    const d = data('choose');
    for (const [env, name] of [
      [{}, ORT_ENGINE],
      [{ WORLDBENCH_TRAIN_ENGINE: 'tfjs' }, backendName()],
      [{ WORLDBENCH_TRAIN_ENGINE: 'onnx' }, ORT_ENGINE],
    ] as const) {
      const mlp = new Mlp(createRng('choose').fork('init'), [4, 16, 16, 3]);
      const before = mlp.params().map((p) => Array.from(p.dataSync()));
      const r = run(mlp, d);
      const result = await trainOnChosenEngine(r.spec, env);
      expect(result.engine).toBe(name);
      expect(Number.isFinite(result.bestLoss)).toBe(true);
      // the trained weights are in the variables whichever engine ran
      expect(mlp.params().map((p) => Array.from(p.dataSync()))).not.toEqual(before);
      r.dispose();
      mlp.dispose();
    }
  });

  it('falls back to tfjs with a one-line notice when the loss does not trace', async () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (writes.push(String(chunk)), true));
    const mlp = new Mlp(createRng('fallback').fork('init'), [4, 16, 16, 3]);
    const r = run(mlp, data('fallback'), (ops, i) => ops.attention(ops.reshape(i.x, [0, -1]), i.x, i.x, 2));
    const result = await trainOnChosenEngine(r.spec, { WORLDBENCH_TRAIN_ENGINE: 'onnx' });
    expect(result.engine).toBe(backendName());
    expect(result.steps).toBeGreaterThan(0);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^worldbench: training engine tfjs-\S+ \(onnx engine unavailable: GradOps: attention/);
    r.dispose();
    mlp.dispose();
  });

  it('refuses an unknown engine with a message that names the choices', async () => {
    const mlp = new Mlp(createRng('bad').fork('init'), [4, 16, 16, 3]);
    const r = run(mlp, data('bad'));
    await expect(trainOnChosenEngine(r.spec, { WORLDBENCH_TRAIN_ENGINE: 'torch' })).rejects.toThrow(
      /WORLDBENCH_TRAIN_ENGINE=torch is not an engine: give onnx \(the default\) or tfjs/,
    );
    r.dispose();
    mlp.dispose();
  });
});
