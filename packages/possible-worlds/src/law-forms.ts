// Law forms: the equations of every dynamic component together, with which coefficients they share, and the
// symmetry hypotheses that tie them.
//
// A symmetry is a renaming of variables under which the law keeps its form: the axes of a body (x <-> y, with
// the positions, the rates and the actions aligned to them swapped together), or the bodies of a view of
// alike bodies. Under a symmetry the equation of one component is the image of another's, with the same
// coefficients: a tied form states one equation where the untied states several, so its prior is higher (its
// images are free) and it has fewer coefficients; the data decide whether the tie holds (BIC of the stacked
// fit, mixed-regression.ts). Actions are aligned to the axis whose equation reads them; an action the data
// never varied (an expert that only pushed along x) is aligned to an axis no varied action claims.
//
// What the model assumes where its data is silent: an action the data never varied acts on the axis it is
// aligned to as its symmetric counterpart acts on its own (completeSilent): hidden-laws' expert never pushes
// along y, so the force along y is taken to move vy as the force along x moves vx, with the same coefficient.
import { keyOf, substitute, variable, variablesOf } from './expression';
import type { EquationSearchResult, FoundEquation } from './equation-search';
import type { Kinematics } from './kinematics';
import { fitMixed, type MixedCoefficient } from './mixed-regression';
import { termValues } from './term-library';
import type { Term, Variables } from './terms';

/** A term of a form; terms with one key share one coefficient (and the constants inside them). */
export interface FormTerm {
  term: Term;
  key: string;
  /** What stating this term costs the form's prior (0 for an image: the symmetry states it). */
  prior: number;
  /** Added by symmetry where the data is silent (it reads a variable that never varied). */
  silent?: boolean;
}

export interface LawForm {
  label: string;
  equations: Array<{ dim: number; terms: FormTerm[] }>;
  /** The log prior of the form: its source terms' priors (images are free), and the choice of symmetry. */
  prior: number;
  /** Coefficient keys held per episode whatever the data's test says (the data decide the others). */
  perEpisode?: ReadonlySet<string>;
}

export interface ScoredForm {
  form: LawForm;
  /** Stacked BIC of every group of tied components (the constants inside terms counted), plus the form's prior. */
  score: number;
  coefficients: Map<string, MixedCoefficient>;
  /** Every key's coefficient in an episode (its own there where it is per episode). */
  inEpisode(episode: number): Map<string, number>;
  /** A rival form: a component's law without the best law's main term (EquationSearchResult.rivals). */
  rival?: boolean;
}

/** A renaming of variables (image index per variable, -1 where it has none). */
export type VariableMap = Int32Array;

/** A symmetry hypothesis: orbits of dynamic components, and the renaming from any member of an orbit to another. */
export interface Symmetry {
  label: string;
  orbits: number[][];
  map(from: number, to: number): VariableMap;
}

/** The form of the best equation of every component, nothing tied. */
export function untiedForm(equations: readonly FoundEquation[], label = 'untied'): LawForm {
  return {
    label,
    equations: equations.map((eq) => ({
      dim: eq.dim,
      terms: eq.terms.map((t, j) => ({ term: t.term, key: `${eq.dim}.${j}`, prior: t.prior })),
    })),
    prior: equations.reduce((s, eq) => s + eq.prior, 0),
  };
}

/** The image of a term under a renaming, or null where it reads a variable without an image. */
function imageOf(term: Term, map: VariableMap): Term | null {
  if (variablesOf(term.expr).some((v) => map[v] < 0)) return null;
  return { ...term, expr: substitute(term.expr, (v) => variable(map[v])) };
}

/** Action alignment: per action variable, the dynamic component whose equation reads it most strongly (or -1). */
export function alignActions(
  form: LawForm,
  vars: Variables,
  columns: readonly Float64Array[],
  coefficients: Map<string, MixedCoefficient>,
): Int32Array {
  const out = new Int32Array(vars.A).fill(-1),
    strength = new Float64Array(vars.A);
  for (const eq of form.equations)
    for (const t of eq.terms)
      for (const v of variablesOf(t.term.expr)) {
        const j = v - vars.D;
        if (j < 0) continue;
        const rms = Math.sqrt(columns[v].reduce((s, x) => s + x * x, 0) / Math.max(columns[v].length, 1));
        const s = Math.abs((coefficients.get(t.key)?.coef ?? 0) * rms);
        if (s > strength[j]) [out[j], strength[j]] = [eq.dim, s];
      }
  return out;
}

