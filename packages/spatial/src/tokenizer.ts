// The optional discrete tokenizer (tokenizer = 'vq', Genie's video tokenizer made light): each core patch of a
// frame goes through a dense encoder, is quantised to one of `tokenCodes` codes (vq.ts: cosine codes,
// straight-through gradients, dead-code restarts) and a dense decoder maps the code back to the patch's
// pixels. Trained as an autoencoder on the training frames, before the dynamics, which then predicts token ids.
// Since the decoder reads only the code, it is a table: decodedTable() gives the patch of every code, and
// a forecast is a gather from it (as in the ONNX graph).

import type { Rng } from '@worldbench/core';
import { Mlp, Module, tf, tfjsOps, train, type TrainResult } from '@worldbench/neural';
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
          this.decoder.apply(tfjsOps, l2Normalise(this.quantizer.codebook as tf.Tensor2D)),
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
  result: TrainResult;
  /** Dead codes restarted on the encoder outputs of badly reconstructed patches. */
  restarts: number;
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
): Promise<TokenizerTraining> {
  const { pp } = tokenizer.shape;
  const [F, P] = cores.shape;
  const restartEvery = 25;
  const restarts = new DeadCodeRestarts(tokenizer.quantizer, rng.fork('restart'), steps);
  const result = await train({
    params: tokenizer.params(),
    n: F,
    batchSize,
    steps,
    lr,
    warmup: Math.min(50, Math.floor(steps / 5)),
    rng: rng.fork('batches'),
    evalEvery: restartEvery,
    signal,
    loss: (batch) => {
      const rows = batch.length * P;
      const x = tf.reshape(tf.gatherND(cores, tf.tensor2d(batch, [batch.length, 1], 'int32')), [
        rows,
        pp,
      ]) as tf.Tensor2D; // [b*P, pp]
      const q = tokenizer.quantizer.quantise(tokenizer.encoder.apply(tfjsOps, x) as tf.Tensor2D);
      //                                [b*P]
      const perPatch = tf.mean(tf.square(tf.sub(tokenizer.decoder.apply(tfjsOps, q.st), x)), 1);
      restarts.record(q, perPatch as tf.Tensor1D, Math.floor(rows / 16));
      return tf.add(tf.mean(perPatch), q.loss) as tf.Scalar;
    },
    onProgress: (record) => restarts.restartDead(record.step),
  });
  return { result, restarts: restarts.restarts };
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
