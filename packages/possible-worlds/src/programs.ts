// Program induction for int/token state views with a program context (a table of instructions, one row each):
// the state update of each instruction as a short program (program-dsl.ts), found by enumeration in order of
// length and ranked by evidence (program-search.ts), as in DreamCoder's enumerative search and WorldCoder's
// program world models. What the search decides, from the data alone:
//   layout    which context tensor is the program, which state component points at the executing row (or none),
//             and which column of a row names the instruction (its opcode; the other columns are its arguments).
//             Screened by how well each layout's opcode predicts which components change; the best LAYOUTS are
//             searched in full and compete as candidate worlds
//   modulus   the word of the registers, M (writes wrap mod M) or none: the one under which the most register
//             writes have an exact term
//   programs  per opcode, the writes that explain every change its examples show, each destination's shortest
//             term (plain, else conditional, else the least wrong); the set of writes by description length
// Evidence: log p(data | programs) with each component right with probability 1 - ERROR, minus the programs'
// description length (nats per node, per destination, per write). An instruction never seen in training (or
// a pointer beyond the table, whose row is undefined: writes that read its arguments are skipped) runs the most
// probable program over all instructions: the learned program (or no change) that explains the most components
// of every training step; the world counts each such step (details().answered).
// Effort: the terms each instruction's enumeration may score (the effort shared out over layouts and
// instructions); the leaves, the comparisons of leaves and the sets of writes are scored whatever it is.
import { isCategorical, type ScenarioSpec } from '@worldbench/core';
import type { DiscreteTransitions } from './discrete-data';
import type { StepFn } from './filter';
import { OutcomeTable } from './outcome-tables';
import { UNDEFINED, runProgram, showProgram, type Dest, type Machine, type Write } from './program-dsl';
import { bestConditional, bestTerm, enumerateTerms, type Examples, type Found, type Target } from './program-search';
import type { CandidateWorld } from './worlds';

/**
 * The probability that one component of one observed step disagrees with the true program (keeps the evidence finite).
 */
export const ERROR = 1e-3;
/** Layouts searched in full after the screen. */
export const LAYOUTS = 2;
/** Writes a program may hold. */
export const MAX_WRITES = 3;

/** Where the program is and how it is read. */
export interface Layout {
  context: string;
  /** Rows and columns of the program table. */
  L: number;
  W: number;
  /** The state component that points at the executing row, or -1 (one program for every step). */
  pointer: number;
  /** The column of a row that names its instruction. */
  opColumn: number;
}

/** The key of an instruction beyond the table (a pointer past its last row). */
export const BEYOND = -1;

/**
 * The executing instruction's key (its opcode, BEYOND, or 0 without a pointer) and row. Beyond the table there
 * is no instruction: its row is undefined, so a program reading its arguments skips those writes.
 */
function instruction(layout: Layout, table: ArrayLike<number>, x: ArrayLike<number>, row: Int32Array): number {
  row.fill(UNDEFINED);
  if (layout.pointer < 0) return 0;
  const p = Math.round(x[layout.pointer]);
  if (!(p >= 0 && p < layout.L)) return BEYOND;
  for (let c = 0; c < layout.W; c++) row[c] = Math.round(table[p * layout.W + c]);
  return row[layout.opColumn];
}

/** The rank-2 categorical context tensors of a spec: the tables a program may be read from. */
export function programContexts(spec: ScenarioSpec): string[] {
  return Object.entries(spec.context ?? {})
    .filter(([, t]) => isCategorical(t) && t.shape.length === 2)
    .map(([k]) => k);
}

/**
 * Every layout the data allow: each program context, each component whose values all index a row (or none), each
 * column.
 */
function layouts(spec: ScenarioSpec, data: DiscreteTransitions): Layout[] {
  const out: Layout[] = [];
  for (const context of programContexts(spec)) {
    const [L, W] = spec.context![context].shape;
    const pointers = [-1];
    for (let j = 0; j < data.D; j++) {
      let ok = true;
      for (let t = 0; t < data.n && ok; t++) {
        const v = data.cur[t * data.D + j];
        ok = v >= 0 && v <= L;
      }
      if (ok) pointers.push(j);
    }
    for (const pointer of pointers)
      for (let opColumn = 0; opColumn < W; opColumn++) out.push({ context, L, W, pointer, opColumn });
  }
  return out;
}

/**
 * The screen: log evidence of which components change, given the instruction's opcode under a layout (a
 * Dirichlet-multinomial table, outcome-tables.ts). The same outcomes for every layout, so the scores compare.
 */
