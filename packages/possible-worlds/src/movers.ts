// Object rules on categorical grids with actions: an action moves the objects of some values (the movers) one
// step in a direction of the lattice, and what a moving object meets decides what happens: it enters the cell,
// it is blocked, or it pushes what it met one step further (which that object's own meeting then decides).
// A cell-local table can state such a rule only configuration by configuration (the mover, what it meets and
// what lies beyond, for every action) and cannot keep the mover whole when its data never showed a meeting;
// here the rule is stated once per object and meeting, for every direction at once.
//
// Everything is found from the data: each action's step (the lattice direction that explains the changes its
// transitions show, or none), the mover values (the values such steps start from), and tables counted like
// local rules (outcome-tables.ts):
//   mode    what a mover meeting a cell does: 0 stays (blocked), 1 enters, 2 pushes; keyed by the met value,
//           by it and the value beyond, or by the mover's value too (the key chosen by evidence)
//   leave   the value a cell holds once its object has moved out (goal under an agent: the goal)
//   put     the value of a cell once an object of value m has moved in, keyed by (m, the cell's value)
//   pushIn  the value of a pushed object's cell once the pusher has moved in, keyed by (pusher, pushed)
//   rest    the next value of every cell on no mover's path, keyed by its value
// A configuration never seen is answered by the coarser key that saw it, and when the data are silent (a mover
// never met such a value) by a stated assumption: a value never seen to change cannot be entered or pushed, so
// the mover is blocked; one that was seen to change lets it in. Every such answer is counted (details()).
import type { StepFn } from './filter';
import { actionKey, type DiscreteTransitions } from './discrete-data';
import type { Geometry } from './neighbourhoods';
import { Decisions, OutcomeTable } from './outcome-tables';
import type { CandidateWorld } from './worlds';

/** One step of the lattice: the 8 neighbours of a cell. */
export const STEPS: ReadonlyArray<readonly [number, number]> = [
  [-1, 0],
  [1, 0],
  [0, -1],
  [0, 1],
  [-1, -1],
  [-1, 1],
  [1, -1],
  [1, 1],
];

/** The keys a mode may be read with, from coarsest to finest. */
export const MODE_KEYS = ['met', 'met+beyond', 'mover+met+beyond'] as const;
export type ModeKey = (typeof MODE_KEYS)[number];

export interface MoverFit {
  geometry: Geometry;
  /** Per action key: its step (dr, dc), or null when its transitions never moved anything. */
  steps: Array<[number, number] | null>;
  /** Per action key: transitions that took it (0: never seen in training; it is assumed to move nothing). */
  taken: number[];
  movers: number[];
  /**
   * Which mode key the evidence chose; modes holds a table for every key (the coarser ones answer what it never saw).
   */
  modeKey: ModeKey;
  modes: Record<ModeKey, Decisions>;
  leave: Decisions;
  put: Decisions;
  pushIn: Decisions;
  rest: Decisions;
  /** Values seen to change in some transition (the silent-data assumption reads it). */
  changing: number[];
  logEvidence: number;
  /** Transitions whose changes an action's step explained, of those with changes. */
  explained: { moved: number; changed: number };
}

/** Cell index one step (dr, dc) from cell i, or -1 beyond the grid. */
function shift(g: Geometry, i: number, [dr, dc]: readonly [number, number], times: number): number {
  const r = Math.floor(i / g.W) + dr * times,
    c = (i % g.W) + dc * times;
  return r >= 0 && r < g.H && c >= 0 && c < g.W ? r * g.W + c : -1;
}

/**
 * The changed cells of a transition lie on one step's line from a cell x: x, x + step, and at most x + 2 step. Returns
 * x, or -1.
 */
function lineStart(g: Geometry, changed: number[], step: readonly [number, number]): number {
  if (changed.length < 2 || changed.length > 3) return -1;
  for (const x of changed) {
    const p1 = shift(g, x, step, 1),
      p2 = shift(g, x, step, 2);
    if (p1 >= 0 && changed.includes(p1) && changed.every((c) => c === x || c === p1 || c === p2)) return x;
  }
  return -1;
}

