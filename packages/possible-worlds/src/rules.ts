// Local rule induction on categorical grids: the next value of a cell as a table over its neighbourhood's
// configuration (and the action), with the neighbourhood (shape, radius), its symmetry class and the boundary
// chosen by evidence (neighbourhoods.ts lists the classes; outcome-tables.ts gives each table's evidence).
//
// Search: every class is scored on a prefix of the data (the screen); the best SURVIVORS are fitted on all of
// it, beside the cell-alone classes. Each fitted class is a candidate world. A configuration its table never saw
// is answered by the most probable coarser class that saw its own configuration of that cell: the fitted
// classes with fewer keys than this one, in order of evidence, down to the cell alone (a counting class first
// reads its own nearest seen count). Only a cell whose value no class ever saw keeps its value, and the world
// counts every answer by who gave it (details().answered): nothing falls back to persistence silently.
import type { StepFn } from './filter';
import { actionKey, type DiscreteTransitions } from './discrete-data';
import { classId, decodeCountKey, keyFunction, ruleClasses, type Geometry, type RuleClass } from './neighbourhoods';
import { Decisions, OutcomeTable } from './outcome-tables';
import type { CandidateWorld } from './worlds';

/** Classes fitted on all the data, besides the cell alone: the best by evidence on the screen. */
export const SURVIVORS = 4;

/**
 * Cell observations a screen needs at most: enough for the evidence of a wrong class to fall far behind (hundreds of
 * nats on life-like).
 */
export const SCREEN_CELLS = 65536;

/**
 * Transitions of D cells the classes are screened on: an eighth of the data, at most SCREEN_CELLS cells, at least 16
 * transitions (all of them when fewer).
 */
export function screenSize(n: number, D: number): number {
  return Math.min(n, Math.max(16, Math.min(Math.ceil(n / 8), Math.ceil(SCREEN_CELLS / D))));
}

/** A class fitted on transitions [0, upto). */
export interface RuleFit {
  cls: RuleClass;
  decisions: Decisions;
  logEvidence: number;
  /** Keys whose outcomes disagreed, and the observations they hold (0 for a rule that explains the data exactly). */
  conflicts: { keys: number; observations: number };
}

/** Counts one class's table on transitions [0, upto). */
export function fitRuleClass(cls: RuleClass, g: Geometry, data: DiscreteTransitions, upto: number): RuleFit {
  const key = keyFunction(cls, g);
  const table = new OutcomeTable(g.V);
  const D = data.D;
  for (let t = 0; t < upto; t++) {
    const grid = data.cur.subarray(t * D, (t + 1) * D);
    const a = data.action[t];
    for (let i = 0; i < D; i++) table.add(key(grid, i, a), data.next[t * D + i]);
  }
  return { cls, decisions: table.decide(), logEvidence: table.logEvidence(), conflicts: table.conflicts() };
}

export interface RuleSearch {
  fits: RuleFit[];
  /** Classes scored (screen and full fits). */
  scored: number;
}

/** Screens every class, then fits the survivors and the cell-alone classes on all the data; best first. */
export function searchRules(g: Geometry, data: DiscreteTransitions, withAction: boolean): RuleSearch {
  const classes = ruleClasses(withAction);
  const screen = screenSize(data.n, data.D);
  const screened = classes
    .map((cls) => fitRuleClass(cls, g, data, screen))
    .sort((a, b) => b.logEvidence - a.logEvidence);
  const keep = new Set([...screened.slice(0, SURVIVORS).map((f) => f.cls), ...classes.filter((c) => c.radius === 0)]);
  const fits =
    screen === data.n
      ? screened.filter((f) => keep.has(f.cls))
      : [...keep].map((cls) => fitRuleClass(cls, g, data, data.n));
  // the prior over classes is uniform: every fit pays log(#classes) for the choice
  for (const f of fits) f.logEvidence -= Math.log(classes.length);
  fits.sort((a, b) => b.logEvidence - a.logEvidence);
  return { fits, scored: classes.length + (screen === data.n ? 0 : keep.size) };
}

