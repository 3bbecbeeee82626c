// Equation discovery: for each component whose change a law must explain, the sum of a few terms (terms.ts)
// that best explains its rate of change, by evidence. (SINDy's sparse regression over a library, with the
// library enumerated from a grammar as in PySR/SymbolicRegression.jl, and a beam over term sets.)
//
// Targets. The law is a flow integrated over each step (discovered-law.ts), so what is regressed is the
// component's rate over the step, (x' - x) / dt, on the variables at the step's midpoint ((x + x') / 2, and the
// action): a second-order estimate of the derivative (exact for a constant acceleration), and its noise is
// uncorrelated with the midpoint's.
// Library (term-library.ts): the terms enumerated by complexity (terms.ts), evaluated on whole episodes.
// Selection (beam.ts). Per component, a beam of term sets grown one term at a time: every term is screened by how much
// of the current residual it explains, the best few are scored exactly (BIC of the better of two least-squares
// fits, every coefficient shared by all episodes or every coefficient per episode, plus the terms' prior:
// uniform over complexity levels, then over the terms of a level, so that a term chosen among many pays for
// the choice), and the best sets are kept. Then the chosen terms are mutated (another
// operator, power or atom; a factor more) beyond the enumeration's complexity, kept where the score rises.
// Shared or per episode. Each coefficient of a chosen set is shared by every episode or drawn per episode, as
// the data decide (mixed-regression.ts).
// Rival. The same search again without the best equation's main term (its form and its twins): a law that may fit the
// data almost as well and part from the best beyond it (EquationSearchResult.rivals).
import { beamSearch, designOf, mutants, refineConstants, refineInLibrary, scorer, scoreTerms } from './beam';
import { keyOf, substitute, variable, variablesOf, type Expr } from './expression';
import type { Kinematics } from './kinematics';
import { fitMixed } from './mixed-regression';
import { buildLibrary, copyLibrary, dot, NEAR_TWIN, termValues, twinOf } from './term-library';
import { atomsOf, enumerateTerms, type Term, type Variables } from './terms';
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
  /**
   * Per dynamic component of the searched body, the best equation that does without the best one's main term (and
   * its twins): a law that may agree with the best on the data and part from it beyond.
   */
  rivals: Map<number, FoundEquation>;
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
  return Int32Array.from(
    Array.from({ length: take }, (_, k) => episodes[Math.floor((k * episodes.length) / take)]).flat(),
  );
}

/** The coefficients of a term set on all of a component's rows, each shared or per episode (mixed-regression.ts). */
function decideCoefficients(
  terms: Term[],
  priors: number[],
  cols: readonly Float64Array[],
  rows: Int32Array,
  y: Float64Array,
  episode: Int32Array,
): { terms: FoundTerm[]; bic: number } | null {
  const vectors: Float64Array[] = [];
  for (const t of terms) {
    const v = termValues(t, cols, rows);
    if (!v) return null;
    vectors.push(v);
  }
  const fit = fitMixed(vectors, y, episode);
  return fit && { terms: fit.coefficients.map((c, a) => ({ term: terms[a], prior: priors[a], ...c })), bic: fit.bic };
}

/** A term's values on `rows` scaled to unit RMS (null where it has no finite value). */
function unitValues(t: Term, cols: readonly Float64Array[], rows: Int32Array): Float64Array | null {
  const v = termValues(t, cols, rows);
  if (!v) return null;
  const rms = Math.sqrt(dot(v, v) / v.length) || 1;
  return v.map((x) => x / rms);
}

/**
 * An equation's main term, and its values on `rows` at unit RMS: the term whose contribution (coefficient times
 * values) is largest, among those that read no action (an action's term is what the data are driven by, not a law).
 * Null for no such term.
 */
