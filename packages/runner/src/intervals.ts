// Means over seeds with their standard error and 95% interval, and paired differences between two rows of a
// table over the seeds both have: what every "± SE [lo, hi]" and every "vs MODEL" cell shows.
//
// With 2-5 seeds a standard error alone reads as more certain than it is: the 95% interval of the mean uses
// Student's t with n - 1 degrees of freedom (t = 12.7 for 2 seeds, 2.78 for 5), so a difference whose interval
// holds 0 is not told apart from none. Pairing by seed removes what the seeds share (the same world, the same
// test windows), which is why the derived gains (on-policy, self-forcing) and --compare pair.
import { meanAndStandardError } from '@worldbench/core';
import jStat from 'jstat';

export interface Interval {
  mean: number;
  se: number;
  n: number;
  /** The 95% interval of the mean (Student's t); null for a single value. */
  lo: number | null;
  hi: number | null;
}

/** Mean, standard error and 95% t-interval of the finite values, or null when there is none. */
export function interval95(values: ReadonlyArray<number | null | undefined>): Interval | null {
  const s = meanAndStandardError(values);
  if (!s) return null;
  if (s.n < 2) return { ...s, lo: null, hi: null };
  const half = jStat.studentt.inv(0.975, s.n - 1) * s.se;
  return { ...s, lo: s.mean - half, hi: s.mean + half };
}

/**
 * The differences a - b for each seed both rows have a value at (the rows' results of one setup, one per seed):
 * the paired differences whose interval says whether a beats b.
 */
export function pairedDifferences<R extends { seed: number }>(
  a: readonly R[],
  b: readonly R[],
  value: (r: R) => number | null | undefined,
): number[] {
  const other = new Map(b.map((r) => [r.seed, value(r)]));
  const out: number[] = [];
  for (const r of a) {
    const x = value(r),
      y = other.get(r.seed);
    if (typeof x === 'number' && Number.isFinite(x) && typeof y === 'number' && Number.isFinite(y)) out.push(x - y);
  }
  return out;
}

const num = (x: number, digits: number) => (Math.abs(x) >= 1e4 ? x.toExponential(1) : x.toFixed(digits));

/** "0.263 ± 0.017 [0.208, 0.318]" (one value: "0.263"), or "n/a". */
export function formatInterval(s: Interval | null, digits = 3, withInterval = true): string {
  if (!s) return 'n/a';
  if (s.n < 2) return num(s.mean, digits);
  const ci = withInterval && s.lo !== null && s.hi !== null ? ` [${num(s.lo, digits)}, ${num(s.hi, digits)}]` : '';
  return `${num(s.mean, digits)} ± ${num(s.se, digits)}${ci}`;
}
