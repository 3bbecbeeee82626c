// Choosing a component's terms: a beam over term sets, each scored by BIC plus the prior of its terms, with
// the constants inside a term fitted when it is considered, and the best sets refined and mutated.
import { binary, num, unary, variablesOf, type Expr } from './expression';
import { levenbergMarquardt } from './lm';
import { invertSmall, leastSquares } from './mixed-regression';
import { addTerm, conditioned, dot, emptyLibrary, termValues, twinOf, type Library } from './term-library';
import { POWERS, type Term } from './terms';

/** A scored term set: indices into the library, sorted; which fit scored best; its residual for the beam. */
export interface Scored {
  set: number[];
  score: number;
  perEpisode: boolean;
  residual: Float64Array;
}

/**
 * The screening rows of one component: the target, and the episodes as contiguous ranges of rows (the rows
 * are in transition order, so an episode's rows are adjacent).
 */
export interface Design {
  y: Float64Array;
  /** [start, end) of each episode's rows. */
  episodes: Array<[number, number]>;
}

export function designOf(y: Float64Array, episodeOfRow: Int32Array): Design {
  const episodes: Array<[number, number]> = [];
  for (let i = 0; i < y.length; i++)
    if (i === 0 || episodeOfRow[i] !== episodeOfRow[i - 1]) episodes.push([i, i + 1]);
    else episodes[episodes.length - 1][1] = i + 1;
  return { y, episodes };
}

/**
 * Least squares of y on the columns over rows [from, to), a tiny ridge keeping it defined (all zero where it cannot
 * be).
 */
function rangeFit(
  cols: Float64Array[],
  y: Float64Array,
  from: number,
  to: number,
): { coef: Float64Array; rss: number } {
  const fit = cols.length ? leastSquares(cols, y, { from, to }, 1e-9) : null;
  if (fit) return fit;
  let yty = 0;
  for (let i = from; i < to; i++) yty += y[i] * y[i];
  return { coef: new Float64Array(cols.length), rss: yty };
}

/**
 * The score of term sets on one target: the better of two fits, each by BIC (-n/2 log(2 pi RSS/n) - n/2 minus
 * log(n)/2 per coefficient): every coefficient shared by all episodes, or every coefficient per episode (a
 * coefficient of episode e costs log(n_e)/2). Plus the prior of the terms (termPrior), and log(n)/2 per
 * constant fitted inside them.
 */
