// Vector quantisation with straight-through gradients (VQ-VAE, van den Oord et al. 2017), in the cosine form
// of ViT-VQGAN (Yu et al. 2022): encoder outputs and codes are l2-normalised and matched by cosine
// similarity, which keeps a small codebook in use far better than raw Euclidean codes. Codes unused for a
// while are restarted on recent encoder outputs (drawn from a seeded Rng), as in Jukebox / SoundStream.
// Training machinery (straight-through gradients, restarts): tfjs only, never exported.

import type { Rng } from '@worldbench/core';
import { Module, normalVariable, stopGradient, takeRows, tf } from '@worldbench/neural';

/** x / |x| over the last axis. */
export function l2Normalise<T extends tf.Tensor>(x: T): T {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), -1, true), 1e-8))) as T;
}

export interface Quantised {
  /** Straight-through codes: forward value the chosen code, gradient passed to the encoder output. [N, dim] */
  st: tf.Tensor2D;
  /** Code index per row. [N] int32 */
  codes: tf.Tensor1D;
  /** Codebook loss + beta * commitment loss (scalar). */
  loss: tf.Scalar;
  /** The normalised encoder outputs. [N, dim] */
  normalised: tf.Tensor2D;
}

export class VectorQuantizer extends Module {
  readonly codebook: tf.Variable; // [L, dim]

  constructor(
    rng: Rng,
    readonly size: number,
    readonly dim: number,
    readonly beta = 0.25,
  ) {
    super();
    this.codebook = normalVariable(rng, [size, dim], 1);
  }

  /** Nearest code (cosine) of each row of z [N, dim]; call inside tf.tidy. */
  quantise(z: tf.Tensor2D): Quantised {
    const zn = l2Normalise(z); //                                            [N, dim]
    const cn = l2Normalise(this.codebook as tf.Tensor2D); //                  [L, dim]
    const similarity = tf.matMul(stopGradient(zn), tf.transpose(stopGradient(cn))); // [N, L]
    const codes = tf.cast(tf.argMax(similarity, 1), 'int32') as tf.Tensor1D; // [N]
    const zq = takeRows<tf.Rank.R2>(cn, codes); //                           [N, dim]
    // codebook loss moves the codes to the encoder outputs; commitment keeps the encoder near its code
    const codebookLoss = tf.mean(tf.square(tf.sub(stopGradient(zn), zq)));
    const commitment = tf.mean(tf.square(tf.sub(zn, stopGradient(zq))));
    const loss = tf.add(codebookLoss, tf.mul(commitment, this.beta)) as tf.Scalar;
    const st = tf.add(zn, stopGradient(tf.sub(zq, zn))) as tf.Tensor2D; // value zq, gradient to zn
    return { st, codes, loss, normalised: zn };
  }

  /** Code indices only (no gradients). z [N, dim] -> Int32Array [N]. */
  nearest(z: tf.Tensor2D): Int32Array {
    const codes = tf.tidy(() => {
      const similarity = tf.matMul(l2Normalise(z), tf.transpose(l2Normalise(this.codebook as tf.Tensor2D)));
      return tf.cast(tf.argMax(similarity, 1), 'int32');
    });
    const out = codes.dataSync() as Int32Array;
    codes.dispose();
    return out;
  }

  /** Codes `dead` are replaced by rows of `candidates` [M, dim] (normalised encoder outputs), drawn by `rng`. */
  restart(dead: readonly number[], candidates: Float32Array, rng: Rng): void {
    if (dead.length === 0) return;
    const m = candidates.length / this.dim;
    if (m < 1) return;
    const values = this.codebook.dataSync().slice() as Float32Array;
    for (const code of dead) {
      const row = rng.int(m);
      for (let d = 0; d < this.dim; d++)
        values[code * this.dim + d] = candidates[row * this.dim + d] + 0.01 * rng.normal();
    }
    tf.tidy(() => this.codebook.assign(tf.tensor2d(values, [this.size, this.dim])));
  }

  parts() {
    return { codebook: this.codebook };
  }
}

/**
 * Dead-code restarts over a training run (Jukebox / SoundStream): each step `record`s the codes it used and keeps
 * the normalised encoder outputs of its worst-reconstructed rows as candidates; at each evaluation `restartDead`
 * moves the codes no row used since the last one onto those candidates, while training is young (the first 3/4 of
 * the steps: the last quarter lets the codebook settle).
 */
export class DeadCodeRestarts {
  private readonly usage: Int32Array;
  private candidates = new Float32Array(0);
  /** Codes restarted so far. */
  restarts = 0;

  constructor(
    private readonly quantizer: VectorQuantizer,
    private readonly rng: Rng,
    private readonly steps: number,
  ) {
    this.usage = new Int32Array(quantizer.size);
  }

  /**
   * A step's quantised rows and each row's reconstruction error `errors` [N]: its `worst` rows become the candidates.
   */
  record(q: Quantised, errors: tf.Tensor1D, worst: number): void {
    for (const c of q.codes.dataSync()) this.usage[c]++;
    const e = errors.dataSync();
    const zn = q.normalised.dataSync();
    const dim = this.quantizer.dim;
    const rows = Array.from(e.keys())
      .sort((a, b) => e[b] - e[a] || a - b)
      .slice(0, Math.max(1, worst));
    this.candidates = new Float32Array(rows.length * dim);
    rows.forEach((row, i) => this.candidates.set(zn.subarray(row * dim, (row + 1) * dim), i * dim));
  }

  /**
   * At an evaluation after `step` steps: restarts the codes unused since the last one (while step < 3/4 of the steps)
   * and starts a new window.
   */
  restartDead(step: number): void {
    if (step < 0.75 * this.steps) {
      const dead = Array.from(this.usage.keys()).filter((c) => this.usage[c] === 0);
      if (dead.length) {
        this.quantizer.restart(dead, this.candidates, this.rng);
        this.restarts += dead.length;
      }
    }
    this.usage.fill(0);
  }
}
