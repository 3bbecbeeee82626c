// The benchmark figures of packages/possible-worlds/README.md, on the leaderboard seeds 1000-1019.
// Each job is derived exactly as `pnpm bench` derives it (core's evaluateModel), so the skills match the bench.
// Run: pnpm exec tsx scripts/figures/possible-worlds.ts [scenario ...]
import { evaluateModel, trainingSet } from '@worldbench/core';
import { linear } from '@worldbench/baselines';
import possibleWorlds, { type PossibleWorldsModel } from '@worldbench/possible-worlds';
import { fmt, median, scenarioNamed, SEEDS, sections } from './common';

/** These figures are the oracle's: told each scenario's candidate laws (library=scenario). */
const oracle = { library: 'scenario' };
const seeds = SEEDS;
const load = scenarioNamed;
const run = sections();

if (run('hidden-laws')) {
  const scenario = await load('hidden-laws');
  let identified = 0;
  const h1: number[] = [],
    h16: number[] = [],
    notes: string[] = [];
  for (const seed of seeds) {
    const r = await evaluateModel(possibleWorlds, scenario, { view: 'state', budget: 64, seed, config: oracle });
    const truth = scenario.hypotheses!.truth(r.world).id;
    const first = (r.explain as any).ranked[0].id as string;
    // observationally equivalent on that data: within 2 nats of the truth's held-out log-likelihood on 8 fresh
    // episodes of the training distribution (the expert's policy; a seed stream no job uses)
    const heldOut = (r.model as PossibleWorldsModel).heldOutLogLik(
      trainingSet(scenario, r.world, 'behavior', 8 * scenario.spec.episodeLength, seed + 100000).observed,
    );
    const ok = first === truth || heldOut[first] >= heldOut[truth] - 2;
    if (ok) identified++;
    if (first !== truth)
      notes.push(
        `${seed}: ${truth} true, ${first} first ` +
          `(held-out ${heldOut[first].toFixed(1)} vs ${heldOut[truth].toFixed(1)})`,
      );
    h1.push(r.metrics.test.skill['1']!);
    h16.push(r.metrics.test.skill['16']!);
  }
  console.log(
    `hidden-laws-v1 state, budget 64: true law (or one within 2 nats of its held-out log-likelihood) ` +
      `first for ${identified}/20 seeds; median skill h=1 ${fmt(median(h1))}, h=16 ${fmt(median(h16))}`,
  );
  for (const n of notes) console.log(`  ${n}`);
}

if (run('life-like')) {
  const scenario = await load('life-like');
  let identified = 0,
    exact = 0;
  for (const seed of seeds) {
    const r = await evaluateModel(possibleWorlds, scenario, {
      view: 'state',
      budget: 16,
      seed,
      horizon: 32,
      config: oracle,
    });
    const truth = scenario.hypotheses!.truth(r.world);
    const best = (r.explain as any).ranked[0];
    const space = scenario.hypotheses!.candidates.find((c) => c.id === truth.id)!;
    const right =
      best.id === truth.id &&
      best.undetermined.length === 0 &&
      space.kind === 'factored' &&
      space.factors.every((f, i) => best.assignment[f.name] === f.options[truth.assignment![i]]);
    if (right) {
      identified++;
      if (Array.from({ length: 32 }, (_, h) => r.metrics.test.accStep[String(h + 1)]).every((a) => a === 1)) exact++;
    }
  }
  console.log(
    `life-like-v1 state, budget 16: rule fully determined and identified for ${identified}/20 seeds; of those, ` +
      `accStep 1.0 at every h <= 32 for ${exact}`,
  );
}

if (run('code-trace')) {
  const scenario = await load('code-trace');
  let identified = 0;
  const acc: number[] = [];
  for (const seed of seeds) {
    const r = await evaluateModel(possibleWorlds, scenario, { view: 'state', budget: 256, seed, config: oracle });
    const truth = scenario.hypotheses!.truth(r.world);
    const best = (r.explain as any).ranked[0];
    const space = scenario.hypotheses!.candidates.find((c) => c.id === truth.id)!;
    if (
      best.id === truth.id &&
      space.kind === 'factored' &&
      space.factors.every((f, i) => best.assignment[f.name] === f.options[truth.assignment![i]])
    )
      identified++;
    acc.push(r.metrics.test.accStep['1']!);
  }
  console.log(
    `code-trace-v1 state, budget 256: dialect ` +
      `identified for ${identified}/20 seeds; median accStep h=1 ${fmt(median(acc))} (min ${fmt(Math.min(...acc))})`,
  );
}

if (run('bouncing-balls')) {
  const scenario = await load('bouncing-balls');
  const pw1: number[] = [],
    pw8: number[] = [],
    lin1: number[] = [],
    lin8: number[] = [];
  let boxFirst = 0;
  for (const seed of seeds) {
    const p = await evaluateModel(possibleWorlds, scenario, {
      view: 'state',
      budget: 1024,
      seed,
      config: { library: 'generic' },
    });
    const l = await evaluateModel(linear, scenario, { view: 'state', budget: 1024, seed });
    if ((p.explain as any).ranked[0].id === 'box') boxFirst++;
    pw1.push(p.metrics.test.skill['1']!),
      pw8.push(p.metrics.test.skill['8']!),
      lin1.push(l.metrics.test.skill['1']!),
      lin8.push(l.metrics.test.skill['8']!);
  }
  console.log(
    `bouncing-balls-v1 state, budget 1024, library generic: median ` +
      `skill h=1 ` +
      `${fmt(median(pw1))} (linear ` +
      `${fmt(median(lin1))}), h=8 ` +
      `${fmt(median(pw8))} (linear ${fmt(median(lin8))}); the box first for ${boxFirst}/20 seeds`,
  );
}
