// A law the equation search found, as a parametric law family: a flow dx/dt = f(x, a; theta) integrated over
// each step (classic Runge-Kutta, SUBSTEPS per step), with
//   positions:   dq/dt = scale * p          (the kinematics read off the data)
//   dynamic:     dx_d/dt = sum_j theta_dj term_dj(x, a; constants)
//   constant:    dx_d/dt = 0
// Its parameters are the terms' coefficients (each shared or per episode, as the search decided) and the
// constants inside the terms (shared). The family is fitted, scored and forecast like any other (law-family.ts).
import type { LawFamily, ParameterSpec, Transition } from '@worldbench/core';
import type { ScoredForm } from './law-forms';
import { binary, compileMany, constant, renumberConstants, show, substitute, variable, type Expr } from './expression';
import type { Kinematics } from './kinematics';
import type { Variables } from './terms';

/** Runge-Kutta substeps per step. */
export const SUBSTEPS = 4;

/** What a discovered law is made of: enough to rebuild it (save -> load) and to print it. */
export interface LawDescription {
  kinematics: Kinematics;
  variables: Variables;
  /** Per dynamic component, its terms: expression (constants numbered into `parameters`), coefficient parameter. */
  equations: Array<{ dim: number; terms: Array<{ expr: Expr; coefficient: number; silent: boolean }> }>;
  parameters: ParameterSpec[];
  /** The log prior of the law's form (the search's prior of its terms). */
  logPrior: number;
  /** Which symmetry ties it ('untied', 'axes alike', ...). */
  label: string;
  /** Positions read relative to a fitted centre: each such component and the parameter holding its centre. */
  origin: Array<{ dim: number; parameter: number }>;
  /** The parameter of each coefficient key of the form it was described from. */
  keys: Record<string, number>;
}

/**
 * The description of a law from a scored form: one parameter per coefficient key (terms that share a key share
 * it) and per constant inside a key's term. A coefficient's prior range: for a per-episode one, its estimate
 * +- 2 of its spread over episodes (at least 10% of the estimate), the spread the in-context inference starts
 * from; for a shared one, its estimate +- its own magnitude. A constant inside a term: +- its initial value.
 */
export function describeLaw(
  k: Kinematics,
  vars: Variables,
  scored: ScoredForm,
  centre: Float64Array | null = null,
): LawDescription {
  const parameters: ParameterSpec[] = [];
  // a centre the positions are read from: one shared parameter per axis (every body's position on it reads it)
  const origin: LawDescription['origin'] = [];
  if (centre)
    k.axes[0]?.forEach((_, axis) => {
      const value = centre[k.axes[0][axis].position];
      if (value === 0) return;
      const half = Math.max(0.5 * Math.abs(value), 0.1);
      const parameter = parameters.length;
      parameters.push({
        name: `centre.${vars.names[k.axes[0][axis].position]}`,
        range: [value - half, value + half],
        perEpisode: false,
        doc: 'the point the law is centred on, along this axis',
      });
      for (const body of k.axes) origin.push({ dim: body[axis].position, parameter });
    });
  const byKey = new Map<string, { coefficient: number; firstConstant: number }>();
  const equations = scored.form.equations.map((eq) => ({
    dim: eq.dim,
    terms: eq.terms.map((t) => {
      let at = byKey.get(t.key);
      if (!at) {
        const c = scored.coefficients.get(t.key)!;
        const half = c.perEpisode
          ? Math.max(2 * c.spread, 0.1 * Math.abs(c.coef), 1e-6)
          : Math.max(Math.abs(c.coef), 1e-6);
        const name = `${vars.names[eq.dim]}.${t.key.split('.').pop()}`;
        at = { coefficient: parameters.length, firstConstant: parameters.length + 1 };
        parameters.push({
          name,
          range: [c.coef - half, c.coef + half],
          perEpisode: c.perEpisode,
          doc: `coefficient of ${show(t.term.expr, vars.names, t.term.constants)} in d${vars.names[eq.dim]}/dt`,
        });
        t.term.constants.forEach((value, i) => {
          const width = Math.max(Math.abs(value), 1e-3);
          parameters.push({
            name: `${name}.c${i}`,
            range: [value - width, value + width],
            perEpisode: false,
            doc: 'a constant inside the term',
          });
        });
        byKey.set(t.key, at);
      }
      const first = at.firstConstant;
      return {
        expr: renumberConstants(t.term.expr, (i) => first + i),
        coefficient: at.coefficient,
        silent: t.silent === true,
      };
    }),
  }));
  return {
    kinematics: k,
    variables: vars,
    equations,
    parameters,
    logPrior: scored.form.prior,
    label: scored.form.label,
    origin,
    keys: Object.fromEntries([...byKey].map(([key, at]) => [key, at.coefficient])),
  };
}

