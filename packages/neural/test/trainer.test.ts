import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@worldbench/core';
import { Dense, Mlp, initBackend, learningRateAt, shuffledBatches, takeRows, tf, tfjsOps, train } from '../src/index';
import { randomTensor } from './gradcheck';

beforeAll(async () => {
  await initBackend();
});

// y = x A + c + 0.01 noise, x [n, 4], A [4, 3]
const A = [
  [1, -2, 0.5],
  [0, 1.5, -1],
  [2, 0, 0.25],
  [-0.5, 0.75, 1],
];
const C = [0.3, -0.2, 0.1];

function linearData(seed: string, n: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const rng = createRng(seed);
  const x = randomTensor(rng, [n, 4]) as tf.Tensor2D;
  const noise = randomTensor(rng, [n, 3], 0.01);
  const y = tf.tidy(() => tf.add(tf.add(tf.matMul(x, tf.tensor2d(A)), tf.tensor1d(C)), noise)) as tf.Tensor2D;
  noise.dispose();
  return { x, y };
}

function mseOf(model: Dense | Mlp, x: tf.Tensor2D, y: tf.Tensor2D) {
  return (idx: Int32Array) =>
    tf.losses.meanSquaredError(takeRows(y, idx), model.apply(tfjsOps, takeRows(x, idx))) as tf.Scalar;
}

