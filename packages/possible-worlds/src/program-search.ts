// Enumerative search for the terms of per-instruction programs (program-dsl.ts), bottom-up in order of length
// as in DreamCoder's enumeration: every term of 1 node, then of 3, then of 5, ..., each evaluated on the
// instruction's examples. Terms that give the same values on every example are one candidate (observational
// equivalence: the shortest is kept), so the bank holds distinct behaviours, shortest first. A destination's
// term is the first term of the bank that reproduces its next values (the shortest, hence the most probable
// under a prior that pays per node); failing that, a conditional `if u ? v then a else b` whose branches each
// reproduce the examples the condition sends them (divide and conquer: the condition is searched over
// comparisons of leaves, the branches over the bank); failing that, the term with the fewest mismatches.
import { UNDEFINED, wrap, type Machine, type Term } from './program-dsl';

/** The examples of one instruction (or of every step, without a pointer). */
export interface Examples {
  n: number;
  D: number;
  W: number;
  x: Int32Array; // [n, D] the state before
  rows: Int32Array; // [n, W] the instruction's row
  next: Int32Array; // [n, D] the state after
}

/** Distinct behaviours, shortest first: terms, their node counts, and their values on every example [n]. */
export interface Bank {
  terms: Term[];
  sizes: number[];
  values: Int32Array[];
  /** Comparisons of leaves (for conditionals): the comparison and its truth on every example. */
  conditions: Array<{ cmp: '==' | '<'; u: Term; v: Term; truth: Uint8Array }>;
  /** Candidate terms evaluated (duplicates included): the search's effort spent. */
  scored: number;
}

/** FNV-1a over a value vector: the bucket of observational equivalence. */
function hashValues(v: Int32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v[i], 0x01000193);
  return h >>> 0;
}