/** How a class reads in explain(). */
function describeClass(cls: RuleClass): string {
  if (cls.radius === 0) return `the cell's own value${cls.action ? ' and the action' : ''}`;
  const what = {
    full: 'the value of every cell',
    d4: 'the arrangement up to rotation and reflection',
    'outer-totalistic': "the cell's value and how many neighbours hold each value",
    totalistic: 'how many cells hold each value',
  }[cls.symmetry];
  return (
    `${what} in its ${cls.shape === 'moore' ? 'Moore' : 'von Neumann'} neighbourhood of radius ${cls.radius} ` +
    `(${cls.boundary === 'torus' ? 'edges wrap' : 'beyond an edge reads as outside'})` +
    (cls.action ? ', and the action' : '')
  );
}

/**
 * A readable summary of a table: for binary outer-totalistic rules without actions the B/S notation (born at
 * these live-neighbour counts, survives at those); for other counting classes the configurations that change
 * the cell; for positional classes how many configurations there are and the outcome most of them give.
 */
function summarise(fit: Pick<RuleFit, 'cls' | 'decisions'>, g: Geometry): Record<string, unknown> {
  const rows = fit.decisions.toJSON();
  const decoded = rows.map(([key, out]) => ({ key: decodeCountKey(fit.cls, g, key), out }));
  if (decoded.every((d) => d.key)) {
    if (
      g.V === 2 &&
      fit.cls.symmetry === 'outer-totalistic' &&
      !fit.cls.action &&
      decoded.every((d) => d.key!.counts[2] === 0)
    ) {
      const born = decoded
        .filter((d) => d.key!.own === 0 && d.out === 1)
        .map((d) => d.key!.counts[1])
        .sort((a, b) => a - b);
      const survive = decoded
        .filter((d) => d.key!.own === 1 && d.out === 1)
        .map((d) => d.key!.counts[1])
        .sort((a, b) => a - b);
      const seen = (own: number) =>
        decoded
          .filter((d) => d.key!.own === own)
          .map((d) => d.key!.counts[1])
          .sort((a, b) => a - b);
      return { notation: `B${born.join(',')}/S${survive.join(',')}`, bornSeen: seen(0), surviveSeen: seen(1) };
    }
    const changes = decoded
      .filter((d) => d.key!.own === null || d.key!.own !== d.out)
      .map(
        (d) =>
          `${d.key!.own !== null ? `cell ${d.key!.own}, ` : ''}counts ${d
            .key!.counts.map((c, v) => (c ? `${v === g.V ? 'outside' : v}:${c}` : ''))
            .filter(Boolean)
            .join(' ')}${d.key!.action !== null ? `, action ${d.key!.action}` : ''} -> ${d.out}`,
      );
    return {
      configurations: rows.length,
      changing: changes.length,
      ...(changes.length <= 40 ? { changes } : { firstChanges: changes.slice(0, 40) }),
    };
  }
  const common = fit.decisions.commonest();
  return {
    configurations: rows.length,
    commonestOutcome: common?.outcome,
    commonestShare: common ? Number(common.share.toFixed(3)) : null,
  };
}

/**
 * A counting class's answer for a configuration it never saw: the outcome of the seen configuration with the
 * same own value (and action) whose counts are nearest (L1; ties to the smaller key). A rule over counts is
 * read as piecewise constant in them (born at 7-9 of 24 neighbours: an unseen 15 reads as the nearest seen,
 * 13); null for positional classes, whose configurations have no order.
 */
function nearestCount(fit: RuleFit, g: Geometry): ((key: number, stay: number) => number | undefined) | null {
  const seen = fit.decisions.toJSON().map(([key]) => ({ key, d: decodeCountKey(fit.cls, g, key) }));
  if (!seen.length || seen.some((s) => !s.d)) return null;
  const memo = new Map<number, number | undefined>();
  return (key, stay) => {
    if (memo.has(key)) return memo.get(key);
    const q = decodeCountKey(fit.cls, g, key)!;
    let best: number | undefined,
      bestDistance = Infinity;
    for (const { key: k, d } of seen) {
      if (d!.own !== q.own || d!.action !== q.action) continue;
      let distance = 0;
      for (let v = 0; v < q.counts.length; v++) distance += Math.abs(d!.counts[v] - q.counts[v]);
      if (distance < bestDistance) [best, bestDistance] = [k, distance];
    }
    const out = best === undefined ? undefined : fit.decisions.get(best, stay);
    memo.set(key, out);
    return out;
  };
}

