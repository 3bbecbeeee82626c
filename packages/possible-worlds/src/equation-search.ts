// Equation discovery: for each component whose change a law must explain, the sum of a few terms (terms.ts)
// that best explains its rate of change, by evidence. (SINDy's sparse regression over a library, with the
// library enumerated from a grammar as in PySR/SymbolicRegression.jl, and a beam over term sets.)
//
// Targets. The law is a flow integrated over each step (discovered-law.ts), so what is regressed is the
// component's rate over the step, (x' - x) / dt, on the variables at the step's midpoint ((x + x') / 2, and the
// action): a second-order estimate of the derivative (exact for a constant acceleration), and its noise is
// uncorrelated with the midpoint's.
// Selection. Per component, a beam of term sets grown one term at a time: every term is screened by how much
// of the current residual it explains, the best few are scored exactly (BIC of the better of two least-squares
// fits, every coefficient shared by all episodes or every coefficient per episode, plus the terms' prior:
// uniform over complexity levels, then over the terms of a level, so that a term chosen among many pays for
// the choice), and the best sets are kept. Then the chosen terms are mutated (another
// operator, power or atom; a factor more) beyond the enumeration's complexity, kept where the score rises.
// Shared or per episode. Each coefficient of a chosen set is shared by every episode or drawn per episode, as
// the data decide (mixed-regression.ts).
import { binary, compile, keyOf, num, substitute, unary, variable, variablesOf, type Expr } from './expression';
import type { Kinematics } from './kinematics';
import { atomsOf, enumerateTerms, POWERS, type Term, type Variables } from './terms';
import { levenbergMarquardt } from './lm';
import { fitMixed, invertSmall } from './mixed-regression';
import type { TransitionData } from './transitions';

/** Term sets of the beam whose constants are refined, and of those the best few that are mutated. */
const REFINED_SETS = 8;
const MUTATED_SETS = 2;

export interface SearchOptions {
  /** Terms scored at most, over the whole search (the config's searchEffort). */
  effort: number;
  /** Terms per component at most. */
  maxTerms?: number;
  /** Term sets kept per size. */
  beamWidth?: number;
  /** Rows the library is evaluated on (evenly spread over the data). */
  screenRows?: number;
  /** Complexity of the enumerated terms at most. */
  maxComplexity?: number;
}

/** One term of a found equation, its coefficient estimate and whether the coefficient varies per episode. */
export interface FoundTerm {
  term: Term;
  /** The term's log prior (the search's). */
  prior: number;
  coef: number;
  /** Spread of the per-episode estimates beyond their noise (0 for a shared coefficient). */
  spread: number;
  perEpisode: boolean;
}

/** The rate of one component as found: rate_d = sum_j coef_j term_j. */
export interface FoundEquation {
  dim: number;
  terms: FoundTerm[];
  /** Screening log evidence + log prior (comparable between equations of the same component only). */
  score: number;
  /** The log prior of its terms (the search's, part of `score`). */
  prior: number;
  /** BIC of its mixed fit (each coefficient shared or per episode) on all of the component's rows. */
  bic: number;
}

/** A component's data as the search saw it: its valid rows, its rate over each, and each row's episode. */
export interface ComponentData {
  rows: Int32Array;
  rate: Float64Array;
  episode: Int32Array;
}

export interface EquationSearchResult {
  /** Per dynamic component, its equations, best first (the first few of the beam). */
  equations: Map<number, FoundEquation[]>;
  /** Per dynamic component, its rows and targets (to score law forms that tie components together). */
  components: Map<number, ComponentData>;
  /** The variables at the steps' midpoints (midpointColumns). */
  columns: Float64Array[];
  /** Variables that never vary in the data (actions the data is silent about). */
  silent: number[];
  /** Terms scored (library evaluations plus mutants). */
  scored: number;
}

/** The variables at each step's midpoint (state) and the step's action, column by column [D + A][n]. */
export function midpointColumns(data: TransitionData): Float64Array[] {
  const { D, A, n } = data;
  const cols = Array.from({ length: D + A }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < D; d++) cols[d][i] = 0.5 * (data.cur[i * D + d] + data.next[i * D + d]);
    for (let j = 0; j < A; j++) cols[D + j][i] = data.action[i * A + j];
  }
  return cols;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Evenly spread indices into `rows`, at most `count`. */