/**
 * The symmetries a view's structure offers: its axes alike (every body with two or more axes; actions follow
 * their alignment), and its bodies alike (views of several bodies; actions have no image). `aligned[j]` is
 * the component action j is aligned to; `silent` the variables that never vary.
 */
export function symmetriesOf(
  k: Kinematics,
  vars: Variables,
  aligned: Int32Array,
  silent: readonly number[],
): Symmetry[] {
  const out: Symmetry[] = [];
  const { D, A } = vars;
  const axesPerBody = Math.min(...k.axes.map((a) => a.length));
  if (axesPerBody >= 2) {
    const axisOfRate = new Map<number, { body: number; axis: number }>();
    k.axes.forEach((axes, body) => axes.forEach((a, axis) => axisOfRate.set(a.rate, { body, axis })));
    const swap = (i: number, j: number): VariableMap => {
      const map = Int32Array.from({ length: D + A }, (_, v) => v);
      for (const axes of k.axes) {
        if (axes.length <= Math.max(i, j)) continue;
        for (const field of ['position', 'rate'] as const)
          [map[axes[i][field]], map[axes[j][field]]] = [axes[j][field], axes[i][field]];
      }
      // actions: one aligned to axis i goes to the one aligned to axis j (same body), or to a silent one; and back
      const free = silent.filter((v) => v >= D && aligned[v - D] < 0);
      const claimed = new Set<number>();
      for (let a = 0; a < A; a++) {
        const at = axisOfRate.get(aligned[a]);
        if (!at || (at.axis !== i && at.axis !== j)) continue;
        const otherAxis = at.axis === i ? j : i;
        const partner = Array.from({ length: A }, (_, b) => b).find((b) => {
          const bt = axisOfRate.get(aligned[b]);
          return bt && bt.body === at.body && bt.axis === otherAxis;
        });
        const target = partner !== undefined ? D + partner : free.find((v) => !claimed.has(v));
        if (target === undefined) {
          map[D + a] = -1;
          continue;
        }
        claimed.add(target);
        map[D + a] = target;
        if (partner === undefined) map[target] = D + a;
      }
      return map;
    };
    const orbits = k.axes.map((axes) => axes.map((a) => a.rate)).filter((o) => o.every((d) => k.dynamic.includes(d)));
    if (orbits.length)
      out.push({
        label: 'axes alike',
        orbits,
        map: (from, to) => swap(axisOfRate.get(from)!.axis, axisOfRate.get(to)!.axis),
      });
  }
  if (k.bodies >= 2) {
    const orbits = Array.from({ length: k.fields }, (_, f) =>
      Array.from({ length: k.bodies }, (_, b) => b * k.fields + f).filter((d) => k.dynamic.includes(d)),
    ).filter((o) => o.length >= 2);
    if (orbits.length)
      out.push({
        label: 'bodies alike',
        orbits,
        map: (from, to) => {
          const bf = Math.floor(from / k.fields),
            bt = Math.floor(to / k.fields);
          return Int32Array.from({ length: D + A }, (_, v) => {
            if (v >= D) return -1; // an action belongs to the body it acts on
            const b = Math.floor(v / k.fields),
              f = v % k.fields;
            return b === bf ? bt * k.fields + f : b === bt ? bf * k.fields + f : v;
          });
        },
      });
  }
  return out;
}

/**
 * The forms a symmetry offers from a base form: for each orbit, every member's equation in turn as the source,
 * its image given to the others with its coefficients (each member keeps its own terms that have no image
 * there, e.g. the action that kicks only ball 0). One form per choice of sources is too many; the source of
 * every orbit is chosen greedily, the best-scoring orbit by orbit.
 */
