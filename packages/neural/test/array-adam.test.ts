// ArrayAdam (weights as float32 arrays, for engines outside tfjs) takes the steps tfjs's Adam takes: after ten
// steps with warm-up-like changing learning rates and weight decay, the weights agree within float32 round-off.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@worldbench/core';
import { Adam, ArrayAdam, initBackend, tf } from '../src/index';

beforeAll(async () => {
  await initBackend();
});

describe('ArrayAdam', () => {
  it('matches Adam on tf.Variables step for step (within 1e-6), weight decay included', () => {
    const rng = createRng('array adam');
    const shapes = [[3, 4], [4]];
    const start = shapes.map((s) => Float32Array.from({ length: s[0] * (s[1] ?? 1) }, () => rng.normal()));
    const variables = start.map((w, k) => tf.variable(tf.tensor(w, shapes[k])));
    const arrays = start.map((w) => w.slice());
    const options = { beta2: 0.95, weightDecay: 0.1 };
    const adam = new Adam(variables, options);
    const arrayAdam = new ArrayAdam(arrays, options);
    for (let step = 0; step < 10; step++) {
      const grads = start.map((w) => Float32Array.from(w, () => rng.normal()));
      const lr = 1e-2 * (step + 1);
      tf.tidy(() =>
        adam.step(
          grads.map((g, k) => tf.tensor(g, shapes[k])),
          lr,
        ),
      );
      arrayAdam.step(grads, lr);
    }
    variables.forEach((v, k) => {
      const tfjs = v.dataSync();
      const moved = Math.max(...arrays[k].map((w, j) => Math.abs(w - start[k][j])));
      expect(moved, 'the weights moved').toBeGreaterThan(0.05);
      arrays[k].forEach((w, j) => expect(Math.abs(w - tfjs[j])).toBeLessThan(1e-6));
    });
    adam.dispose();
    tf.dispose(variables);
  });

  it('a gradient of the wrong size is a clear error', () => {
    const adam = new ArrayAdam([new Float32Array(3)]);
    expect(() => adam.step([new Float32Array(2)], 1e-3)).toThrow(/gradient 0 has 2 entries, weight 3/);
  });
});
