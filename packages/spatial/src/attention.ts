// Neighbourhood attention (Hassani et al. 2023, NAT): each patch token attends to the tokens of the
// (2r + 1) x (2r + 1) patches around it. Why not @worldbench/neural's global MultiHeadAttention: on this
// machine its score product (batchMatMul over B * heads matrices of 64 x 16 x 64) runs as a loop of
// unstacked 2-D matMuls that took 180-440 ms per call (measured with `dev-prof3.ts`, load 4-5), and the
// stock batched kernel 20-30 ms; a training step of the 2-block model then took 2.7 s. Here the scores are
// elementwise products over M = (2r + 1)^2 gathered neighbours, with no matMul at all: the whole layer costs
// about as much as its four dense projections. Motion in these views is local (a ball moves < 7 px a step,
// a sprite one tile), and two layers of radius 1 see 5 x 5 patches (20 x 20 px at patch 4).

import type { Rng } from '@worldbench/core';
import { Dense, paramsOf, takeRows, tf, type Layer } from '@worldbench/neural';

export interface Neighbourhood {
  rows: number;
  cols: number;
  radius: number;
  wrap: boolean;
  /** Neighbours per token, M = (2r + 1)^2 (the token itself included). */
  M: number;
  /** [P * M] token index of neighbour m of token p (a valid index even where masked). */
  index: Int32Array;
  /** [P * M] 0 where the neighbour exists, -1e9 where it falls outside the frame (not wrapping). */
  mask: Float32Array;
}

export function neighbourhood(rows: number, cols: number, radius: number, wrap: boolean): Neighbourhood {
  const side = 2 * radius + 1, M = side * side, P = rows * cols;
  const index = new Int32Array(P * M), mask = new Float32Array(P * M);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      for (let dr = -radius; dr <= radius; dr++)
        for (let dc = -radius; dc <= radius; dc++) {
          const at = (r * cols + c) * M + (dr + radius) * side + (dc + radius);
          let y = r + dr, x = c + dc;
          const inside = y >= 0 && y < rows && x >= 0 && x < cols;
          if (wrap) (y = (y + rows) % rows), (x = (x + cols) % cols);
          if (inside || wrap) index[at] = y * cols + x;
          else (index[at] = r * cols + c), (mask[at] = -1e9);
        }
  return { rows, cols, radius, wrap, M, index, mask };
}

/**
 * Tokens [N, P, D] -> each token's neighbours [N, P, M, D]; differentiable (takeRows scatters the gradient
 * back). Measured against the alternatives on tfjs-wasm (fwd + bwd, N = 32, P = 64, D = 64): this 20 ms;
 * a constant 0/1 selection matrix applied by matMul 35 ms; shifted slices of a padded grid over 200 ms.
 */
function gatherNeighbours(x: tf.Tensor3D, index: tf.Tensor1D, M: number): tf.Tensor4D {
  const [n, p, d] = x.shape;
  const byToken = tf.transpose(x, [1, 0, 2]); //                         [P, N, D]
  const picked = takeRows<tf.Rank.R3>(byToken, index); //                [P*M, N, D]
  return tf.transpose(tf.reshape(picked, [p, M, n, d]), [2, 0, 1, 3]) as tf.Tensor4D; // [N, P, M, D]
}

/**
 * Multi-head neighbourhood attention: x [N, P, D] -> [N, P, D]. The output projection starts at zero when
 * `zeroOutput` (a residual block then starts as the identity).
 */
export class NeighbourhoodAttention implements Layer {
  readonly query: Dense;
  readonly key: Dense;
  readonly value: Dense;
  readonly output: Dense;
  private readonly mask: tf.Tensor; //   [P, M, 1]
  private readonly M: number;
  private readonly index: tf.Tensor1D; // [P * M]

  constructor(rng: Rng, readonly width: number, readonly heads: number, readonly hood: Neighbourhood, zeroOutput = true) {
    if (width % heads !== 0) throw new Error(`NeighbourhoodAttention: width ${width} is not divisible by ${heads} heads`);
    this.query = new Dense(rng, width, width);
    this.key = new Dense(rng, width, width);
    this.value = new Dense(rng, width, width);
    this.output = new Dense(rng, width, width, { init: zeroOutput ? 'zero' : 'glorot' });
    this.M = hood.M;
    this.index = tf.tensor1d(hood.index, 'int32');
    this.mask = tf.tensor3d(hood.mask, [hood.index.length / hood.M, hood.M, 1]);
  }

  apply(x: tf.Tensor3D): tf.Tensor3D {
    const [n, p, d] = x.shape;
    const h = this.heads, dh = d / h, M = this.M;
    const q = tf.reshape(this.query.apply(x), [n, p, 1, h, dh]); //                         [N, P, 1, H, dh]
    const k = tf.reshape(gatherNeighbours(this.key.apply(x), this.index, M), [n, p, M, h, dh]); // [N, P, M, H, dh]
    const v = tf.reshape(gatherNeighbours(this.value.apply(x), this.index, M), [n, p, M, h, dh]);
    const scores = tf.add(tf.mul(tf.sum(tf.mul(q, k), 4), 1 / Math.sqrt(dh)), this.mask); //  [N, P, M, H]
    const weights = tf.transpose(tf.softmax(tf.transpose(scores, [0, 1, 3, 2])), [0, 1, 3, 2]); // softmax over M
    const out = tf.sum(tf.mul(tf.reshape(weights, [n, p, M, h, 1]), v), 2); //                 [N, P, H, dh]
    return this.output.apply(tf.reshape(out, [n, p, d]) as tf.Tensor3D); //                     [N, P, D]
  }

  params(): tf.Variable[] {
    return paramsOf([this.query, this.key, this.value, this.output]);
  }
  count(): number {
    return this.params().reduce((s, p) => s + p.size, 0);
  }
  dispose(): void {
    for (const p of this.params()) p.dispose();
    this.mask.dispose();
    this.index.dispose();
  }
}