export function tiedForm(
  base: LawForm,
  symmetry: Symmetry,
  score: (form: LawForm) => number,
  symmetries: number,
  silent: readonly number[],
): LawForm {
  const silentSet = new Set(silent);
  let form: LawForm = { ...base, label: symmetry.label, prior: base.prior - Math.log(symmetries + 1) };
  for (const orbit of symmetry.orbits) {
    let best: LawForm | null = null,
      bestScore = -Infinity;
    for (const source of orbit) {
      const sourceEq = form.equations.find((e) => e.dim === source);
      if (!sourceEq) continue;
      let prior = form.prior;
      const equations = form.equations.map((eq) => {
        if (eq.dim === source || !orbit.includes(eq.dim)) return eq;
        const toTarget = symmetry.map(source, eq.dim),
          toSource = symmetry.map(eq.dim, source);
        const images = sourceEq.terms.flatMap((t) => {
          const image = imageOf(t.term, toTarget);
          return image
            ? [{ ...t, term: image, prior: 0, silent: variablesOf(image.expr).some((v) => silentSet.has(v)) }]
            : [];
        });
        // the member's own terms that the source's data cannot show stay (no image there, or an image that reads a
        // variable that never varied, like an action the expert never took along the source's axis); the rest it gave
        // up
        const own = eq.terms.filter((t) => {
          const image = imageOf(t.term, toSource);
          return !image || variablesOf(image.expr).some((v) => silentSet.has(v));
        });
        prior -= eq.terms.filter((t) => !own.includes(t)).reduce((s, t) => s + t.prior, 0);
        return { dim: eq.dim, terms: [...images, ...own] };
      });
      const candidate: LawForm = { ...form, equations, prior };
      const s = score(candidate);
      if (s > bestScore) [best, bestScore] = [candidate, s];
    }
    if (best) form = best;
  }
  return form;
}

/**
 * Where the data is silent: every term whose image under an axis symmetry reads a variable that never varied
 * (and so cannot be seen in the data) is given to the image component, with the same coefficient.
 */
export function completeSilent(form: LawForm, symmetries: readonly Symmetry[], silent: readonly number[]): LawForm {
  const silentSet = new Set(silent);
  const equations = form.equations.map((eq) => ({ dim: eq.dim, terms: [...eq.terms] }));
  for (const symmetry of symmetries.filter((s) => s.label === 'axes alike'))
    for (const orbit of symmetry.orbits)
      for (const from of orbit)
        for (const to of orbit) {
          if (from === to) continue;
          const source = equations.find((e) => e.dim === from),
            target = equations.find((e) => e.dim === to);
          if (!source || !target) continue;
          for (const t of source.terms) {
            if (t.silent) continue;
            const image = imageOf(t.term, symmetry.map(from, to));
            if (!image || !variablesOf(image.expr).some((v) => silentSet.has(v))) continue;
            if (target.terms.some((x) => keyOf(x.term.expr) === keyOf(image.expr))) continue;
            target.terms.push({ term: image, key: t.key, prior: 0, silent: true });
          }
        }
  return { ...form, equations };
}

/** The stacked fit of a form: tied components are fitted together (connected through shared keys). */
export function scoreForm(form: LawForm, search: EquationSearchResult): ScoredForm | null {
  // groups of components connected by shared keys
  const parent = new Map<number, number>();
  const find = (d: number): number => (parent.get(d) === d ? d : find(parent.get(d)!));
  for (const eq of form.equations) parent.set(eq.dim, eq.dim);
  const owner = new Map<string, number>();
  for (const eq of form.equations)
    for (const t of eq.terms) {
      const o = owner.get(t.key);
      if (o === undefined) owner.set(t.key, eq.dim);
      else parent.set(find(eq.dim), find(o));
    }
  const groups = new Map<number, number[]>();
  for (const eq of form.equations) groups.set(find(eq.dim), [...(groups.get(find(eq.dim)) ?? []), eq.dim]);
  let total = form.prior;
  const coefficients = new Map<string, MixedCoefficient>();
  const perGroup: Array<{ keys: string[]; inEpisode(e: number): Float64Array }> = [];
  for (const dims of groups.values()) {
    const keys = [...new Set(dims.flatMap((d) => form.equations.find((e) => e.dim === d)!.terms.map((t) => t.key)))];
    const parts = dims.map((d) => search.components.get(d)!).filter(Boolean);
    const n = parts.reduce((s, p) => s + p.rows.length, 0);
    const X = keys.map(() => new Float64Array(n));
    const y = new Float64Array(n),
      episode = new Int32Array(n);
    let at = 0;
    for (const d of dims) {
      const part = search.components.get(d);
      if (!part) continue;
      y.set(part.rate, at);
      episode.set(part.episode, at);
      for (const t of form.equations.find((e) => e.dim === d)!.terms) {
        const values = termValues(t.term, search.columns, part.rows);
        if (!values) return null;
        const column = X[keys.indexOf(t.key)];
        for (let i = 0; i < values.length; i++) column[at + i] += values[i];
      }
      at += part.rows.length;
    }
    const fit = fitMixed(
      X,
      y,
      episode,
      form.perEpisode && keys.map((key) => (form.perEpisode!.has(key) ? true : undefined)),
    );
    if (!fit) return null;
    // BIC's price of the constants inside the terms, once per key (tied terms share them)
    const constants = keys.reduce(
      (c, key) =>
        c +
        (dims.flatMap((d) => form.equations.find((e) => e.dim === d)!.terms).find((t) => t.key === key)?.term.constants
          .length ?? 0),
      0,
    );
    total += fit.bic - 0.5 * constants * Math.log(Math.max(n, 2));
    keys.forEach((key, a) => coefficients.set(key, fit.coefficients[a]));
    perGroup.push({ keys, inEpisode: fit.inEpisode });
  }
  const inEpisode = (e: number) =>
    new Map(
      perGroup.flatMap((g) => {
        const values = g.inEpisode(e);
        return g.keys.map((key, a) => [key, values[a]] as [string, number]);
      }),
    );
  return { form, score: total, coefficients, inEpisode };
}

