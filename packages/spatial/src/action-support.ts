// What the dynamics' action encoder may read of a real-valued action: only what the training actions showed.
// A narrow expert's data spans part of the action space (hidden-laws' expert only ever pushes (1, 0) or
// nothing), and a linear action encoder learns nothing along the rest: the weights of a direction the actions
// never varied along get no gradient and keep their random initial values, so at test a push along it adds an
// untrained vector to every token, and the better trained the trunk, the further that throws the forecast
// (skill at h = 1 fell from -0.07 at budget 256 to -1.90 at 1024 on hidden-laws frames, seed 0, while the same
// models with every action zeroed scored 0.35 and 0.54; docs/experiments/2026-12-06-spatial-hidden-laws-frames.md).
// So an action is read in action units with its part along the directions the training actions never varied
// removed (projected onto their principal axes of non-zero variance, through their mean), and with `clip` (the
// default) its coordinate along each kept axis held to the range the training actions covered: read as given, a
// push beyond it is as untrained (hidden-laws' expert pushes x in [0, 1]; a push toward -x threw the forecast
// off). When the training actions vary in every direction and reach every test action, it is read as given.

import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

export interface ActionSupport {
  /** [A] mean of the training actions. */
  mean: number[];
  /** k unit principal axes [k][A] along which the training actions varied, largest variance first (k <= A). */
  axes: number[][];
  /** The A - k unit axes along which they did not vary. */
  flatAxes: number[][];
  /** [k] std of the training actions along each kept axis, in action units. */
  std: number[];
  /** [k] lowest and highest coordinate of a training action along each kept axis (from the mean, action units). */
  low: number[];
  high: number[];
}

/**
 * An axis whose std is below this share of the largest axis' std, or below its square times the largest action
 * magnitude, counts as no variance (rounding, not data).
 */
const FLAT = 1e-4;

/** The principal axes, stds and ranges of n training actions [n * A]. */
export function fitActionSupport(actions: Float32Array, n: number, A: number): ActionSupport {
  const mean = new Array<number>(A).fill(0);
  for (let i = 0; i < n; i++) for (let a = 0; a < A; a++) mean[a] += actions[i * A + a] / n;
  const cov = Matrix.zeros(A, A);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < A; a++)
      for (let b = 0; b < A; b++)
        cov.set(a, b, cov.get(a, b) + ((actions[i * A + a] - mean[a]) * (actions[i * A + b] - mean[b])) / n);
  const eig = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const order = eig.realEigenvalues
    .map((variance, j) => ({ std: Math.sqrt(Math.max(0, variance)), axis: eig.eigenvectorMatrix.getColumn(j) }))
    .sort((x, y) => y.std - x.std);
  let magnitude = 0;
  for (let i = 0; i < n * A; i++) magnitude = Math.max(magnitude, Math.abs(actions[i]));
  const flat = Math.max(FLAT * (order[0]?.std ?? 0), FLAT * FLAT * magnitude);
  const varies = (o: { std: number }) => magnitude > 0 && o.std > flat;
  const kept = order.filter(varies);
  const axes = kept.map((o) => o.axis);
  const low = new Array<number>(axes.length).fill(Infinity),
    high = new Array<number>(axes.length).fill(-Infinity);
  for (let i = 0; i < n; i++)
    axes.forEach((axis, k) => {
      const z = coordinate(actions, i * A, mean, axis);
      low[k] = Math.min(low[k], z);
      high[k] = Math.max(high[k], z);
    });
  return {
    mean,
    axes,
    flatAxes: order.filter((o) => !varies(o)).map((o) => o.axis),
    std: kept.map((o) => o.std),
    low,
    high,
  };
}

function coordinate(actions: ArrayLike<number>, at: number, mean: number[], axis: number[]): number {
  let z = 0;
  for (let a = 0; a < axis.length; a++) z += (actions[at + a] - mean[a]) * axis[a];
  return z;
}

/**
 * n actions [n * A] -> the same actions on the support [n * A] (action units): the part along the flat axes
 * removed and, with `clip`, the coordinate along each kept axis held to the training range. Returns how many
 * actions lay outside the support (off it, or with `clip` beyond its range) by more than a thousandth of the
 * training actions' largest std.
 */
export function onSupport(
  s: ActionSupport,
  actions: ArrayLike<number>,
  n: number,
  clip: boolean,
  out: Float32Array,
): number {
  const A = s.mean.length;
  const tol = 1e-3 * Math.max(s.std[0] ?? 0, 1e-3);
  let outside = 0;
  const moved = new Float64Array(A);
  for (let i = 0; i < n; i++) {
    moved.fill(0);
    let off = 0;
    for (const axis of s.flatAxes) {
      const z = coordinate(actions, i * A, s.mean, axis);
      off = Math.max(off, Math.abs(z));
      for (let a = 0; a < A; a++) moved[a] -= z * axis[a];
    }
    if (clip)
      s.axes.forEach((axis, k) => {
        const z = coordinate(actions, i * A, s.mean, axis);
        const held = Math.min(s.high[k], Math.max(s.low[k], z));
        off = Math.max(off, Math.abs(held - z));
        for (let a = 0; a < A; a++) moved[a] += (held - z) * axis[a];
      });
    for (let a = 0; a < A; a++) out[i * A + a] = actions[i * A + a] + moved[a];
    if (off > tol) outside++;
  }
  return outside;
}
