// Where possible-worlds' own experiments went on resonance-v1: the training data of each protocol as the runner makes
// it (the same named streams; on-policy through the model's act() and its fits after every round), and the share of
// its states that are informative (one step from them tells every pair of true laws apart: `isInformative` with the
// world's k, and `informativeAtEveryStiffness`, which needs only the state), its largest |x|, and the law the model
// held at the end. Rounds 2-4 only for the on-policy protocols (round 1 is the expert's, the same for both).
//
//   pnpm exec tsx scripts/figures/possible-worlds-reach.ts [BUDGET] [SEEDS] [CONFIG_JSON] [MODULE]
//   e.g. pnpm exec tsx scripts/figures/possible-worlds-reach.ts 256 1000-1009
// MODULE: another possible-worlds module to run instead (e.g. the package's src/index.ts of another commit, exported
// with `git archive`), for a before/after of act().
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  block,
  jobWorld,
  quietRun,
  trainingSet,
  type Episodes,
  type Scenario,
  type WorldModelModule,
} from '@worldbench/core';
import registered from '@worldbench/possible-worlds';
import resonance, { informativeAtEveryStiffness, isInformative, type ResonanceWorld } from '@worldbench/resonance';
import { onPolicyTraining, roundSizes } from '../../packages/runner/src/protocols';
import { fmt, median } from './common';

const budget = Number(process.argv[2] ?? 256);
const [from, to] = (process.argv[3] ?? '1000-1009').split('-').map(Number);
const overrides = JSON.parse(process.argv[4] ?? '{}');
const possibleWorlds: WorldModelModule<typeof registered.defaults> = process.argv[5]
  ? (await import(pathToFileURL(resolve(process.argv[5])).href)).default
  : registered;
if (!(budget > 0) || !(to >= from)) {
  console.error('usage: possible-worlds-reach.ts [BUDGET] [FROM-TO] [CONFIG_JSON] [MODULE]');
  process.exit(2);
}
const scenario = resonance as unknown as Scenario;
const PROTOCOLS = ['offline', 'offline-explore', 'on-policy-random', 'on-policy'] as const;

/** Share of informative states (world's k; every k), and the largest |x|, over episodes [first, E). */
function reach(data: Episodes, world: ResonanceWorld, first: number) {
  const s = data.views.state;
  let informative = 0,
    everyK = 0,
    n = 0,
    peak = 0;
  for (let e = first; e < s.shape[0]; e++)
    for (let t = 0; t < s.shape[1]; t++) {
      const bob = block(s, e, t);
      n++;
      if (isInformative(world.k, bob)) informative++;
      if (informativeAtEveryStiffness(bob)) everyK++;
      peak = Math.max(peak, Math.abs(bob[0]));
    }
  return { informative: informative / n, everyK: everyK / n, peak };
}

const rows: Record<string, { informative: number[]; everyK: number[]; peak: number[] }> = {};
console.log('| seed | law | k | protocol | informative | at every k | peak abs(x) | law held at the end |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (let seed = from; seed <= to; seed++) {
  const world = jobWorld(scenario, seed) as ResonanceWorld;
  for (const protocol of PROTOCOLS) {
    const model = await possibleWorlds.create(scenario.spec, 'state', { ...possibleWorlds.defaults, ...overrides });
    let data: Episodes;
    if (protocol === 'offline' || protocol === 'offline-explore') {
      data = trainingSet(scenario, world, protocol === 'offline' ? 'behavior' : 'explore', budget, seed).observed;
      await model.fit(data, quietRun(seed));
    } else {
      const actor = protocol === 'on-policy' ? 'model' : 'random';
      data = (await onPolicyTraining(model, scenario, world, 'state', budget, seed, actor, quietRun(seed))).observed;
    }
    // on-policy: leave out round 1 (the expert's episodes)
    const first = protocol.startsWith('on-policy') ? Math.ceil(roundSizes(budget)[0] / scenario.spec.episodeLength) : 0;
    const r = reach(data, world, first);
    rows[protocol] ??= { informative: [], everyK: [], peak: [] };
    rows[protocol].informative.push(r.informative);
    rows[protocol].everyK.push(r.everyK);
    rows[protocol].peak.push(r.peak);
    // a possible-worlds model's leading law; another module (MODULE: jepa) holds none
    const held =
      ((model.explain?.() ?? {}) as { ranked?: Array<{ statement: string }> }).ranked?.[0]?.statement ?? 'n/a';
    console.log(
      `| ${seed} | ${world.law} | ${world.k.toFixed(2)} | ${protocol} | ${fmt(r.informative)} | ${fmt(r.everyK)} | ` +
        `${r.peak.toFixed(2)} | ${held} |`,
    );
  }
}
console.log(`\nmedian over seeds ${from}-${to}, budget ${budget} (mean in brackets)`);
console.log('| protocol | informative | at every k | peak abs(x) |');
console.log('| --- | --- | --- | --- |');
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
for (const p of PROTOCOLS) {
  const r = rows[p];
  console.log(
    `| ${p} | ${fmt(median(r.informative))} (${fmt(mean(r.informative))}) | ${fmt(median(r.everyK))} ` +
      `(${fmt(mean(r.everyK))}) | ${median(r.peak).toFixed(2)} |`,
  );
}
