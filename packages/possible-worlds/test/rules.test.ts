// Local rule induction on planted worlds outside life-like's family (a radius-2 rule, a non-totalistic rule, a
// three-state rule): the search, told only the spec, finds each rule's class, radius and table, and forecasts
// exactly; what its table never saw is answered by a coarser class and counted.
import { describe, expect, it } from 'vitest';
import {
  createRng,
  evaluateModel,
  simulateEpisodes,
  type Rng,
  type Scenario,
  type ScenarioSpec,
} from '@worldbench/core';
import possibleWorlds from '../src/index';
import { discreteTransitions } from '../src/discrete-data';
import type { Geometry, RuleClass } from '../src/neighbourhoods';
import { fitRuleClass, ruleWorld } from '../src/rules';

const N = 24;

/**
 * A planted cellular automaton on an N x N torus: `next(grid, r, c)` is the rule; random grids of density 0.5 (ood:
 * 0.25).
 */
function plantedAutomaton(
  id: string,
  vocab: number,
  next: (cell: (dr: number, dc: number) => number) => number,
): Scenario<null, Uint8Array> {
  const spec: ScenarioSpec = {
    id: `${id}-v1`,
    summary: `planted ${id}`,
    views: { state: { shape: [N, N], kind: 'int', vocab } },
    action: null,
    episodeLength: 32,
    historySteps: 2,
    horizon: 16,
    tags: [],
  };
  return {
    spec,
    sampleWorld: () => null,
    reset: (_w, rng: Rng, split) =>
      Uint8Array.from({ length: N * N }, () =>
        rng.bernoulli(split === 'ood' ? 0.25 : 0.5) ? 1 + rng.int(vocab - 1) : 0,
      ),
    step: (_w, g) => {
      const out = new Uint8Array(N * N);
      for (let r = 0; r < N; r++)
        for (let c = 0; c < N; c++) out[r * N + c] = next((dr, dc) => g[((r + dr + N) % N) * N + ((c + dc + N) % N)]);
      return out;
    },
    render: (_w, g) => ({ state: Float32Array.from(g) }),
    behavior: () => null,
    explore: () => null,
  };
}

/** Live cells among the 24 around (radius 2, Moore). */
const count2 = (cell: (dr: number, dc: number) => number) => {
  let n = 0;
  for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) if (dr || dc) n += cell(dr, dc) === 1 ? 1 : 0;
  return n;
};
/** Larger than Life, radius 2: born at 7-9 live neighbours of 24, survives at 6-11 (stays active from density 0.5). */
const radius2 = plantedAutomaton('radius-two', 2, (cell) =>
  cell(0, 0) ? (count2(cell) >= 6 && count2(cell) <= 11 ? 1 : 0) : count2(cell) >= 7 && count2(cell) <= 9 ? 1 : 0,
);
/** Not totalistic, not symmetric: the cell XOR the one above XOR the one to its left. */
const xorRule = plantedAutomaton('up-left-xor', 2, (cell) => cell(0, 0) ^ cell(-1, 0) ^ cell(0, -1));
/** Brian's Brain (3 states): on -> dying -> off; off -> on with exactly 2 on neighbours (of 8). */
const brain = plantedAutomaton('brians-brain', 3, (cell) => {
  const own = cell(0, 0);
  if (own === 1) return 2;
  if (own === 2) return 0;
  let on = 0;
  for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) if ((dr || dc) && cell(dr, dc) === 1) on++;
  return on === 2 ? 1 : 0;
});

const job = (scenario: Scenario, budget: number) =>
  evaluateModel(possibleWorlds, scenario, { view: 'state', budget, seed: 0 });