describe('train', () => {
  it('recovers a linear map: loss falls over 100x and W, b are within 0.02 of the truth', async () => {
    const { x, y } = linearData('linear', 512);
    const layer = new Dense(createRng('init'), 4, 3);
    const loss = mseOf(layer, x, y);
    const all = Int32Array.from({ length: 512 }, (_, i) => i);
    const before = tf.tidy(() => loss(all).dataSync()[0]);
    const result = await train({
      params: layer.params(),
      loss,
      n: 512,
      batchSize: 32,
      epochs: 40,
      lr: 0.05,
      warmup: 20,
      rng: createRng('train'),
    });
    const after = tf.tidy(() => loss(all).dataSync()[0]);
    expect(result.steps).toBe(40 * 16);
    expect(result.history).toHaveLength(40);
    expect(after).toBeLessThan(before / 100);
    const w = layer.w.arraySync() as number[][];
    A.forEach((row, i) => row.forEach((a, j) => expect(Math.abs(w[i][j] - a)).toBeLessThan(0.02)));
    Array.from(layer.b.dataSync()).forEach((b, j) => expect(Math.abs(b - C[j])).toBeLessThan(0.02));
  });

  it('leaves no tensors behind, however often it runs', async () => {
    const { x, y } = linearData('leak', 64);
    const start = tf.memory().numTensors;
    const mlp = new Mlp(createRng('leak-init'), [4, 8, 3]);
    const loss = mseOf(mlp, x, y);
    const fit = () =>
      train({
        params: mlp.params(),
        loss,
        n: 64,
        batchSize: 16,
        epochs: 3,
        lr: 0.01,
        rng: createRng('leak-train'),
        holdout: 0.25,
      });
    await fit();
    const count = tf.memory().numTensors;
    await fit();
    await fit();
    expect(tf.memory().numTensors).toBe(count);
    expect(count).toBe(start + mlp.params().length); // the model's variables only
    mlp.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('is deterministic: the same seeds give bit-identical weights, another seed does not', async () => {
    const { x, y } = linearData('determinism', 128);
    const run = async (seed: string) => {
      const mlp = new Mlp(createRng('same-init'), [4, 16, 3]);
      await train({
        params: mlp.params(),
        loss: mseOf(mlp, x, y),
        n: 128,
        batchSize: 16,
        epochs: 4,
        lr: 0.01,
        warmup: 5,
        rng: createRng(seed),
        holdout: 0.2,
      });
      const weights = mlp.params().map((p) => Array.from(p.dataSync()));
      mlp.dispose();
      return weights;
    };
    const a = await run('seed-1');
    expect(await run('seed-1')).toEqual(a);
    expect(await run('seed-2')).not.toEqual(a);
  });

  it('stops early when the holdout loss stops improving and restores the best weights', async () => {
    // pure-noise targets: a wide MLP can only memorise them, so the holdout loss turns up
    const rng = createRng('overfit');
    const n = 40;
    const x = randomTensor(rng, [n, 2]) as tf.Tensor2D;
    const y = randomTensor(rng, [n, 1]) as tf.Tensor2D;
    const mlp = new Mlp(createRng('overfit-init'), [2, 64, 64, 1]);
    const loss = mseOf(mlp, x, y);
    const result = await train({
      params: mlp.params(),
      loss,
      n,
      batchSize: 30,
      epochs: 2000,
      lr: 0.01,
      rng: createRng('overfit-train'),
      holdout: 0.25,
      patience: 5,
    });
    expect(result.stoppedEarly).toBe(true);
    expect(result.steps).toBeLessThan(2000);
    expect(result.holdout).toHaveLength(10);
    const holdoutLosses = result.history.map((r) => r.holdoutLoss as number);
    expect(result.bestLoss).toBe(Math.min(...holdoutLosses));
    expect(holdoutLosses[holdoutLosses.length - 1]).toBeGreaterThan(result.bestLoss);
    const restored = tf.tidy(() => loss(result.holdout).dataSync()[0]);
    expect(restored).toBeCloseTo(result.bestLoss, 5);
  });

  it(
    'runs given minibatches (shuffledBatches, dropLast: every batch full), prepares each outside the gradient, and ' +
      'calls afterStep after every step',
    async () => {
      const { x, y } = linearData('hooks', 10);
      const layer = new Dense(createRng('hooks-init'), 4, 3);
      const seen: number[][] = [];
      const steps: number[] = [];
      const batches = shuffledBatches(
        Array.from({ length: 10 }, (_, i) => i),
        4,
        createRng('hooks-batches'),
        true,
      );
      await train({
        params: layer.params(),
        n: 10,
        batchSize: 4,
        steps: 6,
        lr: 0.01,
        batches,
        // the minibatch's data, made before the loss is taped: the loss's gradient reaches only the layer
        prepare: (idx) => ({ x: takeRows(x, idx), y: takeRows(y, idx) }),
        loss: (idx, data) => {
          seen.push(Array.from(idx));
          return tf.losses.meanSquaredError(data.y, layer.apply(tfjsOps, data.x)) as tf.Scalar;
        },
        afterStep: (record) => {
          expect(record.totalSteps).toBe(6);
          expect(Number.isFinite(record.loss)).toBe(true);
          steps.push(record.step);
        },
      });
      expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
      // each epoch of 10 examples gives two full batches of 4 (the last 2 examples are skipped), then a fresh
      // permutation
      expect(seen.map((b) => b.length)).toEqual([4, 4, 4, 4, 4, 4]);
      for (const epoch of [0, 2, 4]) expect(new Set([...seen[epoch], ...seen[epoch + 1]]).size).toBe(8);
      expect(seen[0]).not.toEqual(seen[2]);
      const again = shuffledBatches(
        Array.from({ length: 10 }, (_, i) => i),
        4,
        createRng('hooks-batches'),
        true,
      );
      expect(Array.from(again())).toEqual(seen[0]);
      // without dropLast an epoch ends on a smaller batch
      const partial = shuffledBatches([0, 1, 2, 3, 4], 2, createRng('partial'));
      expect([partial(), partial(), partial(), partial()].map((b) => b.length)).toEqual([2, 2, 1, 2]);
    },
  );

  it('rejects bad options with a message saying what to give', async () => {
    const v = tf.variable(tf.zeros([1]));
    const loss = () => tf.sum(v) as tf.Scalar;
    const base = { params: [v], loss, n: 4, batchSize: 2, lr: 0.1, rng: createRng(0) };
    await expect(train({ ...base })).rejects.toThrow('give exactly one of epochs and steps');
    await expect(train({ ...base, steps: 3, holdout: 1 })).rejects.toThrow('holdout must be a fraction');
    await expect(train({ ...base, steps: 3, holdout: 0.5, batches: () => Int32Array.of(0) })).rejects.toThrow(
      'batches and holdout do not mix',
    );
    await expect(train({ ...base, rng: undefined, steps: 3 })).rejects.toThrow('give rng');
  });

  it('reports divergence instead of returning NaN weights', async () => {
    const v = tf.variable(tf.ones([1]));
    const loss = () => tf.div(tf.sum(v), 0) as tf.Scalar; // Infinity at the first step
    await expect(
      train({ params: [v], loss, n: 4, batchSize: 2, steps: 3, lr: 0.1, rng: createRng(0) }),
    ).rejects.toThrow(/training diverged: loss is Infinity at step 1/);
  });
});

describe('learningRateAt', () => {
  it('warms up linearly, then decays by a cosine from lr to minLr', () => {
    expect(learningRateAt(0, 110, 1, 10, 0.1)).toBeCloseTo(0.1);
    expect(learningRateAt(9, 110, 1, 10, 0.1)).toBeCloseTo(1);
    expect(learningRateAt(10, 110, 1, 10, 0.1)).toBeCloseTo(1);
    expect(learningRateAt(59.5, 110, 1, 10, 0.1)).toBeCloseTo(0.55);
    expect(learningRateAt(109, 110, 1, 10, 0.1)).toBeCloseTo(0.1);
  });
});
