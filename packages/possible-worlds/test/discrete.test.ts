// The default (library 'search', told only the spec) on the discrete scenarios: it reads each world by
// itself and beats persistence (skill 0) by the stated margins at budgets <= 1024 (dev seeds 0 and 1).
import { describe, expect, it } from 'vitest';
import {
  checkWorldModel,
  createRng,
  evaluateModel,
  quietRun,
  simulateEpisodes,
  type Scenario,
  type ScenarioSpec,
} from '@worldbench/core';
import codeTrace from '@worldbench/code-trace';
import lifeLike, { ruleNotation, type LifeWorld } from '@worldbench/life-like';
import spriteWorld from '@worldbench/sprite-world';
import possibleWorlds from '../src/index';
import { chooseLibrary } from '../src/model';

const job = (scenario: Scenario, budget: number, seed: number, policy: 'behavior' | 'explore' = 'behavior') =>
  evaluateModel(possibleWorlds, scenario, { view: 'state', budget, seed, policy });

describe('life-like-v1 state, budget 256: local rule induction', () => {
  it.each([0, 1])(
    'seed %i: finds the outer-totalistic Moore radius-1 torus rule, reads back its B/S rule, every step exact ' +
      'to h = 32',
    async (seed) => {
      const r = await job(lifeLike as Scenario, 256, seed);
      const best = (r.explain as any).ranked[0];
      expect(best.id).toBe('rule: outer-totalistic moore-1 torus');
      expect(best.table.notation.replaceAll(',', '')).toBe(ruleNotation((r.world as LifeWorld).rule));
      for (let h = 1; h <= 32; h++) expect(r.metrics.test.accStep[String(h)], `h = ${h}`).toBe(1);
      expect(r.metrics.test.skill['1']).toBe(1);
    },
  );
});

describe('code-trace-v1 state, budget 1024: program induction', () => {
  it.each([0, 1])(
    'seed %i: finds the pointer, the opcode column and the modulus, every instruction exact; accStep h = 1 >= 0.99 ' +
      '(skill >= 0.95 over persistence)',
    async (seed) => {
      const r = await job(codeTrace as Scenario, 1024, seed);
      const best = (r.explain as any).ranked[0];
      expect(best.layout).toMatchObject({
        pointer: 'x0',
        opcodeColumn: 0,
        modulus: (r.world as { modulus: number }).modulus,
      });
      expect(Object.values(best.programs).some((p) => / wrong\)/.test(p as string))).toBe(false);
      expect(r.metrics.test.accStep['1']).toBeGreaterThanOrEqual(0.99);
      expect(r.metrics.test.skill['1']).toBeGreaterThanOrEqual(0.95);
    },
  );

  it('update(): a new dialect is detected as a change and the programs refitted on the recent window', async () => {
    const world = codeTrace.sampleWorld(createRng('3/world'));
    const episodes = (w: unknown, label: string, count: number) =>
      simulateEpisodes(codeTrace as Scenario, w, { count, split: 'train', policy: 'behavior', rng: createRng(label) });
    const model = await possibleWorlds.create(codeTrace.spec, 'state', possibleWorlds.defaults);
    await model.fit(episodes(world, 'ct-train', 32), quietRun(3));
    await model.update!(episodes(world, 'ct-same', 4), quietRun(3));
    expect((model.explain!() as any).changes).toBeUndefined();
    await model.update!(episodes(codeTrace.shift!(world, createRng('ct-shift')), 'ct-after', 4), quietRun(3));
    expect((model.explain!() as any).changes).toHaveLength(1);
  });
});

describe('sprite-world-v1 state, budget 1024: object rules', () => {
  it.each([0, 1])(
    "seed %i, offline-explore: finds each action index's direction and the pushes; skill h = 1 >= 0.95",
    async (seed) => {
      const r = await job(spriteWorld as Scenario, 1024, seed, 'explore');
      const best = (r.explain as any).ranked[0];
      expect(best.id).toBe('movers');
      const names = ['nothing', 'up (row - 1)', 'down (row + 1)', 'left (column - 1)', 'right (column + 1)'];
      const mapping = (r.world as { mapping: number[] }).mapping;
      expect(best.steps).toEqual(Object.fromEntries(mapping.map((d, a) => [`action ${a}`, names[d]])));
      expect(r.metrics.test.skill['1']).toBeGreaterThanOrEqual(0.95);
    },
  );

  it.each([0, 1])(
    'seed %i, offline (the expert never pushes nor bumps): says what it assumes of what it never met; skill h = ' +
      '1 >= 0.7',
    async (seed) => {
      const r = await job(spriteWorld as Scenario, 1024, seed, 'behavior');
      const best = (r.explain as any).ranked[0];
      expect(best.id).toBe('movers');
      // walls (1) and boxes (3) were never met and never changed: assumed to block
      expect(best.assumptions).toEqual(
        expect.arrayContaining([
          'meeting value 1: never seen; it never changes, so assumed to block',
          'meeting value 3: never seen; it never changes, so assumed to block',
        ]),
      );
      expect(r.metrics.test.skill['1']).toBeGreaterThanOrEqual(0.7);
    },
  );
});

describe('what the search reads', () => {
  const spec = (views: ScenarioSpec['views'], context?: ScenarioSpec['context']): ScenarioSpec => ({
    id: 'made-up-v1',
    summary: '',
    views,
    context,
    action: null,
    episodeLength: 8,
    historySteps: 1,
    horizon: 2,
    tags: [],
  });

  it(
    'supports() names every categorical view it reads, and says why for the others; a categorical job asked for ' +
      'the generic library reads by discrete search and says so',
    () => {
      expect(possibleWorlds.supports(lifeLike.spec)).toEqual({ views: ['state'] });
      expect(possibleWorlds.supports(spriteWorld.spec)).toEqual({ views: ['state'] });
      expect(possibleWorlds.supports(codeTrace.spec)).toEqual({ views: ['state'] });
      const refused = possibleWorlds.supports(
        spec({ tokens: { shape: [6], kind: 'token', vocab: 4 }, frame: { shape: [4, 4], kind: 'image' } }),
      ) as { reason: string };
      expect(refused.reason).toMatch(
        /tokens: discrete worlds read 2-D grids .* view tokens is \[6\] without a rank-2 categorical context/,
      );
      expect(refused.reason).toMatch(/frame: images are for pixel models/);
      expect(chooseLibrary(lifeLike.spec, 'state', { ...possibleWorlds.defaults, library: 'generic' }).note).toMatch(
        /discrete search/,
      );
    },
  );

  it.each([lifeLike, codeTrace, spriteWorld].map((s) => [s.spec.id, s as Scenario] as const))(
    'passes checkWorldModel with the default config on %s (save -> load -> the same forecast)',
    async (_id, scenario) => {
      expect(await checkWorldModel(possibleWorlds, scenario)).toEqual(['state']);
    },
  );
});