function sameValues(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The leaves of the language on these examples: x_j, 0, 1, 2, c_k, r[c_k]. */
function leaves(ex: Examples, m: Machine, argColumns: readonly number[]): Array<{ term: Term; values: Int32Array }> {
  const out: Array<{ term: Term; values: Int32Array }> = [];
  const make = (term: Term, f: (t: number) => number) =>
    out.push({ term, values: Int32Array.from({ length: ex.n }, (_, t) => f(t)) });
  // the order breaks ties between terms of one length: the state, constants, then what the instruction names
  for (let j = 0; j < ex.D; j++) make({ op: 'x', j }, (t) => ex.x[t * ex.D + j]);
  for (const v of [0, 1, 2]) make({ op: 'k', v }, () => v);
  for (const c of argColumns) make({ op: 'c', c }, (t) => ex.rows[t * ex.W + c]);
  for (const c of argColumns)
    make({ op: 'r', c }, (t) => {
      const i = ex.rows[t * ex.W + c];
      return i >= 0 && i < m.registers.length ? ex.x[t * ex.D + m.registers[i]] : UNDEFINED;
    });
  return out;
}

/** Enumerates terms by length up to `cap` candidates, keeping one per behaviour; and the comparisons of leaves. */
export function enumerateTerms(ex: Examples, m: Machine, argColumns: readonly number[], cap: number): Bank {
  const bank: Bank = { terms: [], sizes: [], values: [], conditions: [], scored: 0 };
  const buckets = new Map<number, number[]>();
  const offer = (term: Term, size: number, values: Int32Array): void => {
    bank.scored++;
    if (values.every((v) => v === UNDEFINED)) return;
    const h = hashValues(values);
    const bucket = buckets.get(h);
    if (bucket?.some((i) => sameValues(bank.values[i], values))) return;
    if (bucket) bucket.push(bank.terms.length);
    else buckets.set(h, [bank.terms.length]);
    bank.terms.push(term);
    bank.sizes.push(size);
    bank.values.push(values);
  };
  const base = leaves(ex, m, argColumns);
  for (const l of base) offer(l.term, 1, l.values);
  // comparisons of leaves: u == v (each pair once) and u < v (both orders)
  for (let i = 0; i < base.length; i++)
    for (let j = 0; j < base.length; j++) {
      if (i === j) continue;
      for (const cmp of i < j ? (['==', '<'] as const) : (['<'] as const)) {
        const u = base[i].values,
          v = base[j].values;
        const truth = Uint8Array.from({ length: ex.n }, (_, t) =>
          u[t] !== UNDEFINED && v[t] !== UNDEFINED && (cmp === '==' ? u[t] === v[t] : u[t] < v[t]) ? 1 : 0,
        );
        bank.scored++;
        if (truth.some((b) => b) && truth.some((b) => !b))
          bank.conditions.push({ cmp, u: base[i].term, v: base[j].term, truth });
      }
    }
  // binary terms of 3, 5, 7, ... nodes from shorter ones; + and * are symmetric, so each pair is tried once
  const scratch = new Int32Array(ex.n);
  for (let size = 3; bank.scored < cap; size += 2) {
    const before = bank.scored;
    const bySize = (s: number) => bank.sizes.map((z, i) => (z === s ? i : -1)).filter((i) => i >= 0);
    for (let sa = 1; sa <= size - 2 && bank.scored < cap; sa += 2) {
      const sb = size - 1 - sa;
      const as = bySize(sa),
        bs = bySize(sb);
      for (const op of ['+', '-', '*'] as const) {
        const symmetric = op !== '-';
        if (symmetric && sa > sb) continue;
        for (const a of as)
          for (const b of bs) {
            if (bank.scored >= cap) break;
            if (symmetric && sa === sb && b < a) continue;
            const va = bank.values[a],
              vb = bank.values[b];
            for (let t = 0; t < ex.n; t++) {
              const x = va[t],
                y = vb[t];
              scratch[t] =
                x === UNDEFINED || y === UNDEFINED
                  ? UNDEFINED
                  : op === '+'
                    ? x + y
                    : op === '-'
                      ? x - y
                      : Math.imul(x, y);
            }
            offer({ op, a: bank.terms[a], b: bank.terms[b] }, size, scratch.slice());
          }
      }
    }
    if (bank.scored === before) break; // nothing left to combine
  }
  return bank;
}

/**
 * What a destination's term must reproduce: its next value on the examples that count, wrapped mod `modulus` (0: as
 * is).
 */
export interface Target {
  y: Int32Array;
  /** 1 where the example counts (its destination names a component). */
  care: Uint8Array;
  modulus: number;
}

export interface Found {
  term: Term;
  size: number;
  /** Examples that count where the term is wrong (0: exact). */
  mismatches: number;
}

function matches(values: Int32Array, target: Target, t: number): boolean {
  return !target.care[t] || (values[t] !== UNDEFINED && wrap(values[t], target.modulus) === target.y[t]);
}

/**
 * The shortest term of the bank that reproduces the target exactly; else the one scoring best (each mismatch costs
 * `mismatchCost` nats, each node `nodeCost`).
 */
export function bestTerm(bank: Bank, target: Target, mismatchCost: number, nodeCost: number): Found {
  let best: Found | null = null,
    bestScore = -Infinity;
  for (let i = 0; i < bank.terms.length; i++) {
    const v = bank.values[i];
    let wrong = 0;
    for (let t = 0; t < v.length; t++) if (!matches(v, target, t)) wrong++;
    if (wrong === 0) return { term: bank.terms[i], size: bank.sizes[i], mismatches: 0 };
    const score = -wrong * mismatchCost - bank.sizes[i] * nodeCost;
    if (score > bestScore) [best, bestScore] = [{ term: bank.terms[i], size: bank.sizes[i], mismatches: wrong }, score];
  }
  return best ?? { term: { op: 'k', v: 0 }, size: 1, mismatches: target.care.reduce((s, c) => s + c, 0) };
}

/**
 * The shortest exact conditional: a comparison of leaves, and for each of its outcomes the shortest term of the
 * bank exact on the examples it sends there; null when no comparison splits the examples so.
 */
export function bestConditional(bank: Bank, target: Target): Found | null {
  const n = target.y.length;
  // fits[i][t]: term i is right on example t (or the example does not count)
  const fits = bank.values.map((v) => Uint8Array.from({ length: n }, (_, t) => (matches(v, target, t) ? 1 : 0)));
  const firstExactOn = (truth: Uint8Array, want: number): number => {
    for (let i = 0; i < fits.length; i++) {
      const f = fits[i];
      let ok = true;
      for (let t = 0; t < n && ok; t++) if (truth[t] === want && !f[t]) ok = false;
      if (ok) return i;
    }
    return -1;
  };
  let best: Found | null = null;
  for (const c of bank.conditions) {
    const a = firstExactOn(c.truth, 1);
    if (a < 0) continue;
    const b = firstExactOn(c.truth, 0);
    if (b < 0) continue;
    const size = 4 + bank.sizes[a] + bank.sizes[b];
    if (!best || size < best.size)
      best = {
        term: { op: 'if', cmp: c.cmp, u: c.u, v: c.v, then: bank.terms[a], else: bank.terms[b] },
        size,
        mismatches: 0,
      };
  }
  return best;
}