/**
 * The world of one fitted class. A configuration its table never saw is answered, in order, by the nearest
 * seen count (counting classes), then by each class of `coarser` (best first) that saw its own configuration
 * of the cell (by its table, then its nearest count); a cell no class answers keeps its value. Every answer is
 * counted by who gave it (details().answered).
 */
export function ruleWorld(fit: RuleFit, coarser: RuleFit[], g: Geometry): CandidateWorld {
  const chain = [fit, ...coarser].map((f, k) => ({
    fit: f,
    key: keyFunction(f.cls, g),
    nearest: nearestCount(f, g),
    name: k === 0 ? 'own table' : classId(f.cls),
  }));
  const answered: Record<string, number> = {};
  const count = (who: string) => (answered[who] = (answered[who] ?? 0) + 1);
  const grid = new Int32Array(g.H * g.W);
  const step: StepFn = (_prev, cur, action) => {
    for (let i = 0; i < grid.length; i++) grid[i] = Math.round(cur[i]);
    const a = actionKey(g.actionVocab, action);
    const next = new Float64Array(grid.length);
    for (let i = 0; i < grid.length; i++) {
      let value: number | undefined;
      for (const c of chain) {
        const key = c.key(grid, i, a);
        value = c.fit.decisions.get(key, grid[i]);
        if (value !== undefined) {
          count(c.name);
          break;
        }
        value = c.nearest?.(key, grid[i]);
        if (value !== undefined) {
          count(`${c.name}, nearest seen count`);
          break;
        }
      }
      if (value === undefined) count('no class (kept its value)');
      next[i] = value ?? grid[i];
    }
    return next;
  };
  return {
    id: classId(fit.cls),
    statement:
      `the next value of a cell is a ` +
      `table over ` +
      `${describeClass(fit.cls)}; ${fit.decisions.size} configurations seen` +
      `${
        fit.conflicts.keys
          ? `, ${fit.conflicts.keys} of them with disagreeing ` +
            `outcomes (${fit.conflicts.observations} observations)`
          : ''
      }`,
    k: fit.decisions.size,
    logEvidence: fit.logEvidence,
    noiseVariance: new Float64Array(g.H * g.W),
    usesPrevious: false,
    step,
    details: () => ({
      rule: {
        class: fit.cls.symmetry,
        shape: fit.cls.shape,
        radius: fit.cls.radius,
        boundary: fit.cls.boundary,
        action: fit.cls.action,
      },
      table: summarise(fit, g),
      conflicts: fit.conflicts,
      unseenAnsweredBy: [...(chain[0].nearest ? ['the nearest seen count'] : []), ...chain.slice(1).map((c) => c.name)],
      // since this world was fitted or loaded
      answered: { ...answered },
    }),
    toJSON: () => ({
      kind: 'rule',
      geometry: g,
      fits: chain.map((c) => ({
        cls: c.fit.cls,
        decisions: c.fit.decisions.toJSON(),
        logEvidence: c.fit.logEvidence,
        conflicts: c.fit.conflicts,
      })),
    }),
  };
}

/** Candidate worlds of every fitted class; each answers unseen configurations through the classes coarser than it. */
export function ruleWorlds(search: RuleSearch, g: Geometry): CandidateWorld[] {
  return search.fits.map((fit) => {
    const coarser = search.fits.filter((f) => f !== fit && f.decisions.size < fit.decisions.size);
    return ruleWorld(fit, coarser, g);
  });
}

export function ruleWorldFromJSON(json: any): CandidateWorld {
  const [own, ...coarser] = (json.fits as any[]).map(
    (f): RuleFit => ({
      cls: f.cls,
      decisions: Decisions.fromJSON(f.decisions),
      logEvidence: f.logEvidence,
      conflicts: f.conflicts,
    }),
  );
  return ruleWorld(own, coarser, json.geometry);
}
