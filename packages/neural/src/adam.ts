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

export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private readonly m: tf.Variable[]; // first moments, one per parameter, same shapes
  private readonly v: tf.Variable[]; // second moments
  /** Steps taken so far (for bias correction). */
  t = 0;

  constructor(
    readonly params: readonly tf.Variable[],
    options: AdamOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    // tidy frees the zeros the variables were made from (tidy never disposes variables)
    this.m = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
    this.v = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
  }

  /**
   * One update with learning rate `lr`; grads[i] belongs to params[i] (undefined: the parameter did not
   * take part in the loss and is left alone). Call inside tf.tidy.
   */
  step(grads: readonly (tf.Tensor | undefined)[], lr: number): void {
    this.t += 1;
    const { beta1, beta2 } = this;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    // lr * mhat / (sqrt(vhat) + eps) == stepSize * m / (sqrt(v) + eps * sqrt(bc2)), fewer tensor ops.
    const stepSize = (lr * Math.sqrt(bc2)) / bc1;
    const epsHat = this.epsilon * Math.sqrt(bc2);
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
