// Vector quantisation with straight-through gradients (VQ-VAE, van den Oord et al. 2017), in the cosine form
// of ViT-VQGAN (Yu et al. 2022): encoder outputs and codes are l2-normalised and matched by cosine
// similarity, which keeps a small codebook in use far better than raw Euclidean codes. Codes unused for a
// while are restarted on recent encoder outputs (drawn from a seeded Rng), as in Jukebox / SoundStream.
// The quantiser is written once against Ops (tfjs trains it, the ONNX Runtime engine traces it); the restarts
// work on the codebook's values as an array, wherever the training engine holds them. Never exported.

import type { Rng } from '@worldbench/core';
import { Module, normalVariable, tf, tfjsOps, type Ops } from '@worldbench/neural';

/** x / |x| over the last axis of x [N, dim]. */
export function l2Normalise<T>(ops: Ops<T>, x: T): T {
  return ops.div(x, ops.reshape(ops.sqrt(ops.add(ops.sum(ops.mul(x, x), 1), 1e-8)), [-1, 1]));
}

export interface Quantised<T> {
  /** Straight-through codes: forward value the chosen code, gradient passed to the encoder output. [N, dim] */
  st: T;
  /** Code index per row. [N] int32 */
  codes: T;
  /** Codebook loss + beta * commitment loss (scalar). */
  loss: T;
  /** The normalised encoder outputs. [N, dim] */
  normalised: T;
}

/** The mean of x * x over every entry (a scalar). */
function meanSquare<T>(ops: Ops<T>, x: T): T {
  return ops.mean(ops.reshape(ops.mul(x, x), [-1]), 0);
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

  /** Nearest code (cosine) of each row of z [N, dim], with the VQ loss and straight-through output. */
  quantise<T>(ops: Ops<T>, z: T): Quantised<T> {
    const zn = l2Normalise(ops, z); //                                                         [N, dim]
    const cn = l2Normalise(ops, ops.param(this.codebook)); //                                  [L, dim]
    const similarity = ops.matMul(ops.stopGradient(zn), ops.transpose(ops.stopGradient(cn), [1, 0])); // [N, L]
    const codes = ops.cast(ops.argMax(similarity, 1), 'int32'); //                             [N]
    const zq = ops.gather(cn, 0, codes); //                                                    [N, dim]
    // codebook loss moves the codes to the encoder outputs; commitment keeps the encoder near its code
    const codebookLoss = meanSquare(ops, ops.sub(ops.stopGradient(zn), zq));
    const commitment = meanSquare(ops, ops.sub(zn, ops.stopGradient(zq)));
    const loss = ops.add(codebookLoss, ops.mul(commitment, this.beta));
    const st = ops.add(zn, ops.stopGradient(ops.sub(zq, zn))); // value zq, gradient to zn
    return { st, codes, loss, normalised: zn };
  }

  /** Code indices only (no gradients). z [N, dim] -> Int32Array [N]. */
  nearest(z: tf.Tensor2D): Int32Array {
    const codes = tf.tidy(() => {
      const similarity = tf.matMul(
        l2Normalise(tfjsOps, z),
        tf.transpose(l2Normalise<tf.Tensor>(tfjsOps, this.codebook)),
      );
      return tf.cast(tf.argMax(similarity, 1), 'int32');
    });
    const out = codes.dataSync() as Int32Array;
    codes.dispose();
    return out;
  }

  parts() {
    return { codebook: this.codebook };
  }
}

/** Where a run's codebook values [L * dim] live while it trains: a tfjs variable, or an engine's weight array. */
export interface CodebookValues {
  read(): Float32Array;
  /** Stores `values` (those `read` gave, changed). */
  write(values: Float32Array): void;
}

/** The codebook as the quantiser's tfjs variable holds it. */
export function variableCodebook(quantizer: VectorQuantizer): CodebookValues {
  return {
    read: () => quantizer.codebook.dataSync().slice() as Float32Array,
    write: (values) => tf.tidy(() => quantizer.codebook.assign(tf.tensor2d(values, [quantizer.size, quantizer.dim]))),
  };
}

/**
 * Dead-code restarts over a training run (Jukebox / SoundStream): each step `record`s the codes it used and keeps
 * the normalised encoder outputs of its worst-reconstructed rows as candidates; at each evaluation `restartDead`
 * moves the codes no row used since the last one onto those candidates (plus 0.01-scale noise), while training is
 * young (the first 3/4 of the steps: the last quarter lets the codebook settle).
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
    /** Where the codebook is trained (default: the quantiser's variable, as tfjs trains it). */
    public codebook: CodebookValues = variableCodebook(quantizer),
  ) {
    this.usage = new Int32Array(quantizer.size);
  }

  /**
   * A step's code of each row `codes` [N], its reconstruction error `errors` [N] and normalised encoder output
   * `normalised` [N * dim]: its `worst` rows become the candidates.
   */
  record(codes: ArrayLike<number>, errors: ArrayLike<number>, normalised: ArrayLike<number>, worst: number): void {
    for (let i = 0; i < codes.length; i++) this.usage[codes[i]]++;
    const dim = this.quantizer.dim;
    const rows = Array.from({ length: errors.length }, (_, i) => i)
      .sort((a, b) => errors[b] - errors[a] || a - b)
      .slice(0, Math.max(1, worst));
    this.candidates = new Float32Array(rows.length * dim);
    rows.forEach((row, i) => {
      for (let d = 0; d < dim; d++) this.candidates[i * dim + d] = normalised[row * dim + d];
    });
  }

  /**
   * At an evaluation after `step` steps: restarts the codes unused since the last one (while step < 3/4 of the steps)
   * and starts a new window.
   */
  restartDead(step: number): void {
    if (step < 0.75 * this.steps) {
      const dead = Array.from(this.usage.keys()).filter((c) => this.usage[c] === 0);
      const m = this.candidates.length / this.quantizer.dim;
      if (dead.length && m >= 1) {
        const values = this.codebook.read();
        const dim = this.quantizer.dim;
        for (const code of dead) {
          const row = this.rng.int(m);
          for (let d = 0; d < dim; d++)
            values[code * dim + d] = this.candidates[row * dim + d] + 0.01 * this.rng.normal();
        }
        this.codebook.write(values);
        this.restarts += dead.length;
      }
    }
    this.usage.fill(0);
  }
}