/** The modes' keys for a mover of value v0 meeting v1 with v2 beyond (values V: beyond the grid). */
function modeKeys(B: number, v0: number, v1: number, v2: number): Record<ModeKey, number> {
  return { met: v1, 'met+beyond': v1 * B + v2, 'mover+met+beyond': (v0 * B + v1) * B + v2 };
}

export interface MoverSearch {
  fit: MoverFit | null;
  scored: number;
  /** Why there is no mover world (no action ever moved anything along a lattice step). */
  reason?: string;
}

/**
 * The tables of a mover rule under given steps: the movers are the values the steps' moves start from; every
 * mover's meeting, every cell it changes and every other cell is one observation of one table.
 */
function countMovers(g: Geometry, data: DiscreteTransitions, steps: Array<[number, number] | null>): MoverFit {
  const D = data.D,
    B = g.V + 1;
  const sources = new Set<number>();
  let moved = 0,
    changedTransitions = 0;
  for (let t = 0; t < data.n; t++) {
    const changed = changedCells(data, t);
    if (!changed.length) continue;
    changedTransitions++;
    const s = steps[data.action[t]];
    const x = s ? lineStart(g, changed, s) : -1;
    if (x >= 0) sources.add(data.cur[t * D + x]), moved++;
  }
  const modeTables = Object.fromEntries(MODE_KEYS.map((k) => [k, new OutcomeTable(3)])) as Record<
    ModeKey,
    OutcomeTable
  >;
  const leave = new OutcomeTable(g.V),
    put = new OutcomeTable(g.V),
    pushIn = new OutcomeTable(g.V),
    rest = new OutcomeTable(g.V);
  const changing = new Set<number>();
  const covered = new Uint8Array(D);
  const movers = [...sources].sort((a, b) => a - b);
  const isMover = new Uint8Array(B);
  for (const m of movers) isMover[m] = 1;
  for (let t = 0; t < data.n; t++) {
    const cur = data.cur.subarray(t * D, (t + 1) * D),
      next = data.next.subarray(t * D, (t + 1) * D);
    for (let i = 0; i < D; i++) if (cur[i] !== next[i]) changing.add(cur[i]);
    covered.fill(0);
    const s = steps[data.action[t]];
    if (s)
      for (let x = 0; x < D; x++) {
        if (!isMover[cur[x]] || covered[x]) continue;
        const p1 = shift(g, x, s, 1),
          p2 = shift(g, x, s, 2);
        const v0 = cur[x],
          v1 = p1 < 0 ? g.V : cur[p1],
          v2 = p2 < 0 ? g.V : cur[p2];
        const mode = next[x] === v0 || p1 < 0 ? 0 : p2 >= 0 && next[p2] !== v2 ? 2 : 1;
        const keys = modeKeys(B, v0, v1, v2);
        for (const k of MODE_KEYS) modeTables[k].add(keys[k], mode);
        if (mode === 0) continue;
        leave.add(v0, next[x]);
        covered[x] = covered[p1] = 1;
        if (mode === 1) put.add(v0 * B + v1, next[p1]);
        else {
          pushIn.add(v0 * B + v1, next[p1]);
          put.add(v1 * B + v2, next[p2]);
          covered[p2] = 1;
        }
      }
    for (let i = 0; i < D; i++) if (!covered[i]) rest.add(cur[i], next[i]);
  }
  // the mode key by evidence; the prior pays for each action's step (8 directions or none), each value's
  // mover bit and the mode key
  const modeEvidence = MODE_KEYS.map((k) => modeTables[k].logEvidence());
  const best = modeEvidence.indexOf(Math.max(...modeEvidence));
  const logPrior = -g.A * Math.log(STEPS.length + 1) - g.V * Math.log(2) - Math.log(MODE_KEYS.length);
  const taken = new Array<number>(g.A).fill(0);
  for (let t = 0; t < data.n; t++) taken[data.action[t]]++;
  return {
    geometry: g,
    steps,
    taken,
    movers,
    modeKey: MODE_KEYS[best],
    modes: Object.fromEntries(MODE_KEYS.map((k) => [k, modeTables[k].decide()])) as Record<ModeKey, Decisions>,
    leave: leave.decide(),
    put: put.decide(),
    pushIn: pushIn.decide(),
    rest: rest.decide(),
    changing: [...changing].sort((a, b) => a - b),
    logEvidence:
      modeEvidence[best] +
      leave.logEvidence() +
      put.logEvidence() +
      pushIn.logEvidence() +
      rest.logEvidence() +
      logPrior,
    explained: { moved, changed: changedTransitions },
  };
}

