// The language per-instruction programs are written in: a program is a few writes, each a destination and a
// term, evaluated on the state before the step (so `r[c1] := r[c2]; r[c2] := r[c1]` swaps). The state is a
// vector of integers x0..x{D-1}; one of them may be the pointer p that selects the instruction (the row of a
// program table); the others are the registers r[0..], read and written directly or through an argument of the
// instruction (r[c1]: the register the row's column 1 names). Register writes wrap mod M (the machine's word,
// found by search; none: they do not wrap); the pointer does not wrap.
//
//   term := x_j | r[c_k] | c_k | 0 | 1 | 2 | term + term | term - term | term * term
//         | if u == v then term else term | if u < v then term else term      (u, v: leaves)
//   dest := x_j | r[c_k]
// A term that reads a register through an argument naming no register is undefined, and its write is skipped.

/** Marks an undefined value (a register read through an argument that names none). */
export const UNDEFINED = -2147483648;

export type Term =
  | { op: 'x'; j: number }
  | { op: 'r'; c: number }
  | { op: 'c'; c: number }
  | { op: 'k'; v: number }
  | { op: '+' | '-' | '*'; a: Term; b: Term }
  | { op: 'if'; cmp: '==' | '<'; u: Term; v: Term; then: Term; else: Term };

export type Dest = { kind: 'x'; j: number } | { kind: 'r'; c: number };

export interface Write {
  dest: Dest;
  term: Term;
}

/** What an instruction's program reads: the state, its row, and which components are the pointer and the registers. */
export interface Machine {
  /** The pointer component, or -1 when there is none (one program for every step). */
  pointer: number;
  /** The register components, in order: r[i] is x_{registers[i]}. */
  registers: number[];
  /** Register writes wrap mod this (0: they do not wrap). */
  modulus: number;
}

/** Nodes of a term: its length in the enumeration's order (the description length counts nodes). */
export function termSize(t: Term): number {
  switch (t.op) {
    case 'x':
    case 'r':
    case 'c':
    case 'k':
      return 1;
    case 'if':
      return 2 + termSize(t.u) + termSize(t.v) + termSize(t.then) + termSize(t.else);
    default:
      return 1 + termSize(t.a) + termSize(t.b);
  }
}

/** The value of a term for one step: state x, instruction row, machine. */
export function evaluate(t: Term, x: ArrayLike<number>, row: ArrayLike<number>, m: Machine): number {
  switch (t.op) {
    case 'x':
      return x[t.j];
    case 'k':
      return t.v;
    case 'c':
      return row[t.c];
    case 'r': {
      const i = row[t.c];
      return Number.isInteger(i) && i >= 0 && i < m.registers.length ? x[m.registers[i]] : UNDEFINED;
    }
    case 'if': {
      const u = evaluate(t.u, x, row, m),
        v = evaluate(t.v, x, row, m);
      if (u === UNDEFINED || v === UNDEFINED) return UNDEFINED;
      return (t.cmp === '==' ? u === v : u < v) ? evaluate(t.then, x, row, m) : evaluate(t.else, x, row, m);
    }
    default: {
      const a = evaluate(t.a, x, row, m),
        b = evaluate(t.b, x, row, m);
      if (a === UNDEFINED || b === UNDEFINED) return UNDEFINED;
      return t.op === '+' ? a + b : t.op === '-' ? a - b : a * b;
    }
  }
}

/** The component a destination names for this row, or -1 when it names none. */
export function destination(d: Dest, row: ArrayLike<number>, m: Machine): number {
  if (d.kind === 'x') return d.j;
  const i = row[d.c];
  return Number.isInteger(i) && i >= 0 && i < m.registers.length ? m.registers[i] : -1;
}

/** v reduced into the registers' word: mod M, or as it is when registers do not wrap. */
export function wrap(v: number, modulus: number): number {
  return modulus > 0 ? ((v % modulus) + modulus) % modulus : v;
}

/**
 * One step of a program: every term on the old state, then the writes in order (a later write to the same component
 * wins).
 */
export function runProgram(
  writes: readonly Write[],
  x: ArrayLike<number>,
  row: ArrayLike<number>,
  m: Machine,
  out: Float64Array,
): void {
  for (let j = 0; j < out.length; j++) out[j] = x[j];
  const values = writes.map((w) => evaluate(w.term, x, row, m));
  writes.forEach((w, i) => {
    const j = destination(w.dest, row, m);
    if (j < 0 || values[i] === UNDEFINED) return;
    out[j] = j === m.pointer ? values[i] : wrap(values[i], m.modulus);
  });
}

/** A term as text: x0, r[c1], c2, (x0 + 1), if r[c1] == 0 then c2 else (x0 + 1). The pointer reads as p. */
export function showTerm(t: Term, m: Machine): string {
  switch (t.op) {
    case 'x':
      return t.j === m.pointer ? 'p' : `x${t.j}`;
    case 'r':
      return `r[c${t.c}]`;
    case 'c':
      return `c${t.c}`;
    case 'k':
      return String(t.v);
    case 'if': {
      // an equality reads with its constant on the right (r[c1] == 0)
      const [u, v] = t.cmp === '==' && t.u.op === 'k' ? [t.v, t.u] : [t.u, t.v];
      return `if ${showTerm(u, m)} ${t.cmp} ${showTerm(v, m)} then ${showTerm(t.then, m)} else ${showTerm(t.else, m)}`;
    }
    default:
      return `(${showTerm(t.a, m)} ${t.op} ${showTerm(t.b, m)})`;
  }
}

export function showDest(d: Dest, m: Machine): string {
  return d.kind === 'r' ? `r[c${d.c}]` : d.j === m.pointer ? 'p' : `x${d.j}`;
}

/** A program as text, e.g. "r[c1] := (r[c1] + r[c2]); p := (p + 1)"; "no change" for none. */
export function showProgram(writes: readonly Write[], m: Machine): string {
  return writes.length
    ? writes.map((w) => `${showDest(w.dest, m)} := ${showTerm(w.term, m).replace(/^\((.*)\)$/, '$1')}`).join('; ')
    : 'no change';
}
