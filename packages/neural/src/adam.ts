// Adam on tf.Variables, with the learning rate given at every step. tf.train.adam fixes its learning
// rate when it is created, so warm-up and cosine decay need an optimiser of our own; it is a few lines.

import { tf } from './backend';

export interface AdamOptions {
  /** Decay of the first-moment average; 0.9 is the standard choice. */
  beta1?: number;
  /** Decay of the second-moment average; 0.999 is standard (0.95 is steadier for small transformers). */
  beta2?: number;
  /** Added to sqrt(v); guards the division for parameters with tiny gradients. */
  epsilon?: number;
  /** Decoupled weight decay (AdamW) per unit of learning rate; 0 turns it off. */
  weightDecay?: number;
}

/** Adam's settings with their defaults and its step count: what Adam and ArrayAdam share. */
abstract class AdamState {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Steps taken so far (for bias correction). */
  t = 0;

  constructor(options: AdamOptions) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
  }

  /**
   * Counts a step and folds its bias corrections into two scalars: lr * mhat / (sqrt(vhat) + eps) == stepSize * m /
   * (sqrt(v) + epsHat), fewer operations per entry.
   */
  protected advance(lr: number): { stepSize: number; epsHat: number } {
    this.t += 1;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    return { stepSize: (lr * Math.sqrt(bc2)) / bc1, epsHat: this.epsilon * Math.sqrt(bc2) };
  }
}

export class Adam extends AdamState {
  private readonly m: tf.Variable[]; // first moments, one per parameter, same shapes
  private readonly v: tf.Variable[]; // second moments

  constructor(
    readonly params: readonly tf.Variable[],
    options: AdamOptions = {},
  ) {
    super(options);
    // tidy frees the zeros the variables were made from (tidy never disposes variables)
    this.m = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
    this.v = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
  }

  /**
   * One update with learning rate `lr`; grads[i] belongs to params[i] (undefined: the parameter did not
   * take part in the loss and is left alone). Call inside tf.tidy.
   */
  step(grads: readonly (tf.Tensor | undefined)[], lr: number): void {
    const { beta1, beta2 } = this;
    const { stepSize, epsHat } = this.advance(lr);
    this.params.forEach((p, i) => {
      const g = grads[i];
      if (!g) return;
      const m = tf.add(tf.mul(this.m[i], beta1), tf.mul(g, 1 - beta1));
      const v = tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
      this.m[i].assign(m);
      this.v[i].assign(v);
      let next = tf.sub(p, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsHat)), stepSize));
      if (this.weightDecay > 0) next = tf.sub(next, tf.mul(p, lr * this.weightDecay));
      p.assign(next);
    });
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

/**
 * Learning rate at `step` (0-based) of `total`: linear warm-up from lr/warmup to lr over `warmup` steps,
 * then cosine decay from lr to minLr at the last step.
 */
export function learningRateAt(step: number, total: number, lr: number, warmup: number, minLr: number): number {
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const span = Math.max(1, total - warmup - 1);
  const progress = Math.min(1, (step - warmup) / span);
  return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
}

/**
 * Adam on plain float32 arrays (weights and gradients held outside tfjs, e.g. by an ONNX Runtime training step):
 * the same update as `Adam`, step for step, computed in double precision and stored as float32.
 */
export class ArrayAdam extends AdamState {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  constructor(
    /** The weights, updated in place. */
    readonly params: readonly Float32Array[],
    options: AdamOptions = {},
  ) {
    super(options);
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
  }

  /** One update with learning rate `lr`; grads[i] belongs to params[i] (undefined: left alone). */
  step(grads: readonly (Float32Array | undefined)[], lr: number): void {
    const { beta1, beta2 } = this;
    const { stepSize, epsHat } = this.advance(lr);
    const decay = lr * this.weightDecay;
    this.params.forEach((p, i) => {
      const g = grads[i];
      if (!g) return;
      if (g.length !== p.length)
        throw new Error(`ArrayAdam: gradient ${i} has ${g.length} entries, weight ${p.length}`);
      adamUpdate(p, g, this.m[i], this.v[i], beta1, beta2, stepSize, epsHat, decay);
    });
  }
}

/**
 * One weight's Adam update in place: a function of its own, monomorphic in its float32 arrays, so V8 compiles one
 * tight loop (the same loop inline in a forEach closure ran several times slower when tried).
 */
function adamUpdate(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  beta1: number,
  beta2: number,
  stepSize: number,
  epsHat: number,
  decay: number,
): void {
  const [c1, c2] = [1 - beta1, 1 - beta2];
  for (let j = 0; j < p.length; j++) {
    const gj = g[j];
    const mj = beta1 * m[j] + c1 * gj;
    const vj = beta2 * v[j] + c2 * gj * gj;
    m[j] = mj;
    v[j] = vj;
    p[j] = p[j] - (stepSize * mj) / (Math.sqrt(vj) + epsHat) - decay * p[j];
  }
}