/** A law form's terms and their coefficients' keys, component by component: equal for the same law. */
export const formKey = (form: LawForm): string =>
  form.equations.map((eq) => eq.terms.map((t) => `${keyOf(t.term.expr)}:${t.key}`).join('+')).join(';');

/** Each component's runners-up tried in a law form (one at a time). */
const RIVALS_PER_COMPONENT = 1;

/**
 * The law forms worth fitting through the integrator, best first by their stacked score: the best equation of
 * every component; each component's runner-up in turn; every symmetry's tied form (and all of them together);
 * each completed where the data is silent. Then, marked `rival`, each component's rival in turn.
 */
export function candidateForms(search: EquationSearchResult, kinematics: Kinematics, vars: Variables): ScoredForm[] {
  const dims = [...search.equations.keys()].sort((a, b) => a - b).filter((d) => search.equations.get(d)!.length);
  const best = dims.map((d) => search.equations.get(d)![0]);
  const base = untiedForm(best);
  const scoredBase = scoreForm(base, search);
  if (!scoredBase) return [];
  const aligned = alignActions(base, vars, search.columns, scoredBase.coefficients);
  const symmetries = symmetriesOf(kinematics, vars, aligned, search.silent);
  const forms: LawForm[] = [base];
  for (const d of dims)
    for (const rival of search.equations.get(d)!.slice(1, 1 + RIVALS_PER_COMPONENT))
      forms.push(
        untiedForm(
          best.map((eq) => (eq.dim === d ? rival : eq)),
          `untied, rival for ${vars.names[d]}`,
        ),
      );
  const score = (form: LawForm) =>
    scoreForm(completeSilent(form, symmetries, search.silent), search)?.score ?? -Infinity;
  let allTied = base;
  for (const symmetry of symmetries) {
    forms.push(tiedForm(base, symmetry, score, symmetries.length, search.silent));
    allTied = tiedForm(allTied, symmetry, score, symmetries.length, search.silent);
  }
  if (symmetries.length > 1) forms.push({ ...allTied, label: symmetries.map((s) => s.label).join(', ') });
  const scored = forms
    .map((f) => scoreForm(completeSilent(f, symmetries, search.silent), search))
    .filter((f): f is ScoredForm => f !== null);
  const unique = new Map<string, ScoredForm>();
  for (const f of scored) {
    const key = formKey(f.form);
    if (!unique.has(key) || unique.get(key)!.score < f.score) unique.set(key, f);
  }
  const ranked = [...unique.values()].sort((a, b) => b.score - a.score);
  // the best form again with every coefficient that does not scale an action per episode: a parameter whose
  // variation over episodes the training data shows only faintly (a damping at low speeds) may still vary, and
  // the integrated law's evidence, not the screening's test, decides
  const top = ranked[0];
  if (top) {
    const reads = (t: FormTerm) => variablesOf(t.term.expr).some((v) => v >= vars.D);
    const keys = new Set(top.form.equations.flatMap((eq) => eq.terms.filter((t) => !reads(t)).map((t) => t.key)));
    const freed = [...keys].some((key) => !top.coefficients.get(key)!.perEpisode)
      ? scoreForm({ ...top.form, label: `${top.form.label}, per episode`, perEpisode: keys }, search)
      : null;
    if (freed) ranked.splice(1, 0, freed);
  }
  // the rivals, after the ranked forms: they are fitted for where they part from the best law, not for their score
  for (const d of dims) {
    const rival = search.rivals.get(d);
    const form =
      rival &&
      untiedForm(
        best.map((eq) => (eq.dim === d ? rival : eq)),
        `without the main term of ${vars.names[d]}`,
      );
    const scoredRival = form && scoreForm(completeSilent(form, symmetries, search.silent), search);
    if (scoredRival) ranked.push({ ...scoredRival, rival: true });
  }
  return ranked;
}
