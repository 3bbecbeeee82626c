// Latent diagnostics for explain(): is the representation collapsed (effective rank, per-dimension
// variance), and how well does the probe read it (accuracy on encoded and on predicted latents).
import { tf, tfjsOps as ops } from '@worldbench/neural';
import { inputOf, statesOf, windowBatch, type StateTensors, type TrainingSet } from './batch';
import { probeTargets } from './losses';
import { rollout, type Networks, type Probe } from './model';

/** Eigenvalues of a symmetric matrix [n * n] (cyclic Jacobi), in no particular order. */
export function symmetricEigenvalues(matrix: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(matrix);
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let r = 0; r < n; r++) {
          const arp = a[r * n + p],
            arq = a[r * n + q];
          a[r * n + p] = c * arp - s * arq;
          a[r * n + q] = s * arp + c * arq;
        }
        for (let r = 0; r < n; r++) {
          const apr = a[p * n + r],
            aqr = a[q * n + r];
          a[p * n + r] = c * apr - s * aqr;
          a[q * n + r] = s * apr + c * aqr;
        }
      }
  }
  return Float64Array.from({ length: n }, (_, i) => a[i * n + i]);
}

/**
 * Effective rank of rows x [m, d] (centred over rows): exp of the entropy of the normalised singular values
 * (Roy & Vetterli 2007). 1 for a collapsed (rank-1 or constant) set, d for an isotropic one.
 */
export function effectiveRank(x: Float32Array | Float64Array, m: number, d: number): number {
  if (m < 2) return 0;
  const mean = new Float64Array(d);
  for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / m;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < d; p++) {
      const xp = x[i * d + p] - mean[p];
      for (let q = p; q < d; q++) cov[p * d + q] += xp * (x[i * d + q] - mean[q]);
    }
  for (let p = 0; p < d; p++) for (let q = 0; q < p; q++) cov[p * d + q] = cov[q * d + p];
  const singular = Array.from(symmetricEigenvalues(cov, d), (l) => Math.sqrt(Math.max(0, l)));
  const sum = singular.reduce((a, b) => a + b, 0);
  if (sum <= 1e-12) return 1;
  let entropy = 0;
  for (const s of singular) if (s > 0) entropy -= (s / sum) * Math.log(s / sum);
  return Math.exp(entropy);
}

export interface LatentDiagnostics {
  /** States the diagnostics were computed on (training transitions). */
  states: number;
  /**
   * Effective rank of the online encoder's latents, per token position (mean and min over positions), of `width`
   * dimensions.
   */
  effectiveRank: { mean: number; min: number; width: number };
  /**
   * Variance of each latent dimension across states, pooled over positions: min, median, max, and the share below 0.01.
   */
  dimensionVariance: { min: number; median: number; max: number; shareBelow001: number };
  /**
   * The probe on encoded (target) latents (state readout: of s_t; change readout: s_t -> s_{t+1}), and on
   * one-step predicted latents of s_{t+1}. Real views: mse in the probe's units (standardised state, or change /
   * deltaStd).
   */
  probe: ProbeScore & { predicted: ProbeScore };
  /**
   * Persistence (s_{t+1} = s_t) on the same transitions, in the units of `probe.predicted`: what the predictor has to
   * beat.
   */
  persistence: ProbeScore;
}

/** Categorical: element and step accuracy; real: mse of standardised features. */
export interface ProbeScore {
  accElement?: number;
  accStep?: number;
  mse?: number;
}

/**
 * State tokens the diagnostics read in all: a grid read cell by cell holds 576 tokens a state, and 512 of its
 * transitions took 4 s of tfjs-wasm in every job (life-like at 1024: a tenth of its fit). 56 of them are still 32k
 * cells, each cell's latent ranked over 56 states of 16 dimensions. States of at most 64 tokens keep all 512.
 */
const DIAGNOSTIC_TOKENS = 32768;

