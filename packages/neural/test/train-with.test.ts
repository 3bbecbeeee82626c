// trainWith: the shared loop on an engine of its own. A plain-JS engine (one weight w, per-example loss
// (w - target_i)^2, gradient descent) shows what the loop asks of any engine: its steps get the seeded minibatches
// and the schedule's learning rates, the holdout loss picks the best weights, which come back at the end, and
// `finish` runs however the run ends (done, diverged, bad options).
import { describe, expect, it } from 'vitest';
import { createRng } from '@worldbench/core';
import { learningRateAt, type TrainEngine, trainWith } from '../src/index';

/** One weight fitted to targets by gradient descent; records what the loop asked of it. */
function scalarEngine(targets: number[], start = 0) {
  const calls = { steps: [] as { batch: number[]; lr: number }[], kept: 0, restored: 0, finished: 0 };
  let w = start;
  let best = start;
  const loss = (batch: Int32Array) => batch.reduce((s, i) => s + (w - targets[i]) ** 2, 0) / batch.length;
  const engine: TrainEngine = {
    step: (batch, lr) => {
      const value = loss(batch);
      calls.steps.push({ batch: Array.from(batch), lr });
      w -= (lr * batch.reduce((s, i) => s + 2 * (w - targets[i]), 0)) / batch.length;
      return value;
    },
    loss,
    keepBest: () => {
      best = w;
      calls.kept += 1;
    },
    restoreBest: () => {
      w = best;
      calls.restored += 1;
    },
    finish: () => {
      calls.finished += 1;
    },
  };
  return { engine, calls, weight: () => w };
}

describe('trainWith', () => {
  it('gives the engine every example once an epoch, at the schedule learning rates, and ends with finish', async () => {
    const targets = Array.from({ length: 10 }, (_, i) => i / 10);
    const { engine, calls, weight } = scalarEngine(targets);
    const result = await trainWith(engine, {
      n: 10,
      batchSize: 4,
      epochs: 3,
      lr: 0.1,
      warmup: 2,
      rng: createRng('tw'),
    });
    expect(result.steps).toBe(9); // 3 batches (4, 4, 2) per epoch
    for (let epoch = 0; epoch < 3; epoch++) {
      const seen = calls.steps.slice(3 * epoch, 3 * epoch + 3).flatMap((s) => s.batch);
      expect(seen.sort((a, b) => a - b)).toEqual(targets.map((_, i) => i));
    }
    calls.steps.forEach((s, i) => expect(s.lr).toBeCloseTo(learningRateAt(i, 9, 0.1, 2, 0.01), 12));
    expect(Math.abs(weight() - 0.45)).toBeLessThan(0.2); // moved from 0 towards the mean target
    expect(calls.finished).toBe(1);
    expect(calls.restored).toBe(0); // no holdout: nothing kept, nothing restored
  });

  it('keeps the weights of the best holdout loss and restores them when the run ends', async () => {
    // a learning rate that overshoots more each epoch after the first: the holdout loss is best early on
    const targets = Array.from({ length: 20 }, () => 1);
    const { engine, calls, weight } = scalarEngine(targets);
    const result = await trainWith(engine, {
      n: 20,
      batchSize: 5,
      epochs: 6,
      lr: 0.9,
      minLr: 0.9,
      holdout: 0.25,
      patience: 100,
      rng: createRng('holdout'),
    });
    const best = Math.min(...result.history.map((h) => h.holdoutLoss as number));
    expect(result.bestLoss).toBe(best);
    expect(calls.kept).toBeGreaterThan(0);
    expect(calls.restored).toBe(1);
    expect((weight() - 1) ** 2).toBeCloseTo(best, 12); // the restored weight's loss is the best holdout loss
    expect(calls.finished).toBe(1);
  });

  it('calls finish when a step diverges and when the options are bad', async () => {
    const diverging = scalarEngine([1e200, -1e200], 0);
    await expect(
      trainWith(diverging.engine, { n: 2, batchSize: 2, steps: 50, lr: 10, rng: createRng('d') }),
    ).rejects.toThrow(/training diverged: loss is Infinity/);
    expect(diverging.calls.finished).toBe(1);
    const bad = scalarEngine([0, 1]);
    await expect(trainWith(bad.engine, { n: 2, batchSize: 0, steps: 5, lr: 0.1, rng: createRng('b') })).rejects.toThrow(
      /batchSize must be a positive integer/,
    );
    expect(bad.calls.finished).toBe(1);
    expect(bad.calls.steps).toHaveLength(0);
  });
});
