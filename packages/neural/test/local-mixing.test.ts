// LocalMixing: a 3 x 3 convolution over a grid of tokens when its table is a grid's neighbourhood; its gradients
// match central differences; a table entry out of range is refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@worldbench/core';
import { LocalMixing, initBackend, tf, tfjsOps } from '../src/index';
import { expectGradientsMatch, randomTensor, randomVariable } from './gradcheck';

beforeAll(async () => {
  await initBackend();
});

/** The 3 x 3 neighbourhood of every cell of a rows x cols torus, row-major, (dr, dc) from (-1, -1) to (1, 1). */
function torus(rows: number, cols: number): Int32Array {
  const out: number[] = [];
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      for (let dr = -1; dr <= 1; dr++)
        for (let dc = -1; dc <= 1; dc++) out.push(((r + dr + rows) % rows) * cols + ((c + dc + cols) % cols));
  return Int32Array.from(out);
}

describe('LocalMixing', () => {
  it('is a 3 x 3 convolution on a torus: equals a plain loop over the kernel', () => {
    const [B, rows, cols, D] = [2, 3, 4, 3];
    const rng = createRng('local-mixing-conv');
    const layer = new LocalMixing(rng, D, torus(rows, cols), 9);
    const x = randomTensor(rng, [B, rows * cols, D]);
    const y = layer.apply(tfjsOps, x).arraySync() as number[][][];
    const xs = x.arraySync() as number[][][];
    const w = layer.mix.w.arraySync() as number[][]; // [9 D, D]: neighbour k's channel i at row k * D + i
    const bias = layer.mix.b.arraySync() as number[];
    let worst = 0;
    for (let b = 0; b < B; b++)
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++)
          for (let o = 0; o < D; o++) {
            let sum = bias[o];
            for (let k = 0; k < 9; k++) {
              const rr = (r + Math.floor(k / 3) - 1 + rows) % rows,
                cc = (c + (k % 3) - 1 + cols) % cols;
              for (let i = 0; i < D; i++) sum += xs[b][rr * cols + cc][i] * w[k * D + i][o];
            }
            worst = Math.max(worst, Math.abs(sum - y[b][r * cols + c][o]));
          }
    expect(worst).toBeLessThan(1e-5);
  });

  it('gradients in x and in its weights match central differences', () => {
    const rng = createRng('local-mixing-grad');
    const layer = new LocalMixing(rng, 2, torus(3, 3), 9);
    const x = randomVariable(rng, [2, 9, 2]);
    const r = randomTensor(rng, [2, 9, 2]);
    expectGradientsMatch(() => tf.sum(tf.mul(layer.apply(tfjsOps, x), r)), [x, ...layer.params()]);
  });

  it('refuses a table whose entries leave [0, N) or do not fill K per token', () => {
    const rng = createRng('local-mixing-bad');
    expect(() => new LocalMixing(rng, 2, Int32Array.from([0, 1, 2, 3]), 3)).toThrow(/not a multiple of K = 3/);
    expect(() => new LocalMixing(rng, 2, Int32Array.from([0, 1, 2, 2]), 2)).toThrow(/entry 2 is 2, outside \[0, 2\)/);
  });
});