/**
 * The screening rows: whole episodes, evenly spread over the data, until about `count` rows (every episode
 * keeps all its rows, so that per-episode coefficients stay well determined however large the budget).
 */
function screeningRows(rows: Int32Array, episode: Int32Array, count: number): Int32Array {
  if (rows.length <= count) return rows;
  const byEpisode = new Map<number, number[]>();
  for (const i of rows) byEpisode.set(episode[i], [...(byEpisode.get(episode[i]) ?? []), i]);
  const episodes = [...byEpisode.values()];
  const perEpisode = rows.length / episodes.length;
  const take = Math.max(2, Math.min(episodes.length, Math.round(count / perEpisode)));
  return Int32Array.from(Array.from({ length: take }, (_, k) => episodes[Math.floor((k * episodes.length) / take)]).flat());
}

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
function conditioned(v: Float64Array): boolean {
  const n = v.length;
  const rms = Math.sqrt(dot(v, v) / n);
  if (!(rms > 1e-9 && rms < 1e9)) return false;
  const mean = v.reduce((s, x) => s + x, 0) / n;
  let varSum = 0, maxAbs = 0;
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
interface Library {
  terms: Term[];
  /** vectors[t] [n], scaled to unit RMS. */
  vectors: Float64Array[];
  /** The scale each vector was divided by. */
  scales: number[];
  /** Coarse hashes of the vectors -> terms, where a new term's near twin is looked for (twinOf). */
  buckets: Map<string, number[]>;
}

const emptyLibrary = (): Library => ({ terms: [], vectors: [], scales: [], buckets: new Map() });

/** A coarse hash of a unit vector up to sign: 8 values spread over the rows, rounded to 1/8. */
function coarseHash(unit: Float64Array): string {
  const n = unit.length;
  const lead = unit.findIndex((x) => Math.abs(x) > 1e-3);
  const sign = unit[lead] < 0 ? -1 : 1;
  return Array.from({ length: 8 }, (_, k) => Math.round(sign * unit[Math.floor(((k + 0.5) * n) / 8)] * 8)).join(',');
}

/** The term already in the library that a unit vector nearly equals up to scale (|corr| > NEAR_TWIN), or -1. */
function twinOf(library: Library, unit: Float64Array): number {
  const n = unit.length;
  return (library.buckets.get(coarseHash(unit)) ?? []).find((j) => Math.abs(dot(library.vectors[j], unit)) > n * NEAR_TWIN) ?? -1;
}

/** Adds a term with its values; returns its index. */
function addTerm(library: Library, t: Term, values: Float64Array): number {
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
const copyLibrary = (l: Library): Library => ({ terms: [...l.terms], vectors: [...l.vectors], scales: [...l.scales], buckets: new Map([...l.buckets].map(([k, v]) => [k, [...v]])) });

/**
 * Evaluates terms (in order) on the rows, keeping those that are conditioned and not (nearly) a multiple of
 * one kept before: terms come simplest first, so the kept twin is the simplest (x stays; x cos(a / 5000) and
 * sin(x / 900) go). Stops after `budget` terms. The constant term 1 comes first.
 */
function buildLibrary(terms: Term[], cols: readonly Float64Array[], rows: Int32Array, budget: number): { library: Library; evaluated: number } {
  const library = emptyLibrary();
  addTerm(library, { expr: num(1), constants: [], complexity: 1 }, new Float64Array(rows.length).fill(1));
  let evaluated = 0;
  for (const t of terms) {
    if (evaluated >= budget) break;
    evaluated++;
    const v = termValues(t, cols, rows);
    if (!v || !conditioned(v)) continue;
    const rms = Math.sqrt(dot(v, v) / v.length);
    if (twinOf(library, v.map((x) => x / rms)) >= 0) continue;
    addTerm(library, t, v);
  }
  return { library, evaluated };
}

/** A scored term set: indices into the library, sorted; which fit scored best; its residual for the beam. */
interface Scored {
  set: number[];
  score: number;
  perEpisode: boolean;
  residual: Float64Array;
}

/**
 * The screening rows of one component: the target, and the episodes as contiguous ranges of rows (the rows
 * are in transition order, so an episode's rows are adjacent).
 */
interface Design {
  y: Float64Array;
  /** [start, end) of each episode's rows. */
  episodes: Array<[number, number]>;
}

function designOf(y: Float64Array, episodeOfRow: Int32Array): Design {
  const episodes: Array<[number, number]> = [];
  for (let i = 0; i < y.length; i++) if (i === 0 || episodeOfRow[i] !== episodeOfRow[i - 1]) episodes.push([i, i + 1]);
    else episodes[episodes.length - 1][1] = i + 1;
  return { y, episodes };
}

/** Least squares of y on the columns over rows [from, to): coefficients and residual sum of squares (a tiny ridge keeps it defined). */
function leastSquares(cols: Float64Array[], y: Float64Array, from: number, to: number): { coef: Float64Array; rss: number } {
  const p = cols.length;
  const G = new Float64Array(p * p), v = new Float64Array(p);
  let yty = 0;
  for (let i = from; i < to; i++) {
    yty += y[i] * y[i];
    for (let a = 0; a < p; a++) {
      const x = cols[a][i];
      v[a] += x * y[i];
      for (let b = a; b < p; b++) G[a * p + b] += x * cols[b][i];
    }
  }
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < a; b++) G[a * p + b] = G[b * p + a];
    G[a * p + a] += 1e-9 * (G[a * p + a] + 1e-12);
  }
  const inv = p ? invertSmall(G, p) : new Float64Array(0);
  if (!inv) return { coef: new Float64Array(p), rss: yty };
  const coef = Float64Array.from({ length: p }, (_, a) => inv.slice(a * p, (a + 1) * p).reduce((s, x, b) => s + x * v[b], 0));
  let rss = yty;
  for (let a = 0; a < p; a++) rss -= coef[a] * v[a];
  return { coef, rss: Math.max(rss, 0) };
}

