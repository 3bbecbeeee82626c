import {
  block,
  checkScenario,
  createRng,
  forEachTransition,
  simulateEpisodes,
  trainingEpisodes,
  type Episodes,
  type FactoredSpace,
  type Transition,
} from '@worldbench/core';
import { describe, expect, it } from 'vitest';
import scenario, {
  CELLS,
  MOORE_TORUS,
  NAMED_RULES,
  NAMED_RULE_PROBABILITY,
  OOD_DENSE_DENSITY,
  OOD_SPARSE_DENSITY,
  SIZE,
  TRAIN_DENSITY,
  TRUE_CANDIDATE,
  gridFromPattern,
  hypotheses,
  makeLattice,
  namedRule,
  neighbourCounts,
  parseRule,
  ruleBits,
  ruleNotation,
  type LifeState,
  type LifeWorld,
} from '../src/index';

const conway: LifeWorld = { rule: namedRule('Conway'), name: 'Conway' };
const candidate = (id: string) => hypotheses.candidates.find((c) => c.id === id) as FactoredSpace;
const trueSpace = candidate(TRUE_CANDIDATE);

/** Transition t of episode e of the state view. */
function transition(ep: Episodes, e: number, t: number): Transition {
  return { current: block(ep.views.state, e, t), next: block(ep.views.state, e, t + 1), action: null, context: {} };
}

/** Runs `steps` steps of the scenario from `cells`; returns every grid, the start included. */
function run(world: LifeWorld, cells: Uint8Array, steps: number): Uint8Array[] {
  let state: LifeState = { density: 0, cells };
  const grids = [cells];
  for (let t = 0; t < steps; t++) {
    state = scenario.step(world, state, null, createRng('unused'));
    grids.push(state.cells);
  }
  return grids;
}

/**
 * Bits of the true space pinned down by the first `budget` training transitions (trainingEpisodes, behavior
 * policy, as the runner draws them at that seed), as a share of its 18 factors. Throws on a contradiction.
 */
function determinedShare(world: LifeWorld, seed: number, budget: number): number {
  const ep = trainingEpisodes(scenario, world, budget, 'behavior', createRng(`${seed}/train`));
  const known = new Int8Array(trueSpace.factors.length).fill(-1);
  const truth = ruleBits(world.rule);
  forEachTransition(ep, (e, t) => {
    for (const { factor, consistent } of trueSpace.evidence(transition(ep, e, t))) {
      expect(consistent).toEqual([truth[factor]]); // one option, and it is the true one
      known[factor] = consistent[0];
    }
  });
  return known.filter((b) => b !== -1).length / known.length;
}