function screenLayout(layout: Layout, data: DiscreteTransitions): number {
  const ids = new Map<string, number>();
  const observed: Array<[number, number]> = [];
  const row = new Int32Array(layout.W);
  for (let t = 0; t < data.n; t++) {
    const x = data.cur.subarray(t * data.D, (t + 1) * data.D);
    let changed = '';
    for (let j = 0; j < data.D; j++) changed += x[j] !== data.next[t * data.D + j] ? '1' : '0';
    if (!ids.has(changed)) ids.set(changed, ids.size);
    observed.push([instruction(layout, data.context[t][layout.context], x, row), ids.get(changed)!]);
  }
  const table = new OutcomeTable(Math.max(ids.size, 1));
  for (const [key, id] of observed) table.add(key, id);
  return table.logEvidence();
}

/** One instruction's learned program, with how well it explains its examples. */
export interface LearnedProgram {
  key: number;
  writes: Write[];
  examples: number;
  /** Components its examples show that it gets wrong (0: exact). */
  mismatches: number;
  logEvidence: number;
}

export interface ProgramFit {
  layout: Layout;
  machine: Machine;
  programs: LearnedProgram[];
  /**
   * What an unseen instruction runs: the learned program (by its key) or no change (null) that best explains every
   * step.
   */
  fallback: { key: number | null; writes: Write[] };
  /** Per modulus tried (0: none), the register writes with an exact term under it. */
  modulusScreen: Record<string, number>;
  logEvidence: number;
}

/** The examples of each instruction key under a layout. */
function groupExamples(layout: Layout, data: DiscreteTransitions): Map<number, Examples> {
  const byKey = new Map<number, number[]>();
  const rows = new Int32Array(data.n * layout.W);
  for (let t = 0; t < data.n; t++) {
    const key = instruction(
      layout,
      data.context[t][layout.context],
      data.cur.subarray(t * data.D, (t + 1) * data.D),
      rows.subarray(t * layout.W, (t + 1) * layout.W),
    );
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key)!.push(t);
  }
  const out = new Map<number, Examples>();
  for (const key of [...byKey.keys()].sort((a, b) => a - b)) {
    const ts = byKey.get(key)!;
    const pick = (src: Int32Array, width: number) => {
      const dst = new Int32Array(ts.length * width);
      ts.forEach((t, i) => dst.set(src.subarray(t * width, (t + 1) * width), i * width));
      return dst;
    };
    out.set(key, {
      n: ts.length,
      D: data.D,
      W: layout.W,
      x: pick(data.cur, data.D),
      rows: pick(rows, layout.W),
      next: pick(data.next, data.D),
    });
  }
  return out;
}

/**
 * Code lengths (nats) of the language for a machine: per node, per destination, per write count; and a component's
 * right / wrong.
 */
interface Costs {
  node: number;
  dest: number;
  writes: number;
  right: number;
  wrong: number;
}

function costsOf(D: number, args: number, vocab: number): Costs {
  return {
    node: Math.log(D + 2 * args + 3 + 4), // leaves, and + - * if
    dest: Math.log(D + args),
    writes: Math.log(MAX_WRITES + 1),
    right: Math.log1p(-ERROR),
    wrong: Math.log(ERROR / Math.max(vocab - 1, 1)),
  };
}

function descriptionLength(writes: readonly Write[], sizes: readonly number[], c: Costs): number {
  return c.writes + writes.length * c.dest + sizes.reduce((s, z) => s + z, 0) * c.node;
}

/** Components of the examples a program gets wrong. */
function mismatchesOf(writes: readonly Write[], ex: Examples, m: Machine): number {
  const out = new Float64Array(ex.D);
  let wrong = 0;
  for (let t = 0; t < ex.n; t++) {
    runProgram(writes, ex.x.subarray(t * ex.D, (t + 1) * ex.D), ex.rows.subarray(t * ex.W, (t + 1) * ex.W), m, out);
    for (let j = 0; j < ex.D; j++) if (out[j] !== ex.next[t * ex.D + j]) wrong++;
  }
  return wrong;
}

/** The destinations of a machine: every component, and every argument read as a register. */
function destinations(D: number, argColumns: readonly number[]): Dest[] {
  return [
    ...Array.from({ length: D }, (_, j): Dest => ({ kind: 'x', j })),
    ...argColumns.map((c): Dest => ({ kind: 'r', c })),
  ];
}

