// act() and update(): choosing informative actions, and noticing when the hidden law changes.
import { describe, expect, it } from 'vitest';
import {
  addObservationNoise,
  createRng,
  forecastWindows,
  quietRun,
  simulateEpisodes,
  tensor,
  trainingEpisodes,
  windowStarts,
  type Scenario,
} from '@worldbench/core';
import codeTrace from '@worldbench/code-trace';
import spriteWorld from '@worldbench/sprite-world';
import hiddenLaws from '@worldbench/hidden-laws';
import bouncingBalls from '@worldbench/bouncing-balls';
import possibleWorlds from '../src/index';

const scenario = hiddenLaws as Scenario;
const spec = scenario.spec;
const noisy = (ep: ReturnType<typeof simulateEpisodes>, label: string) =>
  addObservationNoise(ep, spec.observationNoise, {}, createRng(label));

async function fitted(world: unknown, seed: number) {
  const model = await possibleWorlds.create(
    spec,
    'state',
    { ...possibleWorlds.defaults, library: 'scenario' },
    { hypotheses: scenario.hypotheses },
  );
  await model.fit(
    noisy(trainingEpisodes(scenario, world, 64, 'behavior', createRng(`${seed}/train`)), `${seed}/noise`),
    quietRun(seed),
  );
  return model;
}

describe('act', () => {
  it('returns one in-range action per episode, deterministically under a seed', async () => {
    const world = scenario.sampleWorld(createRng('0/world'));
    const history = noisy(
      simulateEpisodes(scenario, world, { count: 3, split: 'test', policy: 'explore', rng: createRng('h'), steps: 5 }),
      'hn',
    );
    const a1 = await (await fitted(world, 0)).act!(history, quietRun(7));
    const a2 = await (await fitted(world, 0)).act!(history, quietRun(7));
    expect(a1.shape).toEqual([3, 2]);
    expect(Array.from(a1.data)).toEqual(Array.from(a2.data));
    for (const x of a1.data) expect(Math.abs(x)).toBeLessThanOrEqual(1);
  });
});

describe('act with a leading world that leaves the reals', () => {
  it('still chooses a finite, in-range action for every episode (bouncing-balls, no hints: a found law blows up at ' +
    'the walls)', { tags: ['slow'] }, async () => {
    const bb = bouncingBalls as Scenario;
    for (const seed of [0, 4]) {
      // seeds where act() threw before (every candidate scored NaN)
      const world = bb.sampleWorld(createRng(`${seed}/world`));
      const model = await possibleWorlds.create(bb.spec, 'state', possibleWorlds.defaults);
      await model.fit(trainingEpisodes(bb, world, 64, 'behavior', createRng(`${seed}/train`)), quietRun(seed));
      const history = simulateEpisodes(bb, world, {
        count: 16,
        split: 'test',
        policy: 'explore',
        rng: createRng(`${seed}/h`),
        steps: 4,
      });
      const chosen = await model.act!(history, quietRun(7));
      expect(chosen.shape).toEqual([16, ...bb.spec.action!.shape]);
      for (const x of chosen.data) expect(Number.isFinite(x) && Math.abs(x) <= 1).toBe(true);
    }
  });
});

describe('act on a discrete world', () => {
  it(
    'breaks ties between equally informative actions by a seeded draw (sprite-world, 64 expert steps: every index ' +
      'scores the same)',
    async () => {
      const sw = spriteWorld as Scenario;
      const world = sw.sampleWorld(createRng('0/world'));
      const model = await possibleWorlds.create(sw.spec, 'state', possibleWorlds.defaults);
      await model.fit(trainingEpisodes(sw, world, 64, 'behavior', createRng('0/train')), quietRun(0));
      const history = simulateEpisodes(sw, world, {
        count: 16,
        split: 'test',
        policy: 'explore',
        rng: createRng('h'),
        steps: 4,
      });
      const chosen = Array.from((await model.act!(history, quietRun(7))).data);
      // before: the first of the tied candidates, index 0 (noop), for all 16 episodes, so nothing was learned from them
      expect(new Set(chosen).size).toBeGreaterThanOrEqual(3);
      expect(Array.from((await model.act!(history, quietRun(7))).data)).not.toEqual(chosen); // a new draw per call
      const again = await possibleWorlds.create(sw.spec, 'state', possibleWorlds.defaults);
      await again.fit(trainingEpisodes(sw, world, 64, 'behavior', createRng('0/train')), quietRun(0));
      expect(Array.from((await again.act!(history, quietRun(7))).data)).toEqual(chosen); // the same seed, the same draw
    },
  );
});

