// act() and update(): choosing informative actions, and noticing when the hidden law changes.
import { describe, expect, it } from 'vitest';
import { addObservationNoise, createRng, quietRun, simulateEpisodes, trainingEpisodes, type Scenario } from '@worldbench/core';
import hiddenLaws from '@worldbench/hidden-laws';
import possibleWorlds from '../src/index';

const scenario = hiddenLaws as Scenario;
const spec = scenario.spec;
const noisy = (ep: ReturnType<typeof simulateEpisodes>, label: string) => addObservationNoise(ep, spec.observationNoise, {}, createRng(label));

async function fitted(world: unknown, seed: number) {
  const model = await possibleWorlds.create(spec, 'state', possibleWorlds.defaults, { hypotheses: scenario.hypotheses });
  await model.fit(noisy(trainingEpisodes(scenario, world, 64, 'behavior', createRng(`${seed}/train`)), `${seed}/noise`), quietRun(seed));
  return model;
}

describe('act', () => {
  it('returns one in-range action per episode, deterministically under a seed', async () => {
    const world = scenario.sampleWorld(createRng('0/world'));
    const history = noisy(simulateEpisodes(scenario, world, { count: 3, split: 'test', policy: 'explore', rng: createRng('h'), steps: 5 }), 'hn');
    const a1 = await (await fitted(world, 0)).act!(history, quietRun(7));
    const a2 = await (await fitted(world, 0)).act!(history, quietRun(7));
    expect(a1.shape).toEqual([3, 2]);
    expect(Array.from(a1.data)).toEqual(Array.from(a2.data));
    for (const x of a1.data) expect(Math.abs(x)).toBeLessThanOrEqual(1);
  });
});

describe('update', () => {
  it('keeps the law on more of the same data, and detects a change of law and refits on the recent window', async () => {
    const world = scenario.sampleWorld(createRng('0/world'));
    const truth = scenario.hypotheses!.truth(world).id;
    const model = await fitted(world, 0);
    expect((model.explain!() as any).ranked[0].id).toBe(truth);
    const same = noisy(simulateEpisodes(scenario, world, { count: 2, split: 'train', policy: 'explore', rng: createRng('same') }), 'same-noise');
    await model.update!(same, quietRun(0));
    expect((model.explain!() as any).changes).toBeUndefined();
    // a shift to a law that behaves visibly differently (spring -> pendulum can be indistinguishable at small amplitude)
    let k = 0, shifted = scenario.shift!(world, createRng('shift-0'));
    while (!['gravity', 'free', 'central', 'drag'].includes(scenario.hypotheses!.truth(shifted).id)) shifted = scenario.shift!(world, createRng(`shift-${++k}`));
    const newTruth = scenario.hypotheses!.truth(shifted).id;
    expect(newTruth).not.toBe(truth);
    const after = noisy(simulateEpisodes(scenario, shifted, { count: 2, split: 'train', policy: 'explore', rng: createRng('after') }), 'after-noise');
    await model.update!(after, quietRun(0));
    const explained = model.explain!() as any;
    expect(explained.changes).toEqual([{ at: 1, from: truth, to: newTruth }]);
    expect(explained.ranked[0].id).toBe(newTruth);
  });
});
