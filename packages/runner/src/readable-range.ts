// The y range of a report's skill plots. Skill is bounded above by 1 but not below: one model at -7.7 used to
// squash every other curve into a flat line near the top. The range spans the values, except those beyond
// Tukey's far-out fences (3 interquartile ranges past the quartiles), which are drawn at the edge and marked
// with their true value; it always holds 0, persistence's skill, the line a reader compares against.

export interface ReadableRange {
  lo: number;
  hi: number;
}

/** The q-quantile (0..1) of sorted values, interpolated linearly. */
function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const i = Math.floor(at);
  return i + 1 < sorted.length ? sorted[i] + (sorted[i + 1] - sorted[i]) * (at - i) : sorted[i];
}

/** The range a plot of these values shows (null when there are none). */
export function readableRange(values: ReadonlyArray<number | null | undefined>): ReadableRange | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (!xs.length) return null;
  const q1 = quantile(xs, 0.25),
    q3 = quantile(xs, 0.75);
  const far = 3 * Math.max(q3 - q1, 0.1); // a floor, so that nearly equal values do not make every other one "far"
  const lo = Math.min(0, Math.max(xs[0], q1 - far));
  const hi = Math.max(0, Math.min(xs[xs.length - 1], q3 + far));
  return { lo, hi: hi > lo ? hi : lo + 1 };
}

/** A value drawn inside the range: where it is drawn, and whether it was moved to the edge. */
export function clip(value: number, range: ReadableRange): { shown: number; clipped: boolean } {
  const shown = Math.min(range.hi, Math.max(range.lo, value));
  return { shown, clipped: shown !== value };
}