describe('update', () => {
  it(
    'keeps the law on more of the same data, and detects a change of law and refits on the ' + 'recent window',
    async () => {
      const world = scenario.sampleWorld(createRng('0/world'));
      const truth = scenario.hypotheses!.truth(world).id;
      const model = await fitted(world, 0);
      expect((model.explain!() as any).ranked[0].id).toBe(truth);
      const same = noisy(
        simulateEpisodes(scenario, world, { count: 2, split: 'train', policy: 'explore', rng: createRng('same') }),
        'same-noise',
      );
      await model.update!(same, quietRun(0));
      expect((model.explain!() as any).changes).toBeUndefined();
      // a shift to a law that behaves visibly differently (spring -> pendulum can be indistinguishable at small
      // amplitude)
      let k = 0,
        shifted = scenario.shift!(world, createRng('shift-0'));
      while (!['gravity', 'free', 'central', 'drag'].includes(scenario.hypotheses!.truth(shifted).id))
        shifted = scenario.shift!(world, createRng(`shift-${++k}`));
      const newTruth = scenario.hypotheses!.truth(shifted).id;
      expect(newTruth).not.toBe(truth);
      const after = noisy(
        simulateEpisodes(scenario, shifted, { count: 2, split: 'train', policy: 'explore', rng: createRng('after') }),
        'after-noise',
      );
      await model.update!(after, quietRun(0));
      const explained = model.explain!() as any;
      expect(explained.changes).toEqual([{ at: 1, from: truth, to: newTruth }]);
      expect(explained.ranked[0].id).toBe(newTruth);
    },
  );
});

describe('update on a shift within one law family', () => {
  it(
    'code-trace: a new dialect (same family, other assignment) is detected and refitted on the ' + 'recent window',
    async () => {
      // the family id stays register-machine-wrap: only the fitted assignment says the world changed
      const ct = codeTrace as Scenario;
      const world = ct.sampleWorld(createRng('3/world'));
      const episodes = (w: unknown, label: string, count: number) =>
        simulateEpisodes(ct, w, { count, split: 'train', policy: 'behavior', rng: createRng(label) });
      const model = await possibleWorlds.create(
        ct.spec,
        'state',
        { ...possibleWorlds.defaults, library: 'scenario' },
        { hypotheses: ct.hypotheses },
      );
      await model.fit(episodes(world, 'ct-train', 8), quietRun(3));
      const before = (model.explain!() as any).ranked[0].statement;
      await model.update!(episodes(world, 'ct-same', 2), quietRun(3));
      expect((model.explain!() as any).changes).toBeUndefined();
      expect((model.explain!() as any).ranked[0].statement).toBe(before);
      const shifted = ct.shift!(world, createRng('ct-shift'));
      await model.update!(episodes(shifted, 'ct-after', 2), quietRun(3));
      const explained = model.explain!() as any;
      expect(explained.changes).toHaveLength(1);
      expect(explained.ranked[0].statement).not.toBe(before);
      // the refit on the recent window forecasts the new dialect's next states exactly
      const check = episodes(shifted, 'ct-check', 8);
      const K = ct.spec.historySteps;
      const w = forecastWindows(
        ct.spec,
        'state',
        check,
        check,
        windowStarts(8, ct.spec.episodeLength, K, 1, createRng('ct-w')),
        K,
        1,
      );
      const f = await model.forecast(w.query, quietRun(3));
      const share = (pred: ArrayLike<number>) =>
        Array.from(pred).filter((x, i) => Math.round(x) === Math.round(w.truth.data[i])).length / w.truth.data.length;
      // two episodes may not show every token (measured 0.975: one register of 40 wrong); persistence copies the last
      // state
      expect(share(f.mean.data)).toBeGreaterThan(0.95);
      expect(share(f.mean.data)).toBeGreaterThan(share(w.lastObserved.data) + 0.2);
    },
  );
});

describe('forecasts from a window the law does not explain', () => {
  it('hold magnitude parameters positive: a drag world shown a speeding-up history does not run away', async () => {
    // dev seed 12's world is quadratic drag; the history is that of hidden-laws seed 1001's live stream just after its
    // shift to a restoring law: the speed grows, so its in-context drag coefficient comes out below zero, and the
    // drag flow v / (1 + c |v| tau) then ran away (forecast speeds of -17, -23 at h = 1-2, ~1e3 later)
    const world = scenario.sampleWorld(createRng('12/world'));
    expect(scenario.hypotheses!.truth(world).id).toBe('drag');
    const model = await fitted(world, 12);
    expect((model.explain!() as any).ranked[0].id).toBe('drag');
    const history = Float32Array.of(
      1.96,
      3.16,
      0.13,
      0.24,
      1.91,
      3.19,
      0.02,
      0.27,
      1.85,
      3.17,
      -0.77,
      -0.79,
      1.8,
      3.04,
      -1.34,
      -1.86,
    );
    const K = 4,
      H = 16;
    const query = {
      view: 'state',
      history: { views: { state: tensor([1, K, 4], history) }, actions: tensor([1, K - 1, 2]), context: {} },
      actions: tensor([1, H, 2]),
      horizon: H,
    };
    const f = await model.forecast(query, quietRun(12));
    const largest = Math.max(...Array.from(f.mean.data, Math.abs));
    expect(largest).toBeLessThan(10);
  });
});