/** Component a destination names on each example (-1: none). */
function destinationIndex(d: Dest, ex: Examples, m: Machine): Int32Array {
  return Int32Array.from({ length: ex.n }, (_, t) => {
    if (d.kind === 'x') return d.j;
    const i = ex.rows[t * ex.W + d.c];
    return i >= 0 && i < m.registers.length ? m.registers[i] : -1;
  });
}

function targetOf(index: Int32Array, ex: Examples, m: Machine, d: Dest): Target {
  const wraps = d.kind === 'r' || d.j !== m.pointer;
  return {
    y: Int32Array.from(index, (j, t) => (j < 0 ? 0 : ex.next[t * ex.D + j])),
    care: Uint8Array.from(index, (j) => (j < 0 ? 0 : 1)),
    modulus: wraps ? m.modulus : 0,
  };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * The modulus screen: for each candidate M (0: none), how many register destinations of how many instructions
 * have a term of the bank that is exact under it (y = v mod M for every example: M divides every v - y and
 * exceeds every y). Ties go to no modulus, then to the smallest.
 */
function screenModulus(
  groups: Array<{ ex: Examples; bank: ReturnType<typeof enumerateTerms> }>,
  base: Machine,
  argColumns: readonly number[],
  candidates: number[],
): { modulus: number; screen: Record<string, number> } {
  const exact = new Map<number, number>(candidates.map((M) => [M, 0]));
  for (const { ex, bank } of groups)
    for (const d of destinations(ex.D, argColumns)) {
      if (d.kind === 'x' && d.j === base.pointer) continue;
      const target = targetOf(destinationIndex(d, ex, base), ex, base, d);
      let maxY = 0;
      for (let t = 0; t < ex.n; t++) if (target.care[t]) maxY = Math.max(maxY, target.y[t]);
      const found = new Set<number>();
      for (const v of bank.values) {
        let g = 0,
          defined = true;
        for (let t = 0; t < ex.n && defined; t++) {
          if (!target.care[t]) continue;
          if (v[t] === UNDEFINED) defined = false;
          else g = gcd(g, Math.abs(v[t] - target.y[t]));
        }
        if (!defined) continue;
        for (const M of candidates) if (M === 0 ? g === 0 : M > maxY && g % M === 0) found.add(M);
        if (found.size === candidates.length) break;
      }
      for (const M of found) exact.set(M, exact.get(M)! + 1);
    }
  let modulus = candidates[0];
  for (const M of candidates) if (exact.get(M)! > exact.get(modulus)!) modulus = M;
  return { modulus, screen: Object.fromEntries([...exact].map(([M, k]) => [M === 0 ? 'none' : String(M), k])) };
}

/**
 * One instruction's program: among sets of at most MAX_WRITES destinations that cover every change its
 * examples show, the one whose writes (each destination's best term) has the best evidence; when no set covers
 * them, the best of the sets of at most 2 (the data then hold changes no short program explains).
 */
function searchProgram(
  ex: Examples,
  bank: ReturnType<typeof enumerateTerms>,
  m: Machine,
  argColumns: readonly number[],
  c: Costs,
): { writes: Write[]; mismatches: number; logEvidence: number; considered: number } {
  const all = destinations(ex.D, argColumns);
  const index = all.map((d) => destinationIndex(d, ex, m));
  const changed: number[][] = Array.from({ length: ex.n }, (_, t) => {
    const out: number[] = [];
    for (let j = 0; j < ex.D; j++) if (ex.x[t * ex.D + j] !== ex.next[t * ex.D + j]) out.push(j);
    return out;
  });
  // only destinations that name a changed component somewhere can be part of a covering set
  const useful = all.map((_, i) => i).filter((i) => changed.some((cs, t) => cs.includes(index[i][t])));
  const covers = (set: number[]) => changed.every((cs, t) => cs.every((j) => set.some((i) => index[i][t] === j)));
  const terms = new Map<number, Found>();
  const termFor = (i: number): Found => {
    let f = terms.get(i);
    if (!f) {
      const target = targetOf(index[i], ex, m, all[i]);
      f = bestTerm(bank, target, c.right - c.wrong, c.node);
      if (f.mismatches > 0) f = bestConditional(bank, target) ?? f;
      terms.set(i, f);
    }
    return f;
  };
  const subsets = (pool: number[], size: number): number[][] => {
    if (size === 0) return [[]];
    const out: number[][] = [];
    pool.forEach((p, k) => subsets(pool.slice(k + 1), size - 1).forEach((rest) => out.push([p, ...rest])));
    return out;
  };
  let best: { writes: Write[]; mismatches: number; logEvidence: number } | null = null;
  let considered = 0;
  const consider = (set: number[]) => {
    considered++;
    const found = set.map(termFor);
    const writes = set.map((i, k): Write => ({ dest: all[i], term: found[k].term }));
    const mismatches = mismatchesOf(writes, ex, m);
    const logEvidence =
      (ex.n * ex.D - mismatches) * c.right +
      mismatches * c.wrong -
      descriptionLength(
        writes,
        found.map((f) => f.size),
        c,
      );
    if (!best || logEvidence > best.logEvidence) best = { writes, mismatches, logEvidence };
  };
  let covered = false;
  for (let size = 0; size <= MAX_WRITES; size++)
    for (const set of subsets(useful, size))
      if (covers(set)) {
        covered = true;
        consider(set);
      }
  if (!covered) for (let size = 0; size <= 2; size++) for (const set of subsets(useful, size)) consider(set);
  return { ...best!, considered };
}

/** Searches the programs of one layout; effort: candidate terms it may score. */
function fitLayout(
  layout: Layout,
  data: DiscreteTransitions,
  vocab: number,
  effort: number,
): { fit: ProgramFit; scored: number } {
  const registers = Array.from({ length: data.D }, (_, j) => j).filter((j) => j !== layout.pointer);
  const argColumns =
    layout.pointer < 0 ? [] : Array.from({ length: layout.W }, (_, c) => c).filter((c) => c !== layout.opColumn);
  const examples = groupExamples(layout, data);
  const perGroup = Math.max(64, Math.floor(effort / examples.size));
  const base: Machine = { pointer: layout.pointer, registers, modulus: 0 };
  const groups = [...examples].map(([key, ex]) => ({ key, ex, bank: enumerateTerms(ex, base, argColumns, perGroup) }));
  let scored = groups.reduce((s, g) => s + g.bank.scored, 0);
  // the registers' word: values seen bound it from below, the view's vocab from above
  let largest = 0;
  for (const j of registers)
    for (let t = 0; t < data.n; t++) largest = Math.max(largest, data.cur[t * data.D + j], data.next[t * data.D + j]);
  const moduli = [0, ...Array.from({ length: Math.max(vocab - largest, 0) }, (_, k) => largest + 1 + k)];
  const { modulus, screen } = screenModulus(groups, base, argColumns, moduli);
  const machine: Machine = { ...base, modulus };
  const c = costsOf(data.D, argColumns.length, vocab);
  const programs: LearnedProgram[] = groups.map(({ key, ex, bank }) => {
    const { considered, ...found } = searchProgram(ex, bank, machine, argColumns, c);
    scored += considered;
    return { key, examples: ex.n, ...found };
  });
  // the fallback: of the learned programs and no change, the one with the best evidence over every step
  const everything: Examples = (() => {
    const rows = new Int32Array(data.n * layout.W);
    for (let t = 0; t < data.n; t++)
      instruction(
        layout,
        data.context[t][layout.context],
        data.cur.subarray(t * data.D, (t + 1) * data.D),
        rows.subarray(t * layout.W, (t + 1) * layout.W),
      );
    return { n: data.n, D: data.D, W: layout.W, x: data.cur, rows, next: data.next };
  })();
  let fallback: ProgramFit['fallback'] = { key: null, writes: [] },
    fallbackScore = -Infinity;
  for (const p of [{ key: null, writes: [] as Write[] }, ...programs]) {
    const wrong = mismatchesOf(p.writes, everything, machine);
    const score = -wrong * (c.right - c.wrong);
    if (score > fallbackScore) [fallback, fallbackScore] = [{ key: p.key, writes: p.writes }, score];
  }
  const logPrior = -Math.log(moduli.length);
  const logEvidence = programs.reduce((s, p) => s + p.logEvidence, 0) + logPrior;
  return { fit: { layout, machine, programs, fallback, modulusScreen: screen, logEvidence }, scored };
}

export interface ProgramSearch {
  fits: ProgramFit[];
  scored: number;
  /** Every layout's screen score. */
  screen: Array<{ layout: Layout; logEvidence: number }>;
}

/** Screens the layouts, then searches the programs of the best LAYOUTS; effort: candidate terms scored in all. */
export function searchPrograms(
  spec: ScenarioSpec,
  view: string,
  data: DiscreteTransitions,
  effort: number,
): ProgramSearch {
  const candidates = layouts(spec, data);
  if (!candidates.length)
    throw new Error(
      `possible-worlds: ${spec.id} has no program context (a rank-2 categorical context tensor) for program induction`,
    );
  const screen = candidates
    .map((layout) => ({ layout, logEvidence: screenLayout(layout, data) }))
    .sort((a, b) => b.logEvidence - a.logEvidence);
  const vocab = spec.views[view].vocab as number;
  const chosen = screen.slice(0, LAYOUTS);
  let scored = candidates.length;
  const fits = chosen.map(({ layout }) => {
    const r = fitLayout(layout, data, vocab, Math.floor(effort / chosen.length));
    scored += r.scored;
    // the prior pays for choosing a layout among all
    r.fit.logEvidence -= Math.log(candidates.length);
    return r.fit;
  });
  return { fits: fits.sort((a, b) => b.logEvidence - a.logEvidence), scored, screen };
}

function layoutId(l: Layout): string {
  return (
    `programs: ${l.context} rows named by ` +
    `column ${l.opColumn}${l.pointer >= 0 ? `, pointer x${l.pointer}` : ', no pointer'}`
  );
}

/** The world of one layout's programs. */
export function programWorld(fit: ProgramFit): CandidateWorld {
  const { layout, machine } = fit;
  const byKey = new Map(fit.programs.map((p) => [p.key, p]));
  const row = new Int32Array(layout.W);
  const answered = { learned: 0, fallback: 0 };
  const step: StepFn = (_prev, cur, _action, context) => {
    const table = context?.[layout.context];
    if (!table)
      throw new Error(
        `possible-worlds: the forecast's context has no "${layout.context}" (the program these worlds read)`,
      );
    const key = instruction(layout, table, cur, row);
    const learned = byKey.get(key);
    if (learned) answered.learned++;
    else answered.fallback++;
    const x = Float64Array.from(cur, Math.round);
    const out = new Float64Array(cur.length);
    runProgram(learned ? learned.writes : fit.fallback.writes, x, row, machine, out);
    return out;
  };
  const name = (key: number) =>
    key === BEYOND ? 'beyond the table' : layout.pointer < 0 ? 'every step' : `opcode ${key}`;
  const exact = fit.programs.filter((p) => p.mismatches === 0).length;
  return {
    id: layoutId(layout),
    statement:
      `each instruction a short program over ` +
      `the state` +
      `${
        layout.pointer >= 0
          ? ` (pointer p = x` + `${layout.pointer}, registers ${machine.registers.map((j) => `x${j}`).join(', ')})`
          : ''
      }; register ` +
      `writes ` +
      `${
        machine.modulus ? `wrap mod ` + `${machine.modulus}` : 'do not wrap'
      }; ${fit.programs.length} instructions, ${exact} explained exactly`,
    k: fit.programs.reduce((s, p) => s + p.writes.length, 0),
    logEvidence: fit.logEvidence,
    noiseVariance: new Float64Array(machine.registers.length + (layout.pointer >= 0 ? 1 : 0)),
    usesPrevious: false,
    step,
    details: () => ({
      layout: {
        context: layout.context,
        pointer: layout.pointer >= 0 ? `x${layout.pointer}` : null,
        opcodeColumn: layout.opColumn,
        arguments: Array.from({ length: layout.W }, (_, c) => c)
          .filter((c) => c !== layout.opColumn)
          .map((c) => `c${c}`),
        registers: machine.registers.map((j) => `x${j}`),
        modulus: machine.modulus || null,
      },
      programs: Object.fromEntries(
        fit.programs.map((p) => [
          name(p.key),
          `${showProgram(p.writes, machine)}${
            p.mismatches
              ? ` (${p.mismatches} of ` +
                `${p.examples * machine.registers.length + (layout.pointer >= 0 ? p.examples : 0)} components wrong)`
              : ''
          } [${p.examples} examples]`,
        ]),
      ),
      unseenInstructions:
        `${showProgram(fit.fallback.writes, machine)} ` +
        `(${fit.fallback.key === null ? 'no change' : `the program of ${name(fit.fallback.key)}`}: ` +
        'the most probable over every training step)',
      modulusScreen: fit.modulusScreen,
      // since this world was fitted or loaded
      answered: { ...answered },
    }),
    toJSON: () => ({ kind: 'programs', fit }),
  };
}

export function programWorldFromJSON(json: any): CandidateWorld {
  return programWorld(json.fit as ProgramFit);
}