describe('life-like-v1', () => {
  it('passes the public scenario conformance suite', () => {
    expect(() => checkScenario(scenario)).not.toThrow();
    expect(() => checkScenario(scenario, { seed: 7, episodes: 5 })).not.toThrow();
  });

  it('step returns a new state and leaves its input untouched; both views show the same 0/1 grid', () => {
    const state = scenario.reset(conway, createRng('immutable'), 'train');
    const before = Array.from(state.cells);
    const next = scenario.step(conway, state, null, createRng('unused'));
    expect(next).not.toBe(state);
    expect(next.cells).not.toBe(state.cells);
    expect(Array.from(state.cells)).toEqual(before);
    expect(Array.from(next.cells)).not.toEqual(before);
    const views = scenario.render(conway, next);
    expect(Array.from(views.state)).toEqual(Array.from(next.cells));
    expect(Array.from(views.frame)).toEqual(Array.from(next.cells));
    expect(views.frame).not.toBe(views.state);
  });

  it('has no actions: spec.action is null and both policies return null', () => {
    const state = scenario.reset(conway, createRng('policies'), 'train');
    expect(scenario.spec.action).toBeNull();
    expect(scenario.behavior(conway, state, createRng('b'))).toBeNull();
    expect(scenario.explore(conway, state, createRng('e'))).toBeNull();
  });

  it(
    'counts neighbours on a torus: a live corner cell is a neighbour of the opposite corners (not when ' + 'bounded)',
    () => {
      const corner = gridFromPattern(['O'], 0, 0);
      const torus = neighbourCounts(MOORE_TORUS, corner);
      const bounded = neighbourCounts(makeLattice('moore', 'bounded'), corner);
      const vonNeumann = neighbourCounts(makeLattice('von-neumann', 'torus'), corner);
      const at = (r: number, c: number) => r * SIZE + c;
      for (const [r, c] of [
        [23, 23],
        [23, 0],
        [23, 1],
        [0, 23],
        [0, 1],
        [1, 23],
        [1, 0],
        [1, 1],
      ])
        expect(torus[at(r, c)]).toBe(1);
      expect(torus.reduce((a, b) => a + b, 0)).toBe(8);
      expect(bounded.reduce((a, b) => a + b, 0)).toBe(3); // (0, 1), (1, 0), (1, 1)
      expect(bounded[at(23, 23)]).toBe(0);
      expect([at(23, 0), at(0, 23), at(0, 1), at(1, 0)].map((i) => vonNeumann[i])).toEqual([1, 1, 1, 1]);
      expect(vonNeumann[at(23, 23)]).toBe(0);
    },
  );

  it("moves a glider under Conway's rule one cell diagonally every 4 steps, wrapping around the torus", () => {
    const glider = ['.O.', '..O', 'OOO']; // heads down-right: +1 row, +1 column per 4 steps
    const start = 20; // it crosses the bottom and right edges after 2 periods
    const grids = run(conway, gridFromPattern(glider, start, start), 4 * SIZE);
    for (let k = 0; k <= SIZE; k++) {
      const at = (start + k) % SIZE;
      expect(Array.from(grids[4 * k])).toEqual(Array.from(gridFromPattern(glider, at, at)));
    }
    // a full lap of the torus (96 steps) brings it back exactly; it has 5 cells at every step
    expect(Array.from(grids[4 * SIZE])).toEqual(Array.from(grids[0]));
    for (const g of grids) expect(g.reduce((a, b) => a + b, 0)).toBe(5);
    // the intermediate phases, by hand: steps 1 and 2 sit one row down, step 3 one row and one column
    expect(Array.from(grids[1])).toEqual(Array.from(gridFromPattern(['O.O', '.OO', '.O.'], start + 1, start)));
    expect(Array.from(grids[2])).toEqual(Array.from(gridFromPattern(['..O', 'O.O', '.OO'], start + 1, start)));
    expect(Array.from(grids[3])).toEqual(Array.from(gridFromPattern(['O..', '.OO', 'OO.'], start + 1, start + 1)));
  });

  it('flips a blinker between horizontal and vertical with period 2, across the torus edge', () => {
    const horizontal = gridFromPattern(['OOO'], 0, 23); // cells (0, 23), (0, 0), (0, 1)
    const vertical = gridFromPattern(['O', 'O', 'O'], 23, 0); // cells (23, 0), (0, 0), (1, 0)
    const grids = run(conway, horizontal, 10);
    grids.forEach((g, t) => expect(Array.from(g)).toEqual(Array.from(t % 2 === 0 ? horizontal : vertical)));
  });

  it('Seeds (B2/S) kills every live cell each step and births exactly the dead cells with 2 live neighbours', () => {
    const seeds: LifeWorld = { rule: namedRule('Seeds'), name: 'Seeds' };
    let state = scenario.reset(seeds, createRng('seeds'), 'train');
    let births = 0;
    for (let t = 0; t < 40; t++) {
      const counts = neighbourCounts(MOORE_TORUS, state.cells);
      const next = scenario.step(seeds, state, null, createRng('unused'));
      for (let i = 0; i < CELLS; i++) {
        if (state.cells[i]) expect(next.cells[i]).toBe(0);
        else expect(next.cells[i]).toBe(counts[i] === 2 ? 1 : 0);
        births += next.cells[i];
      }
      state = next;
    }
    expect(births).toBeGreaterThan(100); // the rule is active, not a dead grid
  });

  it('writes and reads B/S notation for every named rule', () => {
    for (const { notation } of NAMED_RULES) expect(ruleNotation(parseRule(notation))).toBe(notation);
    expect(parseRule('B3/S23')).toEqual({ birth: 0b1000, survival: 0b1100 });
    expect(ruleBits(parseRule('B36/S23'))).toEqual([0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    expect(() => parseRule('B9/S23')).toThrow(/B\/S notation/);
  });

  it('draws a named rule half of the time, else a uniform rule without B0', () => {
    const n = 4000;
    const worlds = Array.from({ length: n }, (_, k) => scenario.sampleWorld(createRng(`worlds/${k}`)));
    const named = worlds.filter((w) => w.name !== null);
    const random = worlds.filter((w) => w.name === null);
    expect(Math.abs(named.length / n - NAMED_RULE_PROBABILITY)).toBeLessThan(0.03); // binomial sd 0.008
    expect(new Set(named.map((w) => w.name)).size).toBe(NAMED_RULES.length);
    for (const w of named) expect(ruleNotation(w.rule)).toBe(NAMED_RULES.find((r) => r.name === w.name)!.notation);
    expect(worlds.every((w) => (w.rule.birth & 1) === 0 && w.rule.birth < 512 && w.rule.survival < 512)).toBe(true);
    // the random half: 2^17 equally likely rules, so ~2000 draws are nearly all distinct, and each bit is a fair coin
    expect(new Set(random.map((w) => ruleNotation(w.rule))).size).toBeGreaterThan(random.length - 40);
    const bitShares = Array.from(
      { length: 18 },
      (_, f) => random.filter((w) => ruleBits(w.rule)[f] === 1).length / random.length,
    );
    expect(bitShares[0]).toBe(0); // B0 excluded
    for (const share of bitShares.slice(1)) expect(Math.abs(share - 0.5)).toBeLessThan(0.05); // sd 0.011
  });

  it('shift changes the rule to another one from the same distribution', () => {
    let named = 0;
    for (let k = 0; k < 300; k++) {
      const w = scenario.sampleWorld(createRng(`shift/${k}`));
      const shifted = scenario.shift!(w, createRng(`shift/${k}/new`));
      expect(ruleNotation(shifted.rule)).not.toBe(ruleNotation(w.rule));
      expect(shifted.rule.birth & 1).toBe(0);
      if (shifted.name !== null) named++;
    }
    expect(named).toBeGreaterThan(100);
    expect(named).toBeLessThan(200);
    // a Conway world always leaves Conway
    for (let k = 0; k < 50; k++)
      expect(scenario.shift!(conway, createRng(`shift/conway/${k}`)).name).not.toBe('Conway');
  });

  it('draws train/test densities in [0.4, 0.6) and ood densities outside it, on both sides', () => {
    let sparse = 0,
      dense = 0;
    for (let k = 0; k < 400; k++) {
      for (const split of ['train', 'test'] as const) {
        const s = scenario.reset(conway, createRng(`density/${split}/${k}`), split);
        expect(s.density).toBeGreaterThanOrEqual(TRAIN_DENSITY[0]);
        expect(s.density).toBeLessThan(TRAIN_DENSITY[1]);
      }
      const ood = scenario.reset(conway, createRng(`density/ood/${k}`), 'ood');
      const live = ood.cells.reduce((a, b) => a + b, 0) / CELLS;
      if (ood.density < TRAIN_DENSITY[0]) {
        sparse++;
        expect(ood.density).toBeGreaterThanOrEqual(OOD_SPARSE_DENSITY[0]);
        expect(ood.density).toBeLessThan(OOD_SPARSE_DENSITY[1]);
        // the grid itself, not only the parameter (sd of the share <= 0.015)
        expect(live).toBeLessThan(TRAIN_DENSITY[0]);
      } else {
        dense++;
        expect(ood.density).toBeGreaterThanOrEqual(OOD_DENSE_DENSITY[0]);
        expect(ood.density).toBeLessThan(OOD_DENSE_DENSITY[1]);
        expect(live).toBeGreaterThan(TRAIN_DENSITY[1]);
      }
    }
    expect(Math.abs(sparse - dense)).toBeLessThan(80); // about half each (sd of the difference: 20)
  });

  it('hypotheses: the true assignment predicts every clean transition exactly and evidence never rules it out', () => {
    for (let seed = 0; seed < 12; seed++) {
      const world = scenario.sampleWorld(createRng(`${seed}/world`));
      const truth = hypotheses.truth(world);
      expect(truth).toEqual({ id: 'moore-torus', assignment: ruleBits(world.rule) });
      for (const split of ['train', 'ood'] as const) {
        const ep = simulateEpisodes(scenario, world, {
          count: 2,
          split,
          policy: 'explore',
          rng: createRng(`${seed}/hyp/${split}`),
        });
        forEachTransition(ep, (e, t) => {
          const tr = transition(ep, e, t);
          expect(Array.from(trueSpace.predict(truth.assignment!, tr))).toEqual(Array.from(tr.next!));
          for (const { factor, consistent } of trueSpace.evidence(tr))
            expect(consistent).toEqual([truth.assignment![factor]]);
        });
      }
    }
  });

  it(
    'hypotheses: wrong bits and wrong lattices mispredict a Conway episode, and evidence refutes the wrong ' +
      'lattices',
    () => {
      const ep = simulateEpisodes(scenario, conway, {
        count: 1,
        split: 'train',
        policy: 'explore',
        rng: createRng('wrong'),
      });
      const first = transition(ep, 0, 0);
      const truth = ruleBits(conway.rule);
      // HighLife's bits (B6 on) in a Conway world: a dead cell with 6 live neighbours is born wrongly
      const counts = neighbourCounts(MOORE_TORUS, Uint8Array.from(first.current));
      expect(first.current.some((v, i) => v === 0 && counts[i] === 6)).toBe(true);
      expect(Array.from(trueSpace.predict(ruleBits(namedRule('HighLife')), first))).not.toEqual(
        Array.from(first.next!),
      );
      // bounded Moore with the true bits: right inside, wrong where a live cell sits across the edge
      const bounded = candidate('moore-bounded');
      let boundedMisses = 0;
      forEachTransition(ep, (e, t) => {
        const tr = transition(ep, e, t);
        if (!bounded.predict(truth, tr).every((v, i) => v === tr.next![i])) boundedMisses++;
      });
      expect(boundedMisses).toBeGreaterThan(0);
      // every wrong lattice meets a contradiction (an empty consistent list) in the first transition
      for (const id of ['von-neumann-torus', 'moore-bounded', 'von-neumann-bounded']) {
        const refuted = candidate(id)
          .evidence(first)
          .filter((x) => x.consistent.length === 0);
        expect(refuted.length, id).toBeGreaterThan(0);
      }
      expect(trueSpace.evidence(first).every((x) => x.consistent.length === 1)).toBe(true);
      // von Neumann factors stop at count 4
      expect(candidate('von-neumann-torus').factors.map((f) => f.name)).toEqual([
        'B0',
        'B1',
        'B2',
        'B3',
        'B4',
        'S0',
        'S1',
        'S2',
        'S3',
        'S4',
      ]);
    },
  );

  it(
    'hypotheses: 16 transitions of a Conway episode pin down most bits (17.55 / 18 over 20 seeds), 0.989 of bits ' +
      'in random worlds',
    () => {
      const conwayShares = Array.from({ length: 20 }, (_, seed) => determinedShare(conway, seed, 16));
      const conwayMean = conwayShares.reduce((a, b) => a + b, 0) / 20;
      expect(Math.min(...conwayShares)).toBeGreaterThanOrEqual(16 / 18);
      expect(conwayMean).toBeCloseTo(0.975, 6); // README: 17.55 of 18 bits on average
      const randomShares = Array.from({ length: 20 }, (_, seed) =>
        determinedShare(scenario.sampleWorld(createRng(`${seed}/world`)), seed, 16),
      );
      const randomMean = randomShares.reduce((a, b) => a + b, 0) / 20;
      expect(randomMean).toBeGreaterThan(0.9);
      expect(randomMean).toBeCloseTo(356 / 360, 6); // README: 0.989 (356 of 360 bits; worst world 16 / 18)
      expect(Math.min(...randomShares)).toBe(16 / 18);
    },
  );
});
