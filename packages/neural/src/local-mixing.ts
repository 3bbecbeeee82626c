// Weight-shared local mixing: the locality prior of a convolution for tokens that sit on a grid (or any fixed
// neighbourhood), written from a gather and a matMul so that every runtime of the Ops interface runs it.
import type { Rng } from '@worldbench/core';
import { Dense } from './layers';
import { Module } from './module';
import type { Ops } from './ops';

/**
 * Each token reads its K neighbours, a fixed table (itself included; a 3 x 3 grid neighbourhood has K = 9), through
 * one Dense shared by every token: x [B, N, D] -> gather [B, N, K, D] -> [B, N, K * D] -> Dense -> [B, N, D]. On a
 * grid this is a 3 x 3 convolution (stacked, the receptive field grows by one cell per layer); the table decides
 * the edges (e.g. wrapped, with the crossing told to the network as an input, so that it can learn either a
 * torus or a wall). It takes the place of attention in a TransformerBlock: cost linear in N, not quadratic.
 */
export class LocalMixing extends Module {
  readonly mix: Dense; // [K * D, D]

  /** `neighbours` [N * K]: token n's k-th neighbour at [n * K + k], each in [0, N). */
  constructor(
    rng: Rng,
    readonly width: number,
    readonly neighbours: Int32Array,
    readonly k: number,
  ) {
    super();
    if (neighbours.length % k !== 0)
      throw new Error(`LocalMixing: ${neighbours.length} neighbour entries are not a multiple of K = ${k}`);
    const n = neighbours.length / k;
    const bad = neighbours.findIndex((i) => !Number.isInteger(i) || i < 0 || i >= n);
    if (bad >= 0) throw new Error(`LocalMixing: neighbour entry ${bad} is ${neighbours[bad]}, outside [0, ${n})`);
    this.mix = new Dense(rng, k * width, width);
  }

  /** x [B, N, D] -> [B, N, D] (the key mask of attention does not apply: every neighbour is read). */
  apply<T>(ops: Ops<T>, x: T): T {
    const n = this.neighbours.length / this.k;
    const gathered = ops.gather(x, 1, ops.constant(this.neighbours, [n, this.k])); //    [B, N, K, D]
    return this.mix.apply(ops, ops.reshape(gathered, [0, 0, this.k * this.width])); //  [B, N, D]
  }

  parts() {
    return { mix: this.mix };
  }
}
