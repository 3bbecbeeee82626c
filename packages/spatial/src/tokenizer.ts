// The optional discrete tokenizer (tokenizer = 'vq', Genie's video tokenizer made light): each core patch of a
// frame goes through a dense encoder, is quantised to one of `tokenCodes` codes (vq.ts: cosine codes,
// straight-through gradients, dead-code restarts) and a dense decoder maps the code back to the patch's
// pixels. Trained as an autoencoder on the training frames, before the dynamics, which then predicts token ids.
// Since the decoder reads only the code, it is a table: decodedTable() gives the patch of every code, and
// a forecast is a gather from it (as in the ONNX graph).

import type { Rng } from '@worldbench/core';
import { Mlp, Module, type Ops, tf, tfjsOps } from '@worldbench/neural';
import { rowsOf } from '@worldbench/onnx';
import { type Stage, type StageResult, type StageValues, trainStage } from './stage';
import { DeadCodeRestarts, VectorQuantizer, l2Normalise } from './vq';

export interface TokenizerShape {
  /** Values per core patch. */
  pp: number;
  /** Hidden width of the encoder and decoder. */
  width: number;
  /** Codebook size K. */
  codes: number;
  /** Code width. */
  dim: number;
  /** VQ commitment weight. */
  commitment: number;
}

export class PatchTokenizer extends Module {
  readonly encoder: Mlp;
  readonly quantizer: VectorQuantizer;
  readonly decoder: Mlp;

  constructor(
    rng: Rng,
    readonly shape: TokenizerShape,
  ) {
    super();
    this.encoder = new Mlp(rng, [shape.pp, shape.width, shape.dim]);
    this.quantizer = new VectorQuantizer(rng, shape.codes, shape.dim, shape.commitment);
    this.decoder = new Mlp(rng, [shape.dim, shape.width, shape.pp]);
  }

  /** Token id of each patch: core patches [N, pp] -> Int32Array [N]. */
  ids(patches: tf.Tensor2D, chunk = 4096): Int32Array {
    const n = patches.shape[0];
    const out = new Int32Array(n);
    for (let start = 0; start < n; start += chunk) {
      const z = tf.tidy(
        () =>
          this.encoder.apply(
            tfjsOps,
            tf.slice(patches, [start, 0], [Math.min(chunk, n - start), this.shape.pp]),
          ) as tf.Tensor2D,
      );
      out.set(this.quantizer.nearest(z), start);
      z.dispose();
    }
    return out;
  }

  /** The decoded patch of every code, clipped into [0, 1]: [K, pp]. */
  decodedTable(): tf.Tensor2D {
    return tf.tidy(
      () =>
        tf.clipByValue(
          this.decoder.apply(tfjsOps, l2Normalise<tf.Tensor>(tfjsOps, this.quantizer.codebook)),
          0,
          1,
        ) as tf.Tensor2D,
    );
  }

  parts() {
    return { encoder: this.encoder, quantizer: this.quantizer, decoder: this.decoder };
  }
}

export interface TokenizerTraining {
  result: StageResult;
  /** Dead codes restarted on the encoder outputs of badly reconstructed patches. */
  restarts: number;
}

/**
 * Stage 0 ('vq'): the tokenizer as an autoencoder of every core patch of `frames` [b, P, pp]; loss the mean over
 * patches of each patch's mean squared error plus the VQ loss.
 */
export function tokenizerLoss<T>(ops: Ops<T>, tokenizer: PatchTokenizer, i: Record<string, T>): StageValues<T> {
  const x = ops.reshape(i.frames, [-1, tokenizer.shape.pp]); //                                   [b*P, pp]
  const q = tokenizer.quantizer.quantise(ops, tokenizer.encoder.apply(ops, x));
  const d = ops.sub(tokenizer.decoder.apply(ops, q.st), x);
  const perPatch = ops.mean(ops.mul(d, d), 1); //                                                 [b*P]
  return {
    loss: ops.add(ops.mean(perPatch, 0), q.loss),
    restart: { codes: q.codes, errors: perPatch, normalised: q.normalised },
  };
}

/** Stage 0's loss and data: every core patch of a step's frames [b, P, pp] (rows of `cores` [F * P * pp]). */
export function tokenizerStage(tokenizer: PatchTokenizer, cores: Float32Array, P: number): Stage {
  const { pp } = tokenizer.shape;
  return {
    params: tokenizer.params(),
    modules: { tokenizer },
    inputs: [{ name: 'frames', shape: ['batch', P, pp] }],
    data: (batch) => ({ frames: rowsOf(cores, [P, pp], batch) }),
    forward: (ops, i) => tokenizerLoss(ops, tokenizer, i),
  };
}

/**
 * Trains the tokenizer as an autoencoder on frames `cores` [F, P, pp]: each step reconstructs every patch of
 * `batchSize` frames (MSE + the VQ loss). Every 25 steps, codes no patch used are restarted on the encoder
 * outputs of the worst-reconstructed patches (during the first 3/4 of the steps, so the codebook settles).
 */
export async function trainTokenizer(
  tokenizer: PatchTokenizer,
  cores: tf.Tensor3D,
  batchSize: number,
  lr: number,
  steps: number,
  rng: Rng,
  signal?: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TokenizerTraining> {
  const [F, P] = cores.shape;
  const book = new DeadCodeRestarts(tokenizer.quantizer, rng.fork('restart'), steps);
  const schedule = {
    n: F,
    batchSize,
    steps,
    lr,
    warmup: Math.min(50, Math.floor(steps / 5)),
    rng: rng.fork('batches'),
    evalEvery: 25, // restarts every 25 steps
    signal,
  };
  const stage = tokenizerStage(tokenizer, cores.dataSync() as Float32Array, P);
  const result = await trainStage(stage, schedule, env, {
    book,
    codebook: tokenizer.quantizer.codebook,
    worst: (rows) => Math.floor(rows / 16),
  });
  return { result, restarts: book.restarts };
}

/**
 * Mean squared error per pixel of the tokenizer's reconstruction (decoded table at each patch's id) of frames `cores`
 * [F, P, pp].
 */
export function reconstructionError(tokenizer: PatchTokenizer, cores: tf.Tensor3D, ids: Int32Array): number {
  const mse = tf.tidy(() => {
    const table = tokenizer.decodedTable();
    const decoded = tf.gather(table, tf.tensor1d(ids, 'int32')); // [F*P, pp]
    return tf.mean(tf.square(tf.sub(decoded, tf.reshape(cores, [-1, tokenizer.shape.pp]))));
  });
  const v = mse.dataSync()[0];
  mse.dispose();
  return v;
}