function changedCells(data: DiscreteTransitions, t: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < data.D; i++) if (data.cur[t * data.D + i] !== data.next[t * data.D + i]) out.push(i);
  return out;
}

/**
 * Finds each action's step and the mover values, then counts the tables; null when no action moves anything.
 * A step's candidates are those under which the most of the action's transitions change cells along one line;
 * a move and its reverse explain the same changed cells (the agent moved right, or the floor moved left). The
 * search starts from the candidate whose moves start from the rarest values (objects are sparse on their
 * background), then each action in turn takes the candidate under which the whole rule's evidence is highest
 * (sweeps over the actions while any changed).
 */
export function searchMovers(g: Geometry, data: DiscreteTransitions): MoverSearch {
  const votes = Array.from({ length: g.A }, () => new Int32Array(STEPS.length));
  for (let t = 0; t < data.n; t++) {
    const changed = changedCells(data, t);
    if (changed.length) STEPS.forEach((s, k) => lineStart(g, changed, s) >= 0 && votes[data.action[t]][k]++);
  }
  const candidates = votes.map((v) => {
    const top = Math.max(...v);
    return top > 0 ? STEPS.filter((_, k) => v[k] === top).map((s) => [...s] as [number, number]) : [null];
  });
  let scored = g.A * STEPS.length;
  if (candidates.every((c) => c[0] === null))
    return { fit: null, scored, reason: 'no action moved anything along a step of the lattice' };
  // how common each value is: the share of all cells holding it
  const share = new Float64Array(g.V + 1);
  for (let i = 0; i < data.cur.length; i++) share[data.cur[i]] += 1 / data.cur.length;
  const rarity = (a: number, s: [number, number]) => {
    let total = 0,
      count = 0;
    for (let t = 0; t < data.n; t++) {
      if (data.action[t] !== a) continue;
      const x = lineStart(g, changedCells(data, t), s);
      if (x >= 0) (total += share[data.cur[t * data.D + x]]), count++;
    }
    return total / Math.max(count, 1);
  };
  const steps = candidates.map((c, a) =>
    c.length > 1 ? c.slice().sort((p, q) => rarity(a, p!) - rarity(a, q!))[0] : c[0],
  );
  let best = countMovers(g, data, steps);
  scored++;
  for (let sweep = 0, changed = true; changed && sweep < 3; sweep++) {
    changed = false;
    candidates.forEach((options, a) => {
      for (const option of options) {
        if (option === best.steps[a]) continue;
        const trial = countMovers(
          g,
          data,
          best.steps.map((s, b) => (b === a ? option : s)),
        );
        scored++;
        if (trial.logEvidence > best.logEvidence) (best = trial), (changed = true);
      }
    });
  }
  return { fit: best, scored };
}

const DIRECTION_NAMES: Record<string, string> = {
  '-1,0': 'up (row - 1)',
  '1,0': 'down (row + 1)',
  '0,-1': 'left (column - 1)',
  '0,1': 'right (column + 1)',
};