export function scorer(library: Library, design: Design, termPrior: (t: number) => number) {
  const { y, episodes } = design;
  const n = y.length;
  const bic = (rss: number, penalty: number) =>
    -0.5 * n * (Math.log((2 * Math.PI * Math.max(rss, 1e-300)) / n) + 1) - penalty;
  return (set: number[]): Scored => {
    const cols = set.map((t) => library.vectors[t]);
    const pooled = rangeFit(cols, y, 0, n);
    const residual = y.slice();
    cols.forEach((c, a) => {
      for (let i = 0; i < n; i++) residual[i] -= pooled.coef[a] * c[i];
    });
    const shared = bic(pooled.rss, 0.5 * (set.length + 1) * Math.log(n));
    let own = -Infinity;
    const ownResidual = y.slice();
    if (set.length && episodes.length > 1) {
      let rss = 0,
        penalty = 0.5 * Math.log(n);
      for (const [from, to] of episodes) {
        const fit = rangeFit(cols, y, from, to);
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
    return own > shared
      ? { set, score: own + prior, perEpisode: true, residual: ownResidual }
      : { set, score: shared + prior, perEpisode: false, residual };
  };
}

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
  const probe = Array.from({ length: Math.min(n, VARIANT_PROBES) }, (_, k) =>
    Math.floor(((k + 0.5) * n) / Math.min(n, VARIANT_PROBES)),
  );
  const correlation = (a: number, b: number) => {
    const va = library.vectors[a],
      vb = library.vectors[b];
    let ab = 0,
      aa = 0,
      bb = 0;
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
 * set of each size holding each seed (the best single terms, and every atom), from every set of the size before. Each
 * set's
 * residual picks the terms worth scoring with it; `refine` fits a picked term's constants first. `allowed`: the terms
 * the sets may hold (a search for a rival leaves out one term and its twins).
 */
export function beamSearch(
  library: Library,
  score: (set: number[]) => Scored,
  maxTerms: number,
  width: number,
  refine: (t: number, rest: number[]) => number,
  allowed: (t: number) => boolean = () => true,
): Scored[] {
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
      const m = setVectors.length,
        n = b.residual.length;
      const G = new Float64Array(m * m);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < m; j++) G[i * m + j] = dot(setVectors[i], setVectors[j]) + (i === j ? 1e-9 * n : 0);
      const Ginv = m ? invertSmall(G, m) : null;
      const gains: Array<{ t: number; gain: number }> = [];
      const c = new Float64Array(m);
      for (let t = 0; t < library.vectors.length; t++) {
        if (inSet.has(t) || !allowed(t)) continue;
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
      for (const t of diverse(library, gains, screen)) {
        // a refinement may land on a term the search may not use (its twin)
        const refined = refine(t, b.set);
        next.push(scoreOnce([...b.set, allowed(refined) ? refined : t].sort((a, c) => a - c)));
      }
    }
    const unique = [...new Map(next.map((s) => [s.set.join(','), s])).values()].sort((a, c) => c.score - a.score);
    if (!unique.length) break;
    // seeds: the best single terms, and every atom (the simplest hypotheses: x alone may fit worse than |x| x)
    if (size === 1)
      seeds = [
        ...new Set([
          ...unique.slice(0, width).map((s) => s.set[0]),
          ...unique.filter((s) => library.terms[s.set[0]].complexity === 1).map((s) => s.set[0]),
        ]),
      ];
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

/**
 * Residuals of y after least squares on the columns, each episode's coefficients its own (variable projection's inner
 * solve).
 */
function perEpisodeResidual(vectors: Float64Array[], design: Design): Float64Array {
  const out = design.y.slice();
  for (const [from, to] of design.episodes) {
    const fit = rangeFit(vectors, design.y, from, to);
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
export function refineInLibrary(
  library: Library,
  t: number,
  rest: number[],
  cols: readonly Float64Array[],
  rows: Int32Array,
  design: Design,
  prior: Map<Term, number>,
): number {
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
  const twin = twinOf(
    library,
    v.map((x) => x / rms),
  );
  if (twin >= 0) return twin;
  prior.set(refined, prior.get(term)!);
  return addTerm(library, refined, v);
}

/** Variants of a term beyond the enumeration: another power or operator, one more atom factor, an atom swapped. */
export function mutants(t: Term, atoms: readonly Term[]): Term[] {
  const out: Term[] = [];
  const plain = atoms.filter((a) => a.constants.length === 0);
  for (const a of plain)
    out.push({ expr: binary('mul', t.expr, a.expr), constants: t.constants, complexity: t.complexity + 2 });
  for (const p of POWERS)
    out.push({ expr: binary('pow', t.expr, num(p)), constants: t.constants, complexity: t.complexity + 1 });
  for (const op of ['abs', 'sqrt', 'square', 'log', 'exp', 'sin'] as const)
    out.push({ expr: unary(op, t.expr), constants: t.constants, complexity: t.complexity + 1 });
  // every variable swapped for another plain atom
  const swap = (e: Expr, from: number, to: Expr): Expr =>
    e.kind === 'var'
      ? e.index === from
        ? to
        : e
      : e.kind === 'unary'
        ? unary(e.op, swap(e.arg, from, to))
        : e.kind === 'binary'
          ? binary(e.op, swap(e.left, from, to), swap(e.right, from, to))
          : e;
  for (const v of variablesOf(t.expr))
    for (const a of plain)
      if (!(a.expr.kind === 'var' && a.expr.index === v))
        out.push({ expr: swap(t.expr, v, a.expr), constants: t.constants, complexity: t.complexity });
  return out;
}

/**
 * The constants inside a set's terms (a softening, the scale of a sine) fitted to the data by
 * Levenberg-Marquardt, the coefficients solved for at every step (variable projection, each coefficient per
 * episode: the residual a constant can remove is then that of the law, not of a coefficient that varies).
 * The refined set replaces the enumerated one where it scores better.
 */
export function refineConstants(
  current: { terms: Term[]; score: number },
  cols: readonly Float64Array[],
  rows: Int32Array,
  design: Design,
  prior: Map<Term, number>,
): { terms: Term[]; score: number } {
  const slots = current.terms.flatMap((t, i) => t.constants.map((_, j) => ({ i, j })));
  if (!slots.length) return current;
  const withConstants = (c: ArrayLike<number>) =>
    current.terms.map((t, i) =>
      t.constants.length
        ? { ...t, constants: t.constants.map((_, j) => c[slots.findIndex((s) => s.i === i && s.j === j)]) }
        : t,
    );
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
export function scoreTerms(
  terms: Term[],
  cols: readonly Float64Array[],
  rows: Int32Array,
  design: Design,
  prior: Map<Term, number>,
): number {
  const library = emptyLibrary();
  for (const t of terms) {
    const v = termValues(t, cols, rows);
    if (!v || !conditioned(v)) return -Infinity;
    addTerm(library, t, v);
  }
  return scorer(library, design, (t) => prior.get(library.terms[t]) ?? -Infinity)(terms.map((_, i) => i)).score;
}
