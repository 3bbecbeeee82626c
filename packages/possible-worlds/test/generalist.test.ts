// The possible-worlds generalist (generalist.ts): two planted worlds of the same shapes (a particle in the plane
// under a spring, and under a uniform pull), none of the scenarios'; without being told which world made an
// episode, the evidence must sort the episodes and forecast each world's windows as well as when told.
import { describe, expect, it } from 'vitest';
import {
  evaluationSet,
  jobWorld,
  quietRun,
  scoreSplit,
  selectEpisodes,
  trainingSet,
  metricScale,
  type GeneralistEpisode,
  type GeneralistModel,
  type Scenario,
  type WorldModel,
} from '@worldbench/core';
import possibleWorlds from '../src/index';
import { plantedScenario } from './planted';

const spring = plantedScenario({
  id: 'spring',
  field: (s, a, p) => [-p * s[0] + a[0], -p * s[1] + a[1]],
  train: [2, 4],
});
const pull = plantedScenario({ id: 'pull', field: (_s, a, p) => [0.5 * a[0], -p + 0.5 * a[1]], train: [0.5, 1.5] });
const worlds: Scenario[] = [spring as Scenario, pull as Scenario];
const SEED = 7;
const BUDGET = 192;
/** A smaller search than the default: this tests the sorting of episodes into worlds, not the search. */
const config = { ...possibleWorlds.defaults, searchEffort: 1000 };

/** Each world's training episodes as E = 1 entries, interleaved (world 0, 1, 0, 1, ...), named only when `tell`. */
function data(tell: boolean): { episodes: GeneralistEpisode[]; truth: string[] } {
  const perWorld = worlds.map((s) => trainingSet(s, jobWorld(s, SEED), 'behavior', BUDGET, SEED).observed);
  const episodes: GeneralistEpisode[] = [];
  const truth: string[] = [];
  const E = perWorld[0].views.state.shape[0];
  for (let e = 0; e < E; e++)
    perWorld.forEach((o, w) => {
      episodes.push({ episode: selectEpisodes(o, [e]), world: tell ? w : null });
      truth.push(worlds[w].spec.id);
    });
  return { episodes, truth };
}

/** Skill at h = 1 on world w's test windows, the world named only when `tell`. */
async function skill(model: GeneralistModel, w: number, tell: boolean): Promise<number> {
  const s = worlds[w];
  const world = jobWorld(s, SEED);
  const face: WorldModel = {
    fit: async () => ({ params: 0 }),
    save: async () => {},
    forecast: (q, run) => model.forecast(q, tell ? w : null, run),
  };
  const test = evaluationSet(s, world, 'test', SEED, { count: 32, horizon: 4 });
  const scale = metricScale(test, s.spec, 'state');
  const score = await scoreSplit(face, s.spec, 'state', test, 4, scale, quietRun(SEED));
  return score.metrics.skill['1'] as number;
}

describe('possible-worlds generalist', () => {
  it('sorts the episodes of two same-shaped worlds by evidence and forecasts as well as when told', async () => {
    const specs = worlds.map((s) => ({ spec: s.spec, view: 'state' }));
    const told = await possibleWorlds.createGeneralist!(specs, config);
    await told.fit(data(true).episodes, quietRun(SEED));
    const untold = await possibleWorlds.createGeneralist!(specs, config);
    const { episodes, truth } = data(false);
    const report = await untold.fit(episodes, quietRun(SEED));
    expect(report.notes?.told).toBe(false);

    // the clusters' names are arbitrary (both worlds show the same shapes): purity up to a swap of the two
    const assignment = untold.explain!().assignment as string[];
    const agree = assignment.filter((a, i) => a === truth[i]).length / truth.length;
    expect(Math.max(agree, 1 - agree)).toBeGreaterThanOrEqual(0.95);

    for (const w of [0, 1]) {
      const known = await skill(told, w, true);
      const inferred = await skill(untold, w, false);
      expect(known).toBeGreaterThan(0.5);
      // the test window's own history names its world: within 0.05 of the told model's skill
      expect(inferred).toBeGreaterThan(known - 0.05);
    }
  }, 60_000);

  it('refuses a training episode whose shapes no world given has', async () => {
    const model = await possibleWorlds.createGeneralist!(
      [{ spec: spring.spec, view: 'state' }],
      possibleWorlds.defaults,
    );
    // the same episode without its actions: what a world without actions would show, which this spring is not
    const episode = { ...trainingSet(spring, null, 'behavior', 32, SEED).observed, actions: null };
    await expect(model.fit([{ episode, world: null }], quietRun(SEED))).rejects.toThrow(/no world given has/);
  });
});