/**
 * Diagnostics on up to `limit` training transitions (the first of the set's example order), fewer for states of many
 * tokens (DIAGNOSTIC_TOKENS).
 */
export function latentDiagnostics(nets: Networks, set: TrainingSet, limit = 512): LatentDiagnostics {
  const tokens = Math.max(1, set.tokens);
  const n = Math.min(limit, Math.max(2, Math.floor(DIAGNOSTIC_TOKENS / tokens)), set.startEpisode.length);
  const examples = Int32Array.from({ length: n }, (_, i) => Math.floor((i * set.startEpisode.length) / n));
  let result: LatentDiagnostics | null = null;
  tf.tidy(() => {
    const batch = windowBatch(set, examples, 1);
    const s0 = statesOf(batch.states, 0, 1, 2),
      s1 = statesOf(batch.states, 1, 1, 2);
    const [N0] = s0.tokenMask.shape.slice(1);
    const chunk = Math.max(1, Math.floor(CHUNK_TOKENS / N0));
    const at = (a: number, b: number) => (t: tf.Tensor) => tf.slice(t, a, b - a); //  rows [a, b)
    const statesRows = (st: StateTensors, a: number, b: number) => mapStates(st, at(a, b));
    // [n, N, D]
    const z = byChunks(n, chunk, (a, b) => nets.online.apply(ops, inputOf(statesRows(s0, a, b)))) as tf.Tensor3D;
    const [, N, D] = z.shape;
    const zData = z.dataSync();
    const mask = s0.tokenMask.dataSync();
    const ranks: number[] = [];
    const variances: number[] = [];
    for (let t = 0; t < N; t++) {
      const rows: number[] = [];
      for (let i = 0; i < n; i++) if (mask[i * N + t] > 0.5) rows.push(i);
      if (rows.length < 2) continue;
      const x = new Float64Array(rows.length * D);
      rows.forEach((i, r) => x.set(zData.subarray((i * N + t) * D, (i * N + t + 1) * D), r * D));
      ranks.push(effectiveRank(x, rows.length, D));
      for (let d = 0; d < D; d++) {
        let s = 0,
          q = 0;
        for (let r = 0; r < rows.length; r++) {
          s += x[r * D + d];
          q += x[r * D + d] ** 2;
        }
        variances.push(q / rows.length - (s / rows.length) ** 2);
      }
    }
    variances.sort((a, b) => a - b);
    const predicted = byChunks(n, chunk, (a, b) => {
      const rows = at(a, b);
      const ids = s0.ids ? rows(s0.ids) : null;
      const context = batch.context ? rows(batch.context) : null;
      return rollout(ops, nets, rows(z), ids, context, batch.actions?.map(rows) ?? null, rows(s0.tokenMask), 1)[0];
    });
    const insideAll = batch.inside.dataSync() as Float32Array;
    const inside = Float32Array.from({ length: n }, (_, i) => insideAll[i * 2 + 1]);
    const change = nets.probe.change;
    // encoded: the target latents of s_t (state readout) or of s_t -> s_{t+1} (change readout)
    const target0 = byChunks(n, chunk, (a, b) => nets.target.apply(ops, inputOf(statesRows(s0, a, b))));
    const probe = nets.probe;
    const encoded = change
      ? probeScore(
          probe,
          byChunks(n, chunk, (a, b) =>
            probe.apply(ops, nets.target.apply(ops, inputOf(statesRows(s1, a, b))), at(a, b)(target0)),
          ),
          probeTargets(ops, s0, s1, batch.changeRatio) as tf.Tensor3D,
          s1,
          inside,
        )
      : probeScore(
          probe,
          byChunks(n, chunk, (a, b) => probe.apply(ops, at(a, b)(target0))),
          probeTargets(ops, s0, s0, null) as tf.Tensor3D,
          s0,
          null,
        );
    const next = probeTargets(ops, s0, s1, batch.changeRatio) as tf.Tensor3D;
    const predictedOut = byChunks(n, chunk, (a, b) =>
      probe.apply(ops, at(a, b)(predicted), change ? at(a, b)(z) : undefined),
    );
    const onestep = probeScore(probe, predictedOut, next, s1, inside);
    // persistence as probe output: the class of s_t (categorical), no change ('change'), or s_t ('state')
    const same = s0.labels
      ? tf.oneHot(s0.labels, predictedOut.shape[3] as number)
      : change
        ? tf.zerosLike(next)
        : (s0.targets as tf.Tensor3D);
    const persistence = probeScore(probe, same, next, s1, inside);
    result = {
      states: n,
      effectiveRank: { mean: mean(ranks), min: Math.min(...ranks), width: D },
      dimensionVariance: {
        min: variances[0] ?? 0,
        median: variances[Math.floor(variances.length / 2)] ?? 0,
        max: variances[variances.length - 1] ?? 0,
        shareBelow001: variances.filter((v) => v < 0.01).length / Math.max(1, variances.length),
      },
      probe: { ...encoded, predicted: onestep },
      persistence,
    };
  });
  return result as unknown as LatentDiagnostics;
}