/**
 * The score of term sets on one target: the better of two fits, each by BIC (-n/2 log(2 pi RSS/n) - n/2 minus
 * log(n)/2 per coefficient): every coefficient shared by all episodes, or every coefficient per episode (a
 * coefficient of episode e costs log(n_e)/2). Plus the prior of the terms (termPrior), and log(n)/2 per
 * constant fitted inside them.
 */
function scorer(library: Library, design: Design, termPrior: (t: number) => number) {
  const { y, episodes } = design;
  const n = y.length;
  const bic = (rss: number, penalty: number) => -0.5 * n * (Math.log((2 * Math.PI * Math.max(rss, 1e-300)) / n) + 1) - penalty;
  return (set: number[]): Scored => {
    const cols = set.map((t) => library.vectors[t]);
    const pooled = leastSquares(cols, y, 0, n);
    const residual = y.slice();
    cols.forEach((c, a) => {
      for (let i = 0; i < n; i++) residual[i] -= pooled.coef[a] * c[i];
    });
    const shared = bic(pooled.rss, 0.5 * (set.length + 1) * Math.log(n));
    let own = -Infinity;
    const ownResidual = y.slice();
    if (set.length && episodes.length > 1) {
      let rss = 0, penalty = 0.5 * Math.log(n);
      for (const [from, to] of episodes) {
        const fit = leastSquares(cols, y, from, to);
        rss += fit.rss;
        penalty += 0.5 * set.length * Math.log(Math.max(to - from, 2));
        cols.forEach((c, a) => {
          for (let i = from; i < to; i++) ownResidual[i] -= fit.coef[a] * c[i];
        });
      }
      own = bic(rss, penalty);
    }
    // the terms' prior, and BIC's price of the constants fitted inside them (a softening, a scale)
    const prior = set.reduce((s, t) => s + termPrior(t) - 0.5 * library.terms[t].constants.length * Math.log(n), 0);
    return own > shared ? { set, score: own + prior, perEpisode: true, residual: ownResidual } : { set, score: shared + prior, perEpisode: false, residual };
  };
}