function mainTerm(
  eq: FoundEquation | undefined,
  vars: Variables,
  cols: readonly Float64Array[],
  rows: Int32Array,
): { term: Term; unit: Float64Array } | null {
  let best: { size: number; term: Term; unit: Float64Array } | null = null;
  for (const t of eq?.terms ?? []) {
    if (variablesOf(t.term.expr).some((v) => v >= vars.D)) continue;
    const v = termValues(t.term, cols, rows);
    if (!v) continue;
    const rms = Math.sqrt(dot(v, v) / v.length);
    const size = Math.abs(t.coef) * rms;
    if (rms > 0 && (!best || size > best.size)) best = { size, term: t.term, unit: v.map((x) => x / rms) };
  }
  return best && { term: best.term, unit: best.unit };
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
export function searchEquations(
  data: TransitionData,
  k: Kinematics,
  vars: Variables,
  opts: SearchOptions,
): EquationSearchResult {
  const maxTerms = opts.maxTerms ?? 4,
    width = opts.beamWidth ?? 6,
    screenRows = opts.screenRows ?? 512,
    maxComplexity = opts.maxComplexity ?? 6;
  const cols = midpointColumns(data);
  const varies = (v: number) => cols[v].some((x) => x !== cols[v][0]);
  const actions = Array.from({ length: vars.A }, (_, j) => j).filter((j) => varies(vars.D + j));
  const rmsOf = (d: number) => Math.sqrt(cols[d].reduce((s, x) => s + x * x, 0) / Math.max(cols[d].length, 1));
  const equations = new Map<number, FoundEquation[]>();
  const rivals = new Map<number, FoundEquation>();
  const components = new Map<number, ComponentData>();
  let scored = 0;
  const bodyDims = (body: number) =>
    Array.from({ length: k.fields }, (_, f) => body * k.fields + f).filter((d) => !k.constant.includes(d));
  const bodies = Array.from({ length: k.bodies }, (_, b) => b).filter((b) =>
    k.dynamic.some((d) => Math.floor(d / k.fields) === b),
  );
  // bodies are alike (a view of [N, F]): the law is searched on the body with the most data, and given to the
  // others as its image, each fitting its own coefficients (whether they are also the same is a symmetry the
  // law forms test); a term reading an action stays with the body it acts on
  const rowsOf = new Map(bodies.map((b) => [b, validRows(data, bodyDims(b))]));
  const representative = bodies.reduce(
    (best, b) => (rowsOf.get(b)!.length > rowsOf.get(best)!.length ? b : best),
    bodies[0],
  );
  const componentOf = (d: number, rows: Int32Array): ComponentData => {
    const rate = Float64Array.from(rows, (i) => (data.next[i * data.D + d] - data.cur[i * data.D + d]) / k.dt);
    return { rows, rate, episode: Int32Array.from(rows, (i) => data.episode[i]) };
  };
  if (representative !== undefined && rowsOf.get(representative)!.length >= 4) {
    const rows = rowsOf.get(representative)!;
    const body = representative;
    // bodies interact through their differences where every body is present in every row (a padded view's
    // absent bodies would read as bodies at the origin)
    const everyBody = data.valid.every((v) => v === 1) ? bodies.filter((b) => b !== body) : [];
    const atoms = atomsOf(k, vars, body, actions, rmsOf, everyBody);
    const scales = atoms.map((a) => {
      const v = termValues(a, cols, rows);
      return v ? Math.sqrt(dot(v, v) / v.length) : 1;
    });
    const screen = screeningRows(rows, data.episode, screenRows);
    const { library, evaluated } = buildLibrary(
      enumerateTerms(atoms, scales, maxComplexity),
      cols,
      screen,
      opts.effort,
    );
    scored += evaluated;
    // the prior of a term: uniform over the complexity levels, then over the library's terms of its level
    // (a term chosen among many pays log of how many it was chosen among)
    const levelCount = new Map<number, number>();
    for (const t of library.terms) levelCount.set(t.complexity, (levelCount.get(t.complexity) ?? 0) + 1);
    const levelPrior = -Math.log(maxComplexity + 1);
    const prior = new Map<Term, number>(
      library.terms.map((t) => [t, levelPrior - Math.log(levelCount.get(t.complexity)!)]),
    );
    const episodeOfScreen = Int32Array.from(screen, (i) => data.episode[i]);
    for (const d of k.dynamic.filter((x) => Math.floor(x / k.fields) === body)) {
      const component = componentOf(d, rows);
      components.set(d, component);
      const design = designOf(
        Float64Array.from(screen, (i) => (data.next[i * data.D + d] - data.cur[i * data.D + d]) / k.dt),
        episodeOfScreen,
      );
      // the best equations; with `allowed`, only of the terms it allows (a rival's search)
      const rank = (allowed?: (t: Term, unit: Float64Array) => boolean): FoundEquation[] => {
        // (refined terms join the library: a copy per search keeps searches from seeing each other's)
        const own = copyLibrary(library);
        const ranked = beamSearch(
          own,
          scorer(own, design, (t) => prior.get(own.terms[t])!),
          maxTerms,
          width,
          (t, rest) => refineInLibrary(own, t, rest, cols, screen, design, prior),
          allowed && ((t) => allowed(own.terms[t], own.vectors[t])),
        );
        // the constants inside the best sets' terms fitted (an enumerated softening or scale is only a first guess),
        // then each term of the best few swapped for a variant the enumeration did not reach, kept where better
        // (a variant pays log of how many variants its slot tried on top of the level prior), and refitted
        // (evaluated only where a search is limited: the unlimited one allows every term without its values)
        const allowedTerm = (t: Term) => {
          if (!allowed) return true;
          const v = unitValues(t, cols, screen);
          return v !== null && allowed(t, v);
        };
        // a set's constants refitted, unless that makes a term one the search may not use (a rival's tanh(x / 5)
        // refitted into the main term tanh(x / 1.1) it does without): then the set as it was
        const refit = (set: { terms: Term[]; score: number }) => {
          const r = refineConstants(set, cols, screen, design, prior);
          return r.terms.every(allowedTerm) ? r : set;
        };
        const refined = ranked
          .slice(0, REFINED_SETS)
          .map((best) => refit({ terms: best.set.map((t) => own.terms[t]), score: best.score }))
          .sort((a, b) => b.score - a.score);
        const extended = refined.map((start, rank) => {
          if (rank >= MUTATED_SETS) return start;
          let current = start;
          for (let slot = 0; slot < current.terms.length; slot++) {
            const variants = mutants(current.terms[slot], atoms).filter(allowedTerm);
            for (const m of variants) prior.set(m, levelPrior - Math.log(library.terms.length + variants.length));
            for (const m of variants) {
              scored++;
              const trial = current.terms.map((t, i) => (i === slot ? m : t));
              const s = scoreTerms(trial, cols, screen, design, prior);
              if (s > current.score + 1e-9) current = { terms: trial, score: s };
            }
          }
          return current === start ? start : refit(current);
        });
        const found: FoundEquation[] = [];
        const seenSets = new Set<string>();
        // a term refined or mutated into a near twin of a simpler one in the library is that simpler one
        // (x exp(|q| / 10000) is x): the law is stated in its simplest form, and pays that form's prior
        const simplest = (t: Term): Term => {
          const v = unitValues(t, cols, screen);
          if (!v) return t;
          const twin = twinOf(own, v);
          return twin >= 0 && own.terms[twin].complexity < t.complexity ? own.terms[twin] : t;
        };
        for (const found0 of extended) {
          const candidate = { ...found0, terms: [...new Set(found0.terms.map(simplest))] };
          if (!candidate.terms.every(allowedTerm)) continue;
          const key = candidate.terms
            .map((t) => keyOf(t.expr))
            .sort()
            .join(' + ');
          if (seenSets.has(key)) continue;
          seenSets.add(key);
          const fitted = decideCoefficients(
            candidate.terms,
            candidate.terms.map((t) => prior.get(t)!),
            cols,
            rows,
            component.rate,
            component.episode,
          );
          if (fitted)
            found.push({
              dim: d,
              terms: fitted.terms,
              score: candidate.score,
              bic: fitted.bic,
              prior: candidate.terms.reduce((sum, t) => sum + prior.get(t)!, 0),
            });
        }
        // ranked on all of the component's rows (the screening saw some episodes), each coefficient shared or per
        // episode
        return found.sort((a, b) => b.bic + b.prior - (a.bic + a.prior));
      };
      const found = rank();
      equations.set(d, found);
      // the rival: the best equation without the best one's main term (the term that moves the rate most, an
      // action's excepted), neither its form (whatever its constants) nor any twin of it. Laws that agree on the data
      // may part beyond it (a cubic and a saturating force that agree at the amplitudes seen); the rival's world lets
      // a forecast window outside the training range tell which holds (model.ts), and gives act() something to test
      const main = mainTerm(found[0], vars, cols, screen);
      if (main) {
        const form = keyOf(main.term.expr),
          n = main.unit.length;
        const rival = rank((t, v) => keyOf(t.expr) !== form && Math.abs(dot(v, main.unit)) <= n * NEAR_TWIN)[0];
        if (rival) rivals.set(d, rival);
      }
    }
  }
  for (const body of bodies) {
    if (body === representative) continue;
    const rows = rowsOf.get(body)!;
    if (rows.length < 4) continue;
    // the image of the representative's law: the two bodies swapped (a pull toward the other body turns round)
    const toBody = (v: number): Expr => {
      if (v >= vars.D) return variable(v);
      const b = Math.floor(v / k.fields),
        f = v % k.fields;
      return variable(b === representative ? body * k.fields + f : b === body ? representative * k.fields + f : v);
    };
    for (const [d0, found] of [...equations]) {
      if (Math.floor(d0 / k.fields) !== representative) continue;
      const d = body * k.fields + (d0 % k.fields);
      if (!k.dynamic.includes(d)) continue;
      const component = componentOf(d, rows);
      components.set(d, component);
      const images = found.flatMap((eq) => {
        const terms = eq.terms
          .filter((t) => variablesOf(t.term.expr).every((v) => v < vars.D))
          .map((t) => ({ ...t.term, expr: substitute(t.term.expr, toBody) }));
        const fitted = decideCoefficients(
          terms,
          terms.map(() => 0),
          cols,
          rows,
          component.rate,
          component.episode,
        );
        return fitted ? [{ dim: d, terms: fitted.terms, score: fitted.bic, bic: fitted.bic, prior: 0 }] : [];
      });
      equations.set(
        d,
        images.sort((a, b) => b.score - a.score),
      );
    }
  }
  const silent = Array.from({ length: vars.A }, (_, j) => vars.D + j).filter((v) => !varies(v));
  return { equations, rivals, components, columns: cols, silent, scored };
}
