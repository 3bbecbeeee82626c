// The terms an equation is built from, enumerated in order of complexity.
//
// Atoms are the quantities a law of one body may read: the body's components, the actions, and (for a body
// with two or more axes) the norms of its position and of its rate, |q| and |v|, and the softened norm
// hypot(|q|, eps) with a fitted eps; with other bodies always present, the differences of positions and the
// separations (softened too). A factor is an atom or one nonlinear function of an atom: abs, sqrt,
// square, cube, log, inv, a power from POWERS, or sin, cos, exp, tanh of the atom over a fitted scale. A term
// is a factor, a factor times or over an atom, or a factor times two atoms: enough for a restoring force -k x, a
// Duffing term x^3, a drag |v| v, a pendulum's sin(x / L), a force that saturates, tanh(x / L), an
// inverse-square pull x / (|q|^2 + eps^2)^(3/2), a product of a state and an action. Everything is enumerated
// by complexity (symbols in the expression, an atom counting as one, a fitted constant as one more) until the
// search's effort is spent; a term whose values on the data equal another's up to a factor is kept once, at its
// lowest complexity.
import { binary, constant, num, renumberConstants, unary, variable, type Expr, type UnaryOp } from './expression';
import type { Kinematics } from './kinematics';

export interface Term {
  expr: Expr;
  /** Initial values of the constants the expression reads (constant i of the term is constants[i]). */
  constants: number[];
  /** Symbols in the term (the prior's complexity). */
  complexity: number;
}

/** Literal exponents a factor may take (square and cube are unary operators; 1 is the atom itself). */
export const POWERS = [-3, -2, -1.5, -1, -0.5, 0.5, 1.5] as const;
const PLAIN_UNARY: readonly UnaryOp[] = ['abs', 'sqrt', 'square', 'cube', 'log', 'inv'];
const SCALED_UNARY: readonly UnaryOp[] = ['sin', 'cos', 'exp', 'tanh'];
/** Initial scales of sin, cos, exp, tanh (and softenings), as multiples of the atom's RMS over the data. */
const SCALE_GRID = [0.5, 1, 2] as const;
const SOFTENING_GRID = [0.05, 0.15, 0.4] as const;

/** The variables a law reads: the view's components (0..D-1), then the actions (D..D+A-1). */
export interface Variables {
  D: number;
  A: number;
  names: string[];
}

/** hypot over several expressions, as nested binary hypot nodes. */
function norm(parts: Expr[]): Expr {
  return parts.slice(1).reduce((acc, e) => binary('hypot', acc, e), parts[0]);
}

/**
 * The atoms a law of `body` may read, given the kinematics and which actions vary in the data; `rmsOf(d)` is component
 * d's RMS.
 */
export function atomsOf(
  k: Kinematics,
  vars: Variables,
  body: number,
  actions: readonly number[],
  rmsOf: (d: number) => number,
  others: readonly number[] = [],
): Term[] {
  const first = body * k.fields;
  const atoms: Term[] = [];
  for (let f = 0; f < k.fields; f++) {
    const d = first + f;
    if (!k.constant.includes(d)) atoms.push({ expr: variable(d), constants: [], complexity: 1 });
  }
  for (const j of actions) atoms.push({ expr: variable(vars.D + j), constants: [], complexity: 1 });
  const axes = k.axes[body] ?? [];
  if (axes.length >= 2) {
    const q = norm(axes.map((a) => variable(a.position)));
    const v = norm(axes.map((a) => variable(a.rate)));
    atoms.push({ expr: q, constants: [], complexity: 1 }, { expr: v, constants: [], complexity: 1 });
    // a softened norm: the scale below which a central law stops growing (fitted; initial from the data)
    const spread = Math.sqrt(axes.reduce((s, a) => s + rmsOf(a.position) ** 2, 0));
    for (const g of SOFTENING_GRID)
      atoms.push({ expr: binary('hypot', q, constant(0)), constants: [g * spread || g], complexity: 2 });
  }
  // bodies that act on this one: the differences of their positions along each axis, and their separation
  // (softened too), from which a pull between bodies is written
  for (const o of others) {
    const mine = k.axes[body] ?? [],
      theirs = k.axes[o] ?? [];
    const differences = mine.map((a, i) => binary('sub', variable(a.position), variable(theirs[i].position)));
    // (each a named quantity of the pair, as |q| is of the body: one symbol)
    for (const d of differences) atoms.push({ expr: d, constants: [], complexity: 1 });
    if (differences.length >= 2) {
      const r = norm(differences);
      atoms.push({ expr: r, constants: [], complexity: 1 });
      const spread = Math.sqrt(
        mine.reduce((s, a, i) => s + rmsOf(a.position) ** 2 + rmsOf(theirs[i].position) ** 2, 0),
      );
      for (const g of SOFTENING_GRID)
        atoms.push({ expr: binary('hypot', r, constant(0)), constants: [g * spread || g], complexity: 2 });
    }
  }
  return atoms;
}

/** The factors of one atom: itself, its plain unary functions, its powers, its scaled sin/cos/exp/tanh. */
function factorsOf(atom: Term, scale: number): Term[] {
  const out: Term[] = [atom];
  const c = atom.complexity;
  for (const op of PLAIN_UNARY) out.push({ expr: unary(op, atom.expr), constants: atom.constants, complexity: c + 1 });
  for (const p of POWERS)
    out.push({ expr: binary('pow', atom.expr, num(p)), constants: atom.constants, complexity: c + 1 });
  const k = atom.constants.length;
  for (const op of SCALED_UNARY)
    for (const g of SCALE_GRID)
      out.push({
        expr: unary(op, binary('div', atom.expr, constant(k))),
        constants: [...atom.constants, g * scale || g],
        complexity: c + 2,
      });
  return out;
}

/** Renumbers the constants of `b` after those of `a`, and multiplies or divides. */
function combine(op: 'mul' | 'div', a: Term, b: Term): Term {
  const shift = a.constants.length;
  const shifted = shift ? renumberConstants(b.expr, (i) => i + shift) : b.expr;
  return {
    expr: binary(op, a.expr, shifted),
    constants: [...a.constants, ...b.constants],
    complexity: a.complexity + b.complexity + 1,
  };
}

/**
 * Every term over the atoms (a factor; a factor times or over an atom; a factor times two atoms), of
 * complexity <= maxComplexity, sorted by complexity (ties in a fixed order). `scales` holds each atom's RMS
 * over the data (the initial scales of sin, cos, exp, tanh).
 */
export function enumerateTerms(atoms: readonly Term[], scales: readonly number[], maxComplexity: number): Term[] {
  const factors = atoms.flatMap((a, i) => factorsOf(a, scales[i]));
  const plain = atoms.filter((a) => a.constants.length === 0);
  const plainIndex = (t: Term) => plain.indexOf(t); // -1 unless the factor is a plain atom itself
  const out: Term[] = [];
  const keep = (t: Term) => t.complexity <= maxComplexity && out.push(t);
  for (const f of factors) {
    keep(f);
    const fi = plainIndex(f);
    plain.forEach((a, i) => {
      if (fi < 0 || fi <= i) keep(combine('mul', f, a)); // x y once, not also y x
      if (fi !== i) keep(combine('div', f, a));
      for (let j = i; j < plain.length; j++)
        if (fi < 0 || fi <= i) keep(combine('mul', combine('mul', f, a), plain[j]));
    });
  }
  // stable: the order of construction breaks ties
  return out
    .map((t, i) => ({ t, i }))
    .sort((a, b) => a.t.complexity - b.t.complexity || a.i - b.i)
    .map(({ t }) => t);
}