/** Above this |correlation| over the screening rows a term is kept out of the library as another's twin. */
const NEAR_TWIN = 0.999;

/** Above this |correlation| two terms are variants of one another (v and v cos(x / 900), say). */
const VARIANTS = 0.99;
const VARIANT_PROBES = 48;

/**
 * The `count` terms of highest gain, one per group of variants (the simplest of each): without this, the
 * variants of one strong term crowd the others out, and the plain term itself may lose its place to variants
 * that fit a little noise.
 */
function diverse(library: Library, gains: Array<{ t: number; gain: number }>, count: number): number[] {
  const picked: number[] = [];
  const n = library.vectors[0]?.length ?? 1;
  // the variant test on a few rows spread over the data (approximate, and cheap enough to scan the whole list)
  const probe = Array.from({ length: Math.min(n, VARIANT_PROBES) }, (_, k) => Math.floor(((k + 0.5) * n) / Math.min(n, VARIANT_PROBES)));
  const correlation = (a: number, b: number) => {
    const va = library.vectors[a], vb = library.vectors[b];
    let ab = 0, aa = 0, bb = 0;
    for (const i of probe) {
      ab += va[i] * vb[i];
      aa += va[i] * va[i];
      bb += vb[i] * vb[i];
    }
    return Math.abs(ab) / Math.sqrt(aa * bb || 1);
  };
  for (const { t } of gains) {
    const twin = picked.findIndex((p) => correlation(p, t) > VARIANTS);
    if (twin < 0) picked.push(t);
    else if (library.terms[t].complexity < library.terms[picked[twin]].complexity) picked[twin] = t;
    if (picked.length >= count && twin < 0) break;
  }
  return picked;
}

/**
 * The best `width` sets whose fits differ: a set whose residual is within a hundredth of the noise (mean
 * squared difference) of a better set's makes the same predictions, and would fill the beam with variants
 * of one set (a0 + f and a0 + f + a term that fits nothing).
 */
function distinctFits(sorted: Scored[], width: number): Scored[] {
  const picked: Scored[] = [];
  for (const s of sorted) {
    const noise = dot(s.residual, s.residual);
    const same = picked.some((p) => {
      let d = 0;
      for (let i = 0; i < s.residual.length; i++) d += (s.residual[i] - p.residual[i]) ** 2;
      return d < 0.01 * noise;
    });
    if (!same) picked.push(s);
    if (picked.length >= width) break;
  }
  return picked;
}

/**
 * Term sets grown one term at a time: the best `width` sets of each size (with distinct fits), and the best
 * set of each size holding each seed (the best single terms, and every atom), from every set of the size before. Each set's
 * residual picks the terms worth scoring with it; `refine` fits a picked term's constants first.
 */
