// The library of terms an equation is chosen from, evaluated on the screening rows: each term's values as a
// unit-RMS vector, kept only if it can carry a law (finite, not a spike) and is not (nearly) another's multiple.
import { compile, num, variablesOf } from './expression';
import type { Term } from './terms';

export const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Above this |correlation| over the screening rows a term is kept out of the library as another's twin. */
export const NEAR_TWIN = 0.999;

/** Values of a term over the given rows (non-finite anywhere: null). */
export function termValues(t: Term, cols: readonly Float64Array[], rows: Int32Array): Float64Array | null {
  const f = compile(t.expr);
  const c = Float64Array.from(t.constants);
  const vars = variablesOf(t.expr);
  const row = new Float64Array(cols.length);
  const out = new Float64Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    for (const v of vars) row[v] = cols[v][rows[r]];
    const x = f(row, c);
    if (!Number.isFinite(x)) return null;
    out[r] = x;
  }
  return out;
}

/** A term must carry its energy on at least this many rows (and 2% of them). */
const MIN_CARRIERS = 8;

/**
 * Whether a term's values can carry a law: finite, of a sane size, not constant (that is the intercept), and
 * not a spike (max |v| <= 100 RMS, and its energy carried by enough rows: a term that explodes somewhere
 * explains those few rows, not a law).
 */
export function conditioned(v: Float64Array): boolean {
  const n = v.length;
  const rms = Math.sqrt(dot(v, v) / n);
  if (!(rms > 1e-9 && rms < 1e9)) return false;
  const mean = v.reduce((s, x) => s + x, 0) / n;
  let varSum = 0,
    maxAbs = 0;
  for (let i = 0; i < n; i++) {
    varSum += (v[i] - mean) ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(v[i]));
  }
  if (!(varSum / n >= 1e-12 * rms * rms && maxAbs <= 100 * rms)) return false;
  // the rows that carry its energy, (sum v^2)^2 / sum v^4 (all n for a constant, 1 for a spike on one row): a
  // spike near a singularity fits a handful of rows, and explodes wherever a forecast goes nearer
  let v4 = 0;
  for (let i = 0; i < n; i++) v4 += v[i] ** 4;
  return (rms * rms * n) ** 2 / v4 >= Math.max(MIN_CARRIERS, 0.02 * n);
}

/** A library of terms evaluated on the screening rows: unit-RMS vectors, deduplicated up to scale. */
export interface Library {
  terms: Term[];
  /** vectors[t] [n], scaled to unit RMS. */
  vectors: Float64Array[];
  /** The scale each vector was divided by. */
  scales: number[];
  /** Coarse hashes of the vectors -> terms, where a new term's near twin is looked for (twinOf). */
  buckets: Map<string, number[]>;
}

export const emptyLibrary = (): Library => ({ terms: [], vectors: [], scales: [], buckets: new Map() });

/** A coarse hash of a unit vector up to sign: 8 values spread over the rows, rounded to 1/8. */
function coarseHash(unit: Float64Array): string {
  const n = unit.length;
  const lead = unit.findIndex((x) => Math.abs(x) > 1e-3);
  const sign = unit[lead] < 0 ? -1 : 1;
  return Array.from({ length: 8 }, (_, k) => Math.round(sign * unit[Math.floor(((k + 0.5) * n) / 8)] * 8)).join(',');
}

/** The term already in the library that a unit vector nearly equals up to scale (|corr| > NEAR_TWIN), or -1. */
export function twinOf(library: Library, unit: Float64Array): number {
  const n = unit.length;
  return (
    (library.buckets.get(coarseHash(unit)) ?? []).find(
      (j) => Math.abs(dot(library.vectors[j], unit)) > n * NEAR_TWIN,
    ) ?? -1
  );
}

/** Adds a term with its values; returns its index. */
export function addTerm(library: Library, t: Term, values: Float64Array): number {
  const rms = Math.sqrt(dot(values, values) / values.length) || 1;
  const unit = values.map((x) => x / rms);
  const hash = coarseHash(unit);
  library.buckets.set(hash, [...(library.buckets.get(hash) ?? []), library.terms.length]);
  library.terms.push(t);
  library.vectors.push(unit);
  library.scales.push(rms);
  return library.terms.length - 1;
}

/** A copy whose additions (refined terms) do not reach the original. */
export const copyLibrary = (l: Library): Library => ({
  terms: [...l.terms],
  vectors: [...l.vectors],
  scales: [...l.scales],
  buckets: new Map([...l.buckets].map(([k, v]) => [k, [...v]])),
});

/**
 * Evaluates terms (in order) on the rows, keeping those that are conditioned and not (nearly) a multiple of
 * one kept before: terms come simplest first, so the kept twin is the simplest (x stays; x cos(a / 5000) and
 * sin(x / 900) go). Stops after `budget` terms. The constant term 1 comes first.
 */
export function buildLibrary(
  terms: Term[],
  cols: readonly Float64Array[],
  rows: Int32Array,
  budget: number,
): { library: Library; evaluated: number } {
  const library = emptyLibrary();
  addTerm(library, { expr: num(1), constants: [], complexity: 1 }, new Float64Array(rows.length).fill(1));
  let evaluated = 0;
  for (const t of terms) {
    if (evaluated >= budget) break;
    evaluated++;
    const v = termValues(t, cols, rows);
    if (!v || !conditioned(v)) continue;
    const rms = Math.sqrt(dot(v, v) / v.length);
    if (
      twinOf(
        library,
        v.map((x) => x / rms),
      ) >= 0
    )
      continue;
    addTerm(library, t, v);
  }
  return { library, evaluated };
}