describe('local rule induction on planted rules (budget 256, dev seed 0)', () => {
  it(
    'a radius-2 rule (Larger than Life B7-9/S6-11): outer-totalistic Moore radius 2 on a torus, read back in B/S ' +
      'notation, every step exact to h = 16',
    async () => {
      const r = await job(radius2 as Scenario, 256);
      const best = (r.explain as any).ranked[0];
      expect(best.id).toBe('rule: outer-totalistic moore-2 torus');
      expect(best.table.notation).toBe('B7,8,9/S6,7,8,9,10,11');
      expect(best.conflicts.keys).toBe(0);
      for (let h = 1; h <= 16; h++) expect(r.metrics.test.accStep[String(h)], `h = ${h}`).toBe(1);
      expect(r.metrics.ood.accStep['1']).toBe(1);
    },
  );

  it(
    'a non-totalistic, direction-dependent rule (x XOR up XOR left): a full table over the von Neumann radius-1 ' +
      'neighbourhood, exact to h = 16',
    async () => {
      const r = await job(xorRule as Scenario, 256);
      const best = (r.explain as any).ranked[0];
      expect(best.id).toBe('rule: full von-neumann-1 torus');
      expect(best.table.configurations).toBe(32);
      for (let h = 1; h <= 16; h++) expect(r.metrics.test.accStep[String(h)], `h = ${h}`).toBe(1);
      // every symmetric class mixes up "up" with "down": their tables disagree with themselves
      const symmetric = (r.explain as any).ranked.filter(
        (w: any) => w.rule && w.rule.class !== 'full' && w.rule.radius > 0,
      );
      for (const w of symmetric) expect(w.conflicts.keys, w.id).toBeGreaterThan(0);
    },
  );

  it("a three-state rule (Brian's Brain): outer-totalistic Moore radius 1, exact to h = 16", async () => {
    const r = await job(brain as Scenario, 256);
    expect((r.explain as any).ranked[0].id).toBe('rule: outer-totalistic moore-1 torus');
    for (let h = 1; h <= 16; h++) expect(r.metrics.test.accStep[String(h)], `h = ${h}`).toBe(1);
  });
});

describe('unseen configurations', () => {
  const g: Geometry = { H: N, W: N, V: 2, A: 1, actionVocab: 0 };
  const cls = (symmetry: RuleClass['symmetry'], radius: number): RuleClass => ({
    shape: 'moore',
    radius,
    symmetry,
    boundary: 'torus',
    action: false,
  });
  // fitted on sparse grids (density 0.05, two steps each): crowded neighbourhoods never occur
  const sparse: Scenario<null, Uint8Array> = {
    ...(radius2 as Scenario<null, Uint8Array>),
    reset: (_w, rng) => Uint8Array.from({ length: N * N }, () => (rng.bernoulli(0.05) ? 1 : 0)),
  };
  const data = discreteTransitions(sparse.spec, 'state', [
    simulateEpisodes(sparse, null, { count: 4, split: 'train', policy: 'explore', rng: createRng('sparse'), steps: 2 }),
  ]);
  const full = new Float64Array(N * N).fill(1); // every cell live with every neighbour live

  it(
    'are answered by the coarser classes in order, down to the cell alone, and counted: none falls back to ' +
      'persistence silently',
    () => {
      const [positional, counting, cell] = [
        fitRuleClass(cls('full', 1), g, data, data.n),
        fitRuleClass(cls('outer-totalistic', 1), g, data, data.n),
        fitRuleClass(cls('full', 0), g, data, data.n),
      ];
      const world = ruleWorld(positional, [counting, cell], g);
      world.step(full, full, new Float64Array(0));
      const answered = (world.details!() as any).answered;
      // the 3x3 block of live cells was never seen, nor 8 live neighbours: the outer-totalistic table reads its nearest
      // seen count
      expect(answered).toEqual({ 'rule: outer-totalistic moore-1 torus, nearest seen count': N * N });
      expect((world.details!() as any).unseenAnsweredBy).toEqual([
        'rule: outer-totalistic moore-1 torus',
        'rule: cell',
      ]);
    },
  );

  it(
    'a counting class reads an unseen count as the nearest seen one (a rule over counts is piecewise constant ' +
      'in them)',
    () => {
      const fit = fitRuleClass(cls('outer-totalistic', 2), g, data, data.n);
      const seenLive = (fit.decisions.toJSON() as number[][]).map(([key]) => key);
      expect(seenLive.length).toBeLessThan(50); // of 2 x 25 configurations
      const world = ruleWorld(fit, [], g);
      const next = world.step(full, full, new Float64Array(0));
      // 24 live neighbours: the nearest seen count of a live cell is far below S6-11's top, and above none: the cell
      // dies
      expect(Array.from(next).every((v) => v === 0)).toBe(true);
      expect((world.details!() as any).answered).toEqual({ 'own table, nearest seen count': N * N });
    },
  );
});