function beamSearch(library: Library, score: (set: number[]) => Scored, maxTerms: number, width: number, refine: (t: number, rest: number[]) => number): Scored[] {
  const tried = new Map<string, Scored>();
  const scoreOnce = (set: number[]) => {
    const key = set.join(',');
    let s = tried.get(key);
    if (!s) tried.set(key, (s = score(set)));
    return s;
  };
  let beam = [scoreOnce([])];
  let seeds: number[] = [];
  const screen = Math.max(8, 3 * width);
  for (let size = 1; size <= maxTerms; size++) {
    const next: Scored[] = [];
    for (const b of beam) {
      const inSet = new Set(b.set);
      // how much of the residual each term explains: (v . r)^2 over the part of v the set does not already span
      // (|v|^2 - v_S G^-1 v_S, unit-RMS vectors): x^3 beside x explains x + x^3's residual fully, though most of
      // x^3 is x
      const setVectors = b.set.map((t) => library.vectors[t]);
      const m = setVectors.length, n = b.residual.length;
      const G = new Float64Array(m * m);
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) G[i * m + j] = dot(setVectors[i], setVectors[j]) + (i === j ? 1e-9 * n : 0);
      const Ginv = m ? invertSmall(G, m) : null;
      const gains: Array<{ t: number; gain: number }> = [];
      const c = new Float64Array(m);
      for (let t = 0; t < library.vectors.length; t++) {
        if (inSet.has(t)) continue;
        const v = library.vectors[t];
        let spanned = 0;
        if (Ginv) {
          for (let i = 0; i < m; i++) c[i] = dot(v, setVectors[i]);
          for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) spanned += c[i] * Ginv[i * m + j] * c[j];
        }
        gains.push({ t, gain: dot(v, b.residual) ** 2 / Math.max(n - spanned, 1e-6 * n) });
      }
      gains.sort((a, c) => c.gain - a.gain || a.t - c.t);
      // a term with constants inside (a softening, a scale) is scored with them fitted beside the set's terms
      for (const t of diverse(library, gains, screen)) next.push(scoreOnce([...b.set, refine(t, b.set)].sort((a, c) => a - c)));
    }
    const unique = [...new Map(next.map((s) => [s.set.join(','), s])).values()].sort((a, c) => c.score - a.score);
    if (!unique.length) break;
    // seeds: the best single terms, and every atom (the simplest hypotheses: x alone may fit worse than |x| x)
    if (size === 1) seeds = [...new Set([...unique.slice(0, width).map((s) => s.set[0]), ...unique.filter((s) => library.terms[s.set[0]].complexity === 1).map((s) => s.set[0])])];
    // the best sets, and the best set grown from each seed: a law of two terms that each fit worse alone than
    // a one-term approximation (x + x^3 against |x| x) keeps a place
    const kept = distinctFits(unique, width);
    for (const seed of seeds) {
      const best = unique.find((s) => s.set.includes(seed));
      if (best && !kept.includes(best)) kept.push(best);
    }
    beam = kept;
  }
  return [...tried.values()].sort((a, c) => c.score - a.score);
}

/** Residuals of y after least squares on the columns, each episode's coefficients its own (variable projection's inner solve). */
function perEpisodeResidual(vectors: Float64Array[], design: Design): Float64Array {
  const out = design.y.slice();
  for (const [from, to] of design.episodes) {
    const fit = leastSquares(vectors, design.y, from, to);
    vectors.forEach((v, a) => {
      for (let k = from; k < to; k++) out[k] -= fit.coef[a] * v[k];
    });
  }
  return out;
}

/**
 * Term t's constants fitted by Levenberg-Marquardt to what the set `rest` leaves (variable projection: the
 * coefficients solved at every step, per episode). A better fit joins the library as a new term (same prior);
 * returns its index, or t's own when nothing was better.
 */
function refineInLibrary(library: Library, t: number, rest: number[], cols: readonly Float64Array[], rows: Int32Array, design: Design, prior: Map<Term, number>): number {
  const term = library.terms[t];
  if (!term.constants.length) return t;
  const fixed = rest.map((r) => library.vectors[r]);
  const columnOf = (c: ArrayLike<number>) => {
    const v = termValues({ ...term, constants: Array.from(c) }, cols, rows);
    return v && conditioned(v) ? v : null;
  };
  const residuals = (c: Float64Array) => {
    const v = columnOf(c);
    return v ? perEpisodeResidual([...fixed, v], design) : Float64Array.from(design.y, () => 1e6);
  };
  const initial = Float64Array.from(term.constants);
  const fit = levenbergMarquardt({ residuals, initial, maxIterations: 10 });
  const start = residuals(initial);
  if (!(fit.sse < dot(start, start) * (1 - 1e-6))) return t;
  const v = columnOf(fit.theta);
  if (!v) return t;
  const refined: Term = { ...term, constants: Array.from(fit.theta) };
  // a refined term that came out (nearly) equal to one already there is that one: sin(a0 / 1400) is a0
  const rms = Math.sqrt(dot(v, v) / v.length);
  const twin = twinOf(library, v.map((x) => x / rms));
  if (twin >= 0) return twin;
  prior.set(refined, prior.get(term)!);
  return addTerm(library, refined, v);
}

