// Neighbourhood attention (Hassani et al. 2023, NAT): each patch token attends to the tokens of the
// (2r + 1) x (2r + 1) patches around it. Why not @worldbench/neural's global MultiHeadAttention: on this
// machine its score product (batchMatMul over B * heads matrices of 64 x 16 x 64) runs as a loop of
// unstacked 2-D matMuls that took 180-440 ms per call (measured with `dev-prof3.ts`, load 4-5), and the
// stock batched kernel 20-30 ms; a training step of the 2-block model then took 2.7 s. Here the scores are
// elementwise products over M = (2r + 1)^2 gathered neighbours, with no matMul at all: the whole layer costs
// about as much as its four dense projections. Motion in these views is local (a ball moves < 7 px a step,
// a sprite one tile), and two layers of radius 1 see 5 x 5 patches (20 x 20 px at patch 4).

import type { Rng } from '@worldbench/core';
import { MultiHeadAttention, tf, type Ops } from '@worldbench/neural';

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
  const side = 2 * radius + 1,
    M = side * side,
    P = rows * cols;
  const index = new Int32Array(P * M),
    mask = new Float32Array(P * M);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      for (let dr = -radius; dr <= radius; dr++)
        for (let dc = -radius; dc <= radius; dc++) {
          const at = (r * cols + c) * M + (dr + radius) * side + (dc + radius);
          let y = r + dr,
            x = c + dc;
          const inside = y >= 0 && y < rows && x >= 0 && x < cols;
          if (wrap) (y = (y + rows) % rows), (x = (x + cols) % cols);
          if (inside || wrap) index[at] = y * cols + x;
          else (index[at] = r * cols + c), (mask[at] = -1e9);
        }
  return { rows, cols, radius, wrap, M, index, mask };
}

/**
 * Token rows [n*P, D] -> each token's neighbours [n, P*M, D] (neighbour m of token p at p * M + m);
 * differentiable (on tfjs a takeRows, which scatters the gradient back). Measured against the alternatives on
 * tfjs-wasm (fwd + bwd, N = 32, P = 64, D = 64): this 20 ms; a constant 0/1 selection matrix applied by matMul
 * 35 ms; shifted slices of a padded grid over 200 ms.
 */
function gatherNeighbours<T>(ops: Ops<T>, x: T, index: T, P: number, D: number): T {
  return ops.gather(ops.reshape(x, [-1, P, D]), 1, index); //                            [n, P*M, D]
}

/**
 * Multi-head neighbourhood attention on token rows x [n*P, D] (P tokens of each of n frames) -> [n*P, D]: the
 * projections of multi-head attention, each token's keys and values those of its neighbourhood. The output
 * projection starts at zero when `zeroOutput` (a residual block then starts as the identity).
 */
export class NeighbourhoodAttention extends MultiHeadAttention {
  private readonly mask: tf.Tensor; //   [P, M, 1]: 0 where the neighbour exists, -1e9 outside the frame
  private readonly index: tf.Tensor1D; // [P * M]

  constructor(
    rng: Rng,
    width: number,
    heads: number,
    readonly hood: Neighbourhood,
    zeroOutput = true,
  ) {
    super(rng, width, heads, zeroOutput);
    this.index = tf.tensor1d(hood.index, 'int32');
    this.mask = tf.tensor3d(hood.mask, [hood.index.length / hood.M, hood.M, 1]);
  }

  /**
   * Scores are elementwise products over each token's M gathered neighbours. An exported graph takes another
   * form of the same function (onnx.ts: all token pairs by one MatMul, masked to the neighbourhood), which
   * `ops.layer` hands it.
   */
  override apply<T>(ops: Ops<T>, x: T): T {
    return ops.layer(this, [x], () => {
      const { heads: h, width: d, hood } = this;
      const dh = d / h,
        M = hood.M,
        P = hood.rows * hood.cols;
      const index = ops.param(this.index);
      const q = ops.reshape(this.query.apply(ops, x), [-1, P, 1, h, dh]); //                          [n, P, 1, H, dh]
      // [n, P, M, H, dh]
      const k = ops.reshape(gatherNeighbours(ops, this.key.apply(ops, x), index, P, d), [-1, P, M, h, dh]);
      const v = ops.reshape(gatherNeighbours(ops, this.value.apply(ops, x), index, P, d), [-1, P, M, h, dh]);
      // [n, P, M, H]
      const scores = ops.add(ops.mul(ops.sum(ops.mul(q, k), 4), 1 / Math.sqrt(dh)), ops.param(this.mask));
      const weights = ops.transpose(ops.softmax(ops.transpose(scores, [0, 1, 3, 2])), [0, 1, 3, 2]); //   softmax over M
      const out = ops.sum(ops.mul(ops.reshape(weights, [0, 0, M, h, 1]), v), 2); //                      [n, P, H, dh]
      return this.output.apply(ops, ops.reshape(out, [-1, d])); //                                       [n*P, D]
    });
  }
  override dispose(): void {
    super.dispose();
    this.mask.dispose();
    this.index.dispose();
  }
}