/**
 * State tokens the networks read at once here: the diagnostics' 512 transitions of a 24 x 24 grid read cell by cell
 * in one pass grew tfjs-wasm's heap to its 4 GB limit (and aborted where the heap had not grown before).
 */
const CHUNK_TOKENS = 16384;

/** f on rows [a, b) of n, `size` rows at a time (each in its own tidy), concatenated along the first axis. */
function byChunks(n: number, size: number, f: (a: number, b: number) => tf.Tensor): tf.Tensor {
  const parts: tf.Tensor[] = [];
  for (let a = 0; a < n; a += size) parts.push(tf.tidy(() => f(a, Math.min(n, a + size))));
  if (parts.length === 1) return parts[0];
  const out = tf.concat(parts, 0);
  tf.dispose(parts);
  return out;
}

function mapStates(s: StateTensors, f: (t: tf.Tensor) => tf.Tensor): StateTensors {
  const g = <T extends tf.Tensor>(t: T | undefined) => (t ? (f(t) as T) : undefined);
  return {
    ids: g(s.ids),
    x: g(s.x),
    targets: g(s.targets),
    tokenMask: f(s.tokenMask) as tf.Tensor2D,
    weights: f(s.weights) as tf.Tensor3D,
    labels: g(s.labels),
  };
}

/** The probe's output against its targets on `states` rows (weights), skipping rows outside their episode. */
function probeScore(
  probe: Probe,
  output: tf.Tensor,
  targets: tf.Tensor3D,
  states: StateTensors,
  inside: Float32Array | null,
): ProbeScore {
  const weights = states.weights.dataSync();
  const n = targets.shape[0];
  const per = weights.length / n;
  const t = targets.dataSync();
  if (states.labels) {
    const decoded = probe.read(ops, output).dataSync(); //                              [n, N, S]
    let right = 0,
      total = 0,
      stepsRight = 0,
      steps = 0;
    for (let i = 0; i < n; i++) {
      if (inside && inside[i] < 0.5) continue;
      let all = true;
      for (let j = i * per; j < (i + 1) * per; j++) {
        if (weights[j] < 0.5) continue;
        total++;
        if (decoded[j] === t[j]) right++;
        else all = false;
      }
      steps++;
      if (all) stepsRight++;
    }
    return { accElement: right / Math.max(1, total), accStep: stepsRight / Math.max(1, steps) };
  }
  const y = output.dataSync();
  let sq = 0,
    total = 0;
  for (let i = 0; i < n; i++) {
    if (inside && inside[i] < 0.5) continue;
    for (let j = i * per; j < (i + 1) * per; j++) {
      if (weights[j] < 0.5) continue;
      sq += (y[j] - t[j]) ** 2;
      total++;
    }
  }
  return { mse: sq / Math.max(1, total) };
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}