/** Variants of a term beyond the enumeration: another power or operator, one more atom factor, an atom swapped. */
function mutants(t: Term, atoms: readonly Term[]): Term[] {
  const out: Term[] = [];
  const plain = atoms.filter((a) => a.constants.length === 0);
  for (const a of plain) out.push({ expr: binary('mul', t.expr, a.expr), constants: t.constants, complexity: t.complexity + 2 });
  for (const p of POWERS) out.push({ expr: binary('pow', t.expr, num(p)), constants: t.constants, complexity: t.complexity + 1 });
  for (const op of ['abs', 'sqrt', 'square', 'log', 'exp', 'sin'] as const) out.push({ expr: unary(op, t.expr), constants: t.constants, complexity: t.complexity + 1 });
  // every variable swapped for another plain atom
  const swap = (e: Expr, from: number, to: Expr): Expr =>
    e.kind === 'var' ? (e.index === from ? to : e) : e.kind === 'unary' ? unary(e.op, swap(e.arg, from, to)) : e.kind === 'binary' ? binary(e.op, swap(e.left, from, to), swap(e.right, from, to)) : e;
  for (const v of variablesOf(t.expr)) for (const a of plain) if (!(a.expr.kind === 'var' && a.expr.index === v)) out.push({ expr: swap(t.expr, v, a.expr), constants: t.constants, complexity: t.complexity });
  return out;
}

/** The coefficients of a term set on all of a component's rows, each shared or per episode (mixed-regression.ts). */
function decideCoefficients(terms: Term[], priors: number[], cols: readonly Float64Array[], rows: Int32Array, y: Float64Array, episode: Int32Array): { terms: FoundTerm[]; bic: number } | null {
  const vectors: Float64Array[] = [];
  for (const t of terms) {
    const v = termValues(t, cols, rows);
    if (!v) return null;
    vectors.push(v);
  }
  const fit = fitMixed(vectors, y, episode);
  return fit && { terms: fit.coefficients.map((c, a) => ({ term: terms[a], prior: priors[a], ...c })), bic: fit.bic };
}

/** The rows where every component of `dims` is valid (the padding of an absent body left out). */
function validRows(data: TransitionData, dims: readonly number[]): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < data.n; i++) if (dims.every((d) => data.valid[i * data.D + d])) out.push(i);
  return Int32Array.from(out);
}

/**
 * Searches the equations of every dynamic component. Rows: every transition of `data` (the first of each
 * episode included). `vars` names the variables; actions that never vary are left out of the atoms (the data
 * say nothing of them; see the symmetry completion in discovered-law.ts).
 */
