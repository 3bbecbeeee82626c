// Where a job's training data lies in state space: a coarse histogram over the plane its scenario declares
// (spec.statePlane, e.g. a bob's position and velocity), recorded in the job's results line and drawn by the report
// per protocol. It shows what data a protocol produced, and so what an on-policy model chose to see.
import { block, forEachTransition, type Episodes, type ScenarioSpec } from '@worldbench/core';

/** Bins per axis: coarse enough that a few hundred transitions show a shape, and a line stays small (576 counts). */
export const STATE_PLANE_BINS = 24;

/** One axis of a recorded histogram: the plane's label and the range its bins divide. */
export interface StatePlaneHistogramAxis {
  label: string;
  lo: number;
  hi: number;
}

/** The histogram of one job's training data on its scenario's state plane. */
export interface StatePlaneHistogram {
  view: string;
  x: StatePlaneHistogramAxis;
  y: StatePlaneHistogramAxis;
  bins: number;
  /** [bins * bins], row-major over y then x: counts[iy * bins + ix]; bin 0 at lo, the last bin holds hi. */
  counts: number[];
  /** Points outside the ranges (counted, not drawn). */
  outside: number;
}

/** The bin of `value` in [lo, hi] split into `bins`, or -1 outside. */
function binOf(value: number, lo: number, hi: number, bins: number): number {
  if (!(value >= lo && value <= hi)) return -1;
  return Math.min(bins - 1, Math.floor(((value - lo) / (hi - lo)) * bins));
}

/**
 * The histogram of the training data's states on the scenario's plane, or null when it declares none. Each transition
 * counts once, at the state it starts from (so one-row views sum to the number of transitions); every row of the
 * plane's view is a point, rows its mask marks as padding are left out. Give the clean episodes: the true states,
 * not what the model saw through observation noise.
 */
export function statePlaneHistogram(spec: ScenarioSpec, data: Episodes): StatePlaneHistogram | null {
  const plane = spec.statePlane;
  if (!plane) return null;
  const view = data.views[plane.view];
  if (!view) throw new Error(`statePlane: the training data has no view "${plane.view}"`);
  const shape = spec.views[plane.view].shape;
  const width = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const maskName = spec.views[plane.view].mask;
  const mask = maskName ? data.views[maskName] : null;
  const bins = STATE_PLANE_BINS;
  const counts = new Array<number>(bins * bins).fill(0);
  let outside = 0;
  const [xlo, xhi] = plane.x.range;
  const [ylo, yhi] = plane.y.range;
  forEachTransition(data, (e, t) => {
    const values = block(view, e, t); // [rows * width]
    // a mask's shape is a prefix of the view's: row r's entry is at r * (mask size / rows), rounded down
    const real = mask ? block(mask, e, t) : null;
    for (let r = 0; r < rows; r++) {
      if (real && real[Math.floor((r * real.length) / rows)] === 0) continue;
      const ix = binOf(values[r * width + plane.x.index], xlo, xhi, bins);
      const iy = binOf(values[r * width + plane.y.index], ylo, yhi, bins);
      if (ix < 0 || iy < 0) outside++;
      else counts[iy * bins + ix]++;
    }
  });
  return {
    view: plane.view,
    x: { label: plane.x.label, lo: xlo, hi: xhi },
    y: { label: plane.y.label, lo: ylo, hi: yhi },
    bins,
    counts,
    outside,
  };
}
