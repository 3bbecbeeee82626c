// What act() costs (a benchmark figure, not a test): per scenario with actions, one fit of jepa on the expert's data at
// the budget, then the on-policy protocol's calls of act() for one round of the budget (budget / 4 transitions, its
// episodes stepped together as the runner does, with the scenario's explore actions standing in for the world's
// answer so that every run sees the same histories). The first act() after a fit trains the disagreement heads; the
// fit itself is the same with and without heads (actHeads = 1 has no act()). The machine's load is printed beside.
// Run: pnpm exec tsx packages/jepa/scripts/act-cost.ts [budget=256] [seed=1000] [config JSON] [scenarios a,b]
import { loadavg } from 'node:os';
import { jobWorld, quietRun, sliceSteps, trainingSet } from '@worldbench/core';
import { scenarioNamed } from '../../../scripts/figures/common';
import jepa from '../src/index';

const [
  budgetText = '256',
  seedText = '1000',
  configText = '{}',
  names = 'bouncing-balls,hidden-laws,resonance,sprite-world',
] = process.argv.slice(2);
const budget = Number(budgetText),
  seed = Number(seedText),
  overrides = JSON.parse(configText);
if (!(budget >= 4) || !Number.isInteger(seed)) {
  console.error('usage: act-cost.ts [budget >= 4] [seed] [config JSON] [scenarios a,b]');
  process.exit(2);
}

console.log(`budget ${budget}, seed ${seed}, config ${JSON.stringify(overrides)}, load ${loadavg()[0].toFixed(1)}`);
console.log(
  '| scenario | fit s (actHeads 1) | fit s (actHeads 4) | first act s (heads trained) | later act ms/call | calls |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const name of names.split(',')) {
  const scenario = await scenarioNamed(name);
  const world = jobWorld(scenario, seed);
  const data = trainingSet(scenario, world, 'behavior', budget, seed).observed;
  // a round's histories: the explore policy's episodes of budget / 4 transitions, read step by step
  const round = trainingSet(scenario, world, 'explore', Math.ceil(budget / 4), seed + 1).observed;
  const steps = round.views.state.shape[1] - 1;
  const timeFit = async (actHeads: number) => {
    const model = await jepa.create(scenario.spec, 'state', { ...jepa.defaults, ...overrides, actHeads });
    const t0 = performance.now();
    await model.fit(data, quietRun(seed));
    return { model, seconds: (performance.now() - t0) / 1000 };
  };
  const one = await timeFit(1);
  await one.model.dispose?.();
  const { model, seconds } = await timeFit(4);
  const act = model.act as NonNullable<typeof model.act>;
  let t0 = performance.now();
  await act(sliceSteps(round, 0, 1), quietRun(seed));
  const first = (performance.now() - t0) / 1000;
  t0 = performance.now();
  for (let t = 1; t < steps; t++) await act(sliceSteps(round, 0, t + 1), quietRun(seed));
  const later = (performance.now() - t0) / Math.max(1, steps - 1);
  await model.dispose?.();
  const cells = [one.seconds.toFixed(2), seconds.toFixed(2), first.toFixed(2), later.toFixed(1), steps];
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