export function searchEquations(data: TransitionData, k: Kinematics, vars: Variables, opts: SearchOptions): EquationSearchResult {
  const maxTerms = opts.maxTerms ?? 4, width = opts.beamWidth ?? 6, screenRows = opts.screenRows ?? 512, maxComplexity = opts.maxComplexity ?? 6;
  const cols = midpointColumns(data);
  const varies = (v: number) => cols[v].some((x) => x !== cols[v][0]);
  const actions = Array.from({ length: vars.A }, (_, j) => j).filter((j) => varies(vars.D + j));
  const rmsOf = (d: number) => Math.sqrt(cols[d].reduce((s, x) => s + x * x, 0) / Math.max(cols[d].length, 1));
  const equations = new Map<number, FoundEquation[]>();
  const components = new Map<number, ComponentData>();
  let scored = 0;
  const bodyDims = (body: number) => Array.from({ length: k.fields }, (_, f) => body * k.fields + f).filter((d) => !k.constant.includes(d));
  const bodies = Array.from({ length: k.bodies }, (_, b) => b).filter((b) => k.dynamic.some((d) => Math.floor(d / k.fields) === b));
  // bodies are alike (a view of [N, F]): the law is searched on the body with the most data, and given to the
  // others as its image, each fitting its own coefficients (whether they are also the same is a symmetry the
  // law forms test); a term reading an action stays with the body it acts on
  const rowsOf = new Map(bodies.map((b) => [b, validRows(data, bodyDims(b))]));
  const representative = bodies.reduce((best, b) => (rowsOf.get(b)!.length > rowsOf.get(best)!.length ? b : best), bodies[0]);
  const componentOf = (d: number, rows: Int32Array): ComponentData => {
    const rate = Float64Array.from(rows, (i) => (data.next[i * data.D + d] - data.cur[i * data.D + d]) / k.dt);
    return { rows, rate, episode: Int32Array.from(rows, (i) => data.episode[i]) };
  };
  if (representative !== undefined && rowsOf.get(representative)!.length >= 4) {
    const rows = rowsOf.get(representative)!;
    const body = representative;
    const atoms = atomsOf(k, vars, body, actions, rmsOf);
    const scales = atoms.map((a) => {
      const v = termValues(a, cols, rows);
      return v ? Math.sqrt(dot(v, v) / v.length) : 1;
    });
    const screen = screeningRows(rows, data.episode, screenRows);
    const { library, evaluated } = buildLibrary(enumerateTerms(atoms, scales, maxComplexity), cols, screen, opts.effort);
    scored += evaluated;
    // the prior of a term: uniform over the complexity levels, then over the library's terms of its level
    // (a term chosen among many pays log of how many it was chosen among)
    const levelCount = new Map<number, number>();
    for (const t of library.terms) levelCount.set(t.complexity, (levelCount.get(t.complexity) ?? 0) + 1);
    const levelPrior = -Math.log(maxComplexity + 1);
    const prior = new Map<Term, number>(library.terms.map((t) => [t, levelPrior - Math.log(levelCount.get(t.complexity)!)]));
    const episodeOfScreen = Int32Array.from(screen, (i) => data.episode[i]);
    for (const d of k.dynamic.filter((x) => Math.floor(x / k.fields) === body)) {
      const component = componentOf(d, rows);
      components.set(d, component);
      const design = designOf(Float64Array.from(screen, (i) => (data.next[i * data.D + d] - data.cur[i * data.D + d]) / k.dt), episodeOfScreen);
      // (refined terms join the library: a copy per component keeps components from seeing each other's)
      const own = copyLibrary(library);
      const ranked = beamSearch(own, scorer(own, design, (t) => prior.get(own.terms[t])!), maxTerms, width, (t, rest) => refineInLibrary(own, t, rest, cols, screen, design, prior));
      // the constants inside the best sets' terms fitted (an enumerated softening or scale is only a first guess),
      // then each term of the best few swapped for a variant the enumeration did not reach, kept where better
      // (a variant pays log of how many variants its slot tried on top of the level prior), and refitted
      const refined = ranked
        .slice(0, REFINED_SETS)
        .map((best) => refineConstants({ terms: best.set.map((t) => own.terms[t]), score: best.score }, cols, screen, design, prior))
        .sort((a, b) => b.score - a.score);
      const extended = refined.map((start, rank) => {
        if (rank >= MUTATED_SETS) return start;
        let current = start;
        for (let slot = 0; slot < current.terms.length; slot++) {
          const variants = mutants(current.terms[slot], atoms);
          for (const m of variants) prior.set(m, levelPrior - Math.log(library.terms.length + variants.length));
          for (const m of variants) {
            scored++;
            const trial = current.terms.map((t, i) => (i === slot ? m : t));
            const s = scoreTerms(trial, cols, screen, design, prior);
            if (s > current.score + 1e-9) current = { terms: trial, score: s };
          }
        }
        return current === start ? start : refineConstants(current, cols, screen, design, prior);
      });
      const found: FoundEquation[] = [];
      const seenSets = new Set<string>();
      // a term refined or mutated into a near twin of a simpler one in the library is that simpler one
      // (x exp(|q| / 10000) is x): the law is stated in its simplest form, and pays that form's prior
      const simplest = (t: Term): Term => {
        const v = termValues(t, cols, screen);
        if (!v) return t;
        const rms = Math.sqrt(dot(v, v) / v.length);
        const twin = twinOf(own, v.map((x) => x / rms));
        return twin >= 0 && own.terms[twin].complexity < t.complexity ? own.terms[twin] : t;
      };
      for (const found0 of extended) {
        const candidate = { ...found0, terms: [...new Set(found0.terms.map(simplest))] };
        const key = candidate.terms.map((t) => keyOf(t.expr)).sort().join(' + ');
        if (seenSets.has(key)) continue;
        seenSets.add(key);
        const fitted = decideCoefficients(candidate.terms, candidate.terms.map((t) => prior.get(t)!), cols, rows, component.rate, component.episode);
        if (fitted) found.push({ dim: d, terms: fitted.terms, score: candidate.score, bic: fitted.bic, prior: candidate.terms.reduce((sum, t) => sum + prior.get(t)!, 0) });
      }
      // ranked on all of the component's rows (the screening saw some episodes), each coefficient shared or per episode
      equations.set(d, found.sort((a, b) => b.bic + b.prior - (a.bic + a.prior)));
    }
  }
  for (const body of bodies) {
    if (body === representative) continue;
    const rows = rowsOf.get(body)!;
    if (rows.length < 4) continue;
    const toBody = (v: number): Expr => (v < vars.D && Math.floor(v / k.fields) === representative ? variable(body * k.fields + (v % k.fields)) : variable(v));
    for (const [d0, found] of [...equations]) {
      if (Math.floor(d0 / k.fields) !== representative) continue;
      const d = body * k.fields + (d0 % k.fields);
      if (!k.dynamic.includes(d)) continue;
      const component = componentOf(d, rows);
      components.set(d, component);
      const images = found.flatMap((eq) => {
        const terms = eq.terms.filter((t) => variablesOf(t.term.expr).every((v) => v < vars.D)).map((t) => ({ ...t.term, expr: substitute(t.term.expr, toBody) }));
        const fitted = decideCoefficients(terms, terms.map(() => 0), cols, rows, component.rate, component.episode);
        return fitted ? [{ dim: d, terms: fitted.terms, score: fitted.bic, bic: fitted.bic, prior: 0 }] : [];
      });
      equations.set(d, images.sort((a, b) => b.score - a.score));
    }
  }
  const silent = Array.from({ length: vars.A }, (_, j) => vars.D + j).filter((v) => !varies(v));
  return { equations, components, columns: cols, silent, scored };
}

