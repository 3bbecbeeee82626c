// Expressions of the equation search: trees over variables, fitted constants and literal numbers, with the
// operators +, -, *, /, pow, hypot, and abs, sqrt, square, cube, sin, cos, exp, tanh, log, inv. A law found by the
// search is a sum of such terms, each times a coefficient (search.ts). An expression is printed for people,
// keyed for deduplication, and compiled to a plain JS function for speed (it is evaluated millions of times).
//
// Every operator is total: sqrt and log read |x| (log(|x| + 1e-12)), inv and div give a non-finite value at 0
// that the search treats as "this term cannot explain the data" (it is dropped, never patched).

export type UnaryOp = 'abs' | 'sqrt' | 'square' | 'cube' | 'sin' | 'cos' | 'exp' | 'tanh' | 'log' | 'inv';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'hypot';

export type Expr =
  /** A variable of the row the law reads (a state component, an action component). */
  | { kind: 'var'; index: number }
  /** A fitted constant of the law: constants[index]. */
  | { kind: 'const'; index: number }
  /** A literal number (an exponent, a fixed softening). */
  | { kind: 'num'; value: number }
  | { kind: 'unary'; op: UnaryOp; arg: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr };

export const variable = (index: number): Expr => ({ kind: 'var', index });
export const constant = (index: number): Expr => ({ kind: 'const', index });
export const num = (value: number): Expr => ({ kind: 'num', value });
export const unary = (op: UnaryOp, arg: Expr): Expr => ({ kind: 'unary', op, arg });
export const binary = (op: BinaryOp, left: Expr, right: Expr): Expr => ({ kind: 'binary', op, left, right });

/** Indices of the leaves of one kind the expression reads, sorted, each once. */
function leaves(e: Expr, kind: 'var'): number[] {
  const seen = new Set<number>();
  const walk = (x: Expr): void => {
    if (x.kind === kind) seen.add(x.index);
    else if (x.kind === 'unary') walk(x.arg);
    else if (x.kind === 'binary') walk(x.left), walk(x.right);
  };
  walk(e);
  return [...seen].sort((a, b) => a - b);
}

/** Indices of the variables the expression reads (sorted, each once). */
export const variablesOf = (e: Expr): number[] => leaves(e, 'var');

/** The expression with every variable i replaced by f(i) (a renaming) or by an expression. */
export function substitute(e: Expr, f: (index: number) => Expr): Expr {
  switch (e.kind) {
    case 'var':
      return f(e.index);
    case 'unary':
      return unary(e.op, substitute(e.arg, f));
    case 'binary':
      return binary(e.op, substitute(e.left, f), substitute(e.right, f));
    default:
      return e;
  }
}

/** The expression with every fitted constant i renumbered to f(i). */
export function renumberConstants(e: Expr, f: (index: number) => number): Expr {
  switch (e.kind) {
    case 'const':
      return constant(f(e.index));
    case 'unary':
      return unary(e.op, renumberConstants(e.arg, f));
    case 'binary':
      return binary(e.op, renumberConstants(e.left, f), renumberConstants(e.right, f));
    default:
      return e;
  }
}

/** A canonical string of the tree (constants by index): equal keys, equal expressions. */
export function keyOf(e: Expr): string {
  switch (e.kind) {
    case 'var':
      return `v${e.index}`;
    case 'const':
      return `c${e.index}`;
    case 'num':
      return String(e.value);
    case 'unary':
      return `${e.op}(${keyOf(e.arg)})`;
    case 'binary':
      return `${e.op}(${keyOf(e.left)},${keyOf(e.right)})`;
  }
}

const fmtNumber = (v: number) => (Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString());