/** A term's expression in the view's own coordinates: a centred position q read as q - centre. */
function uncentred(law: LawDescription, e: Expr): Expr {
  if (!law.origin.length) return e;
  const centreOf = new Map(law.origin.map((o) => [o.dim, o.parameter]));
  return substitute(e, (v) => (centreOf.has(v) ? binary('sub', variable(v), constant(centreOf.get(v)!)) : variable(v)));
}

/** The right-hand side dx/dt of the flow, compiled: f(x ++ a, theta, out [D]). */
function rightHandSide(
  law: LawDescription,
): (v: Float64Array, theta: ArrayLike<number>, out: Float64Array) => Float64Array {
  const { D } = law.variables;
  const zero: Expr = { kind: 'num', value: 0 };
  const rhs: Expr[] = Array.from({ length: D }, () => zero);
  for (const pair of law.kinematics.axes.flat())
    rhs[pair.position] = binary('mul', { kind: 'num', value: pair.scale }, { kind: 'var', index: pair.rate });
  for (const eq of law.equations)
    rhs[eq.dim] = eq.terms.reduce<Expr>((sum, t, j) => {
      const product = binary('mul', constant(t.coefficient), uncentred(law, t.expr));
      return j === 0 ? product : binary('add', sum, product);
    }, zero);
  return compileMany(rhs);
}

/** One step of the flow from x with action a under theta: RK4 over dt in SUBSTEPS substeps. */
function integrator(law: LawDescription) {
  const f = rightHandSide(law);
  const { D, A } = law.variables;
  const h = law.kinematics.dt / SUBSTEPS;
  const v = new Float64Array(D + A);
  const k1 = new Float64Array(D),
    k2 = new Float64Array(D),
    k3 = new Float64Array(D),
    k4 = new Float64Array(D);
  const at = (x: Float64Array, k: Float64Array | null, w: number, out: Float64Array) => {
    for (let d = 0; d < D; d++) v[d] = k ? x[d] + w * k[d] : x[d];
    return f(v, theta, out);
  };
  let theta: ArrayLike<number> = [];
  return (x0: ArrayLike<number>, action: ArrayLike<number> | null, params: ArrayLike<number>): Float64Array => {
    theta = params;
    const x = Float64Array.from(x0);
    for (let j = 0; j < A; j++) v[D + j] = action ? action[j] : 0;
    for (let s = 0; s < SUBSTEPS; s++) {
      at(x, null, 0, k1);
      at(x, k1, h / 2, k2);
      at(x, k2, h / 2, k3);
      at(x, k3, h, k4);
      for (let d = 0; d < D; d++) x[d] += (h / 6) * (k1[d] + 2 * k2[d] + 2 * k3[d] + k4[d]);
    }
    return x;
  };
}

/** The law as readable equations: one line per component that moves, constants as fitted. */
export function lawStatement(law: LawDescription, theta: ArrayLike<number>): string {
  const names = law.variables.names;
  const lines: string[] = [];
  for (const pair of law.kinematics.axes.flat())
    lines.push(
      `d${names[pair.position]}/dt = ` +
        `${Math.abs(pair.scale - 1) < 1e-9 ? '' : `${pair.scale.toPrecision(4)} `}${names[pair.rate]}`,
    );
  for (const eq of law.equations) {
    const terms = eq.terms.map((t) => {
      const c = theta[t.coefficient];
      const p = law.parameters[t.coefficient];
      const body = show(uncentred(law, t.expr), names, theta);
      const sign = c < 0 ? '- ' : '+ ';
      const scope = p.perEpisode ? '[per episode]' : '';
      const assumed = t.silent ? ' (assumed by symmetry: the data never varied it)' : '';
      return `${sign}${Math.abs(c).toPrecision(3)}${scope} ${body === '1' ? '' : body}${assumed}`.trim();
    });
    lines.push(`d${names[eq.dim]}/dt = ${terms.join(' ').replace(/^\+ /, '') || '0'}`);
  }
  return `${lines.join('; ')} (dt = ${law.kinematics.dt.toPrecision(4)} per step)`;
}

/** The discovered law as a LawFamily (`id` names it among its rivals). */
export function lawFamily(id: string, law: LawDescription): LawFamily {
  const step = integrator(law);
  return {
    kind: 'family',
    id,
    statement: lawStatement(
      law,
      law.parameters.map((p) => (p.range[0] + p.range[1]) / 2),
    ),
    parameters: law.parameters,
    predict: (params, t: Transition) => step(t.current, t.action, params),
  };
}