/**
 * The constants inside a set's terms (a softening, the scale of a sine) fitted to the data by
 * Levenberg-Marquardt, the coefficients solved for at every step (variable projection, each coefficient per
 * episode: the residual a constant can remove is then that of the law, not of a coefficient that varies).
 * The refined set replaces the enumerated one where it scores better.
 */
function refineConstants(current: { terms: Term[]; score: number }, cols: readonly Float64Array[], rows: Int32Array, design: Design, prior: Map<Term, number>): { terms: Term[]; score: number } {
  const slots = current.terms.flatMap((t, i) => t.constants.map((_, j) => ({ i, j })));
  if (!slots.length) return current;
  const withConstants = (c: ArrayLike<number>) =>
    current.terms.map((t, i) => (t.constants.length ? { ...t, constants: t.constants.map((_, j) => c[slots.findIndex((s) => s.i === i && s.j === j)]) } : t));
  const residuals = (c: Float64Array) => {
    const vectors = withConstants(c).map((t) => termValues(t, cols, rows));
    if (vectors.some((v) => !v || !conditioned(v))) return Float64Array.from(design.y, () => 1e6);
    return perEpisodeResidual(vectors as Float64Array[], design);
  };
  const initial = Float64Array.from(slots, ({ i, j }) => current.terms[i].constants[j]);
  const fitted = levenbergMarquardt({ residuals, initial, maxIterations: 20 }).theta;
  const terms = withConstants(fitted);
  terms.forEach((t, i) => prior.set(t, prior.get(current.terms[i])!));
  const score = scoreTerms(terms, cols, rows, design, prior);
  return score > current.score ? { terms, score } : current;
}

/** The screening score of a list of terms (evaluated afresh: mutants are not in the library). */
function scoreTerms(terms: Term[], cols: readonly Float64Array[], rows: Int32Array, design: Design, prior: Map<Term, number>): number {
  const library = emptyLibrary();
  for (const t of terms) {
    const v = termValues(t, cols, rows);
    if (!v || !conditioned(v)) return -Infinity;
    addTerm(library, t, v);
  }
  return scorer(library, design, (t) => prior.get(library.terms[t]) ?? -Infinity)(terms.map((_, i) => i)).score;
}