/** Readable infix form: names of the variables, and the constants' values (or c0, c1, ... without them). */
export function show(e: Expr, names: readonly string[], constants?: ArrayLike<number>): string {
  const paren = (x: Expr) =>
    x.kind === 'binary' && x.op !== 'pow' && x.op !== 'hypot'
      ? `(${show(x, names, constants)})`
      : show(x, names, constants);
  switch (e.kind) {
    case 'var':
      return names[e.index] ?? `v${e.index}`;
    case 'const':
      return constants ? fmtNumber(constants[e.index]) : `c${e.index}`;
    case 'num':
      return fmtNumber(e.value);
    case 'unary':
      if (e.op === 'square') return `${paren(e.arg)}^2`;
      if (e.op === 'cube') return `${paren(e.arg)}^3`;
      if (e.op === 'inv') return `1/${paren(e.arg)}`;
      if (e.op === 'abs') return `|${show(e.arg, names, constants)}|`;
      return `${e.op}(${show(e.arg, names, constants)})`;
    case 'binary': {
      if (e.op === 'pow') {
        const negative = e.right.kind === 'num' && e.right.value < 0;
        return `${paren(e.left)}^${negative ? `(${show(e.right, names, constants)})` : paren(e.right)}`;
      }
      if (e.op === 'hypot') return `hypot(${show(e.left, names, constants)}, ${show(e.right, names, constants)})`;
      // x - (-0.3) reads x + 0.3
      const value =
        e.right.kind === 'num' ? e.right.value : e.right.kind === 'const' && constants ? constants[e.right.index] : NaN;
      if ((e.op === 'sub' || e.op === 'add') && value < 0)
        return `${paren(e.left)} ${e.op === 'sub' ? '+' : '-'} ${fmtNumber(-value)}`;
      const symbol = { add: '+', sub: '-', mul: ' ', div: '/' }[e.op];
      return `${paren(e.left)}${e.op === 'mul' ? ' ' : ` ${symbol} `}${paren(e.right)}`.replace('  ', ' ');
    }
  }
}

/** JS source of the expression over `v` (variables) and `c` (constants). */
function source(e: Expr): string {
  switch (e.kind) {
    case 'var':
      return `v[${e.index}]`;
    case 'const':
      return `c[${e.index}]`;
    case 'num':
      return `(${e.value})`;
    case 'unary': {
      const a = source(e.arg);
      switch (e.op) {
        case 'abs':
          return `Math.abs(${a})`;
        case 'sqrt':
          return `Math.sqrt(Math.abs(${a}))`;
        case 'square':
          return `((t = ${a}), t * t)`;
        case 'cube':
          return `((t = ${a}), t * t * t)`;
        case 'sin':
          return `Math.sin(${a})`;
        case 'cos':
          return `Math.cos(${a})`;
        case 'exp':
          return `Math.exp(${a})`;
        case 'tanh':
          return `Math.tanh(${a})`;
        case 'log':
          return `Math.log(Math.abs(${a}) + 1e-12)`;
        case 'inv':
          return `(1 / (${a}))`;
      }
      break;
    }
    case 'binary': {
      const l = source(e.left),
        r = source(e.right);
      switch (e.op) {
        case 'add':
          return `(${l} + ${r})`;
        case 'sub':
          return `(${l} - ${r})`;
        case 'mul':
          return `(${l} * ${r})`;
        case 'div':
          return `(${l} / ${r})`;
        case 'pow':
          return `Math.pow(Math.abs(${l}), ${r})`;
        case 'hypot':
          return `Math.sqrt(${l} * ${l} + ${r} * ${r})`;
      }
    }
  }
  throw new Error(`expression: unknown node ${JSON.stringify(e)}`);
}

/** f(variables, constants) -> value. pow reads |base| (a real power of a negative base is not a real number). */
export type Compiled = (v: ArrayLike<number>, c: ArrayLike<number>) => number;

const compiledCache = new Map<string, Compiled>();

/** Compiles an expression to a JS function (generated from the tree alone: no outside text reaches it). */
export function compile(e: Expr): Compiled {
  const key = keyOf(e);
  let f = compiledCache.get(key);
  if (!f) {
    f = new Function('v', 'c', `let t; return ${source(e)};`) as Compiled;
    if (compiledCache.size > 50_000) compiledCache.clear();
    compiledCache.set(key, f);
  }
  return f;
}

/**
 * Compiles several expressions into one function writing out[i] = e_i(v, c): the right-hand side of a whole
 * law in one call (a rollout evaluates it at every substep of every step).
 */
export function compileMany(
  es: readonly Expr[],
): (v: ArrayLike<number>, c: ArrayLike<number>, out: Float64Array) => Float64Array {
  const body = es.map((e, i) => `out[${i}] = ${source(e)};`).join('\n');
  return new Function('v', 'c', 'out', `let t;\n${body}\nreturn out;`) as (
    v: ArrayLike<number>,
    c: ArrayLike<number>,
    out: Float64Array,
  ) => Float64Array;
}