/** The world of a fitted mover rule. */
export function moverWorld(fit: MoverFit): CandidateWorld {
  const g = fit.geometry,
    B = g.V + 1,
    D = g.H * g.W;
  const isMover = new Uint8Array(B);
  const changing = new Uint8Array(B);
  // a value produced by a mover moving in holds that mover (an agent on a goal): it moves too, leaves the
  // cell's old value behind, and enters other cells as the mover it holds would
  const holds = new Map<number, number>(); // value -> the value of the cell it was made from
  const plain = new Map<number, number>(); // value -> the mover it holds
  for (const [key, out] of fit.put.toJSON()) {
    const m = Math.floor(key / B),
      c = key % B;
    if (fit.movers.includes(m) && !holds.has(out) && out !== c) holds.set(out, c), plain.set(out, m);
  }
  for (const m of [...fit.movers, ...holds.keys()]) isMover[m] = 1;
  for (const v of fit.changing) changing[v] = 1;
  const chosen = MODE_KEYS.indexOf(fit.modeKey);
  const ground = fit.leave.commonest()?.outcome;

  const answers: Record<string, number> = {};
  const count = (what: string) => (answers[what] = (answers[what] ?? 0) + 1);

  /** What meeting v1 does, by the 'met' table alone, or the silent-data assumption. */
  const meet = (v1: number): number => {
    const m = fit.modes.met.get(v1, 0);
    if (m !== undefined) return m;
    count(
      `mode: assumed (never met ${v1 === g.V ? 'the edge' : `value ${v1}`}: ${
        changing[v1] ? 'it changes, so it ' + 'lets the mover in' : 'it never changes, so it blocks'
      })`,
    );
    return changing[v1] ? 1 : 0;
  };
  const modeOf = (v0: number, v1: number, v2: number): number => {
    const keys = modeKeys(B, v0, v1, v2);
    for (let k = chosen; k >= 1; k--) {
      const m = fit.modes[MODE_KEYS[k]].get(keys[MODE_KEYS[k]], 0);
      if (m !== undefined) {
        count(k === chosen ? `mode: its ${MODE_KEYS[k]} table` : `mode: the coarser ${MODE_KEYS[k]} table`);
        return m;
      }
    }
    // keyed by the met value alone: a push then moves the met object only where it may enter what lies beyond
    // (a value it would push in turn blocks it: one mover pushes one object)
    const m = meet(v1);
    if (chosen === 0) count('mode: its met table');
    else count('mode: the coarser met table');
    return m === 2 && meet(v2) !== 1 ? 0 : m;
  };
  const leaveOf = (v: number): number => {
    const l = fit.leave.get(v);
    if (l !== undefined) return l;
    if (holds.has(v)) return (count('leave: the value the mover entered'), holds.get(v)!);
    count('leave: assumed (the value most often left behind)');
    return ground ?? v;
  };
  const putOf = (m: number, c: number): number => {
    const p = fit.put.get(m * B + c);
    if (p !== undefined) return p;
    const q = plain.has(m) ? fit.put.get(plain.get(m)! * B + c) : undefined;
    if (q !== undefined) return (count('put: as the mover it holds'), q);
    count('put: assumed (the object arrives unchanged)');
    return m;
  };

  const grid = new Int32Array(D);
  const covered = new Uint8Array(D);
  const step: StepFn = (_prev, cur, action) => {
    for (let i = 0; i < D; i++) grid[i] = Math.round(cur[i]);
    covered.fill(0);
    const next = new Float64Array(D);
    const a = actionKey(g.actionVocab, action);
    const s = fit.steps[a];
    if (!fit.taken[a]) count(`action ${a}: never seen in training, assumed to move nothing`);
    if (s)
      for (let x = 0; x < D; x++) {
        if (!isMover[grid[x]] || covered[x]) continue;
        const p1 = shift(g, x, s, 1),
          p2 = shift(g, x, s, 2);
        const v0 = grid[x],
          v1 = p1 < 0 ? g.V : grid[p1],
          v2 = p2 < 0 ? g.V : grid[p2];
        let mode = modeOf(v0, v1, v2);
        if (mode === 2 && p2 < 0) mode = 0; // nothing can be pushed beyond the grid
        if (mode === 0) continue;
        next[x] = leaveOf(v0);
        covered[x] = covered[p1] = 1;
        if (mode === 1) next[p1] = putOf(v0, v1);
        else {
          next[p1] = fit.pushIn.get(v0 * B + v1) ?? putOf(v0, leaveOf(v1));
          next[p2] = putOf(v1, v2);
          covered[p2] = 1;
        }
      }
    for (let i = 0; i < D; i++) {
      if (covered[i]) continue;
      const r = fit.rest.get(grid[i], grid[i]);
      if (r === undefined) count('rest: a value never seen, kept');
      next[i] = r ?? grid[i];
    }
    return next;
  };

  const name = (s: [number, number] | null, a: number) =>
    s
      ? (DIRECTION_NAMES[s.join(',')] ?? `(${s.join(', ')})`)
      : fit.taken[a]
        ? 'nothing'
        : 'never seen in training (assumed: nothing)';
  const value = (v: number) => (v === g.V ? 'the edge' : String(v));
  const meetings = fit.modes[fit.modeKey].toJSON().map(([key, mode]) => {
    const what = ['blocked', 'enters', 'pushes'][mode];
    if (fit.modeKey === 'met') return `meets ${value(key)}: ${what}`;
    if (fit.modeKey === 'met+beyond')
      return `meets ${value(Math.floor(key / B))} with ${value(key % B)} beyond: ${what}`;
    return (
      `${Math.floor(key / (B * B))} meets ` + `${value(Math.floor(key / B) % B)} with ${value(key % B)} beyond: ${what}`
    );
  });
  const neverMet = Array.from({ length: B }, (_, v) => v).filter((v) => !fit.modes.met.has(v));
  return {
    id: 'movers',
    statement:
      `actions move objects ` +
      `one step (` +
      `${fit.steps.map((s, a) => `action ` + `${a}: ${name(s, a)}`).join(', ')}); values ` +
      `${[...new Set([...fit.movers, ...holds.keys()])].sort((a, b) => a - b).join(', ')} move; a mover ` +
      `meeting a cell enters it, is blocked, or pushes what it met (${meetings.length} meetings seen)`,
    k: fit.modes[fit.modeKey].size + fit.leave.size + fit.put.size + fit.pushIn.size + fit.rest.size + g.A,
    logEvidence: fit.logEvidence,
    noiseVariance: new Float64Array(D),
    usesPrevious: false,
    step,
    details: () => ({
      steps: Object.fromEntries(fit.steps.map((s, a) => [`action ${a}`, name(s, a)])),
      movers: fit.movers,
      heldMovers: Object.fromEntries(
        [...holds].filter(([v]) => !fit.movers.includes(v)).map(([v, c]) => [v, `mover ${plain.get(v)} on ${c}`]),
      ),
      modeKey: fit.modeKey,
      meetings,
      assumptions: neverMet.map(
        (v) =>
          `meeting ${v === g.V ? 'the edge' : `value ${v}`}: never seen; ${
            changing[v]
              ? 'it changes elsewhere, so ' + 'assumed to let the mover in'
              : 'it never changes, so assumed to block'
          }`,
      ),
      leave: fit.leave.toJSON().map(([v, o]) => `${v} -> ${o}`),
      put: fit.put.toJSON().map(([k, o]) => `${Math.floor(k / B)} into ${k % B} -> ${o}`),
      explained: fit.explained,
      // since this world was fitted or loaded
      answered: { ...answers },
    }),
    toJSON: () => ({
      kind: 'movers',
      fit: {
        ...fit,
        modes: Object.fromEntries(MODE_KEYS.map((k) => [k, fit.modes[k].toJSON()])),
        leave: fit.leave.toJSON(),
        put: fit.put.toJSON(),
        pushIn: fit.pushIn.toJSON(),
        rest: fit.rest.toJSON(),
      },
    }),
  };
}

export function moverWorldFromJSON(json: any): CandidateWorld {
  const f = json.fit;
  return moverWorld({
    ...f,
    modes: Object.fromEntries(MODE_KEYS.map((k) => [k, Decisions.fromJSON(f.modes[k])])) as Record<ModeKey, Decisions>,
    leave: Decisions.fromJSON(f.leave),
    put: Decisions.fromJSON(f.put),
    pushIn: Decisions.fromJSON(f.pushIn),
    rest: Decisions.fromJSON(f.rest),
  });
}
