// Where possible-worlds' own experiments went on resonance-v1: the training data of each protocol as the runner makes
// it (the same named streams; on-policy through the model's act() and its fits after every round), and the share of
// its states that are informative (one step from them tells every pair of true laws apart: `isInformative` with the
// world's k, and `informativeAtEveryStiffness`, which needs only the state), its largest |x|, and the law the model
// held at the end, and its skill on the test split. Rounds 2-4 only for the on-policy protocols (round 1 is the
// expert's, the same for both). The last row, `pump`, is the on-policy protocol with the scenario's `pump` (the full
// force along the velocity, the largest rate of energy gain) acting instead of the model: how far a 64-step episode
// from rest can get, and what the model makes of such data.
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
  evaluationSet,
  quietRun,
  scoreSplit,
  tensor,
  trainingSet,
  metricScale,
  type Episodes,
  type Scenario,
  type WorldModelModule,
} from '@worldbench/core';
import registered from '@worldbench/possible-worlds';
import resonance, {
  informativeAtEveryStiffness,
  isInformative,
  pump,
  type ResonanceWorld,
} from '@worldbench/resonance';
import { onPolicyTraining, roundSizes } from '../../packages/runner/src/protocols';
import { fmt, median, paired } from './common';

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
const PROTOCOLS = ['offline', 'offline-explore', 'on-policy-random', 'on-policy', 'pump'] as const;

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

type Row = { informative: number[]; everyK: number[]; peak: number[]; h1: number[]; hH: number[] };
const rows: Record<string, Row> = {};
const H = scenario.spec.horizon;
console.log(
  `| seed | law | k | protocol | informative | at every k | peak abs(x) | skill h=1 | skill h=${H} | ` +
    'law held at the end |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (let seed = from; seed <= to; seed++) {
  const world = jobWorld(scenario, seed) as ResonanceWorld;
  // the model's skill on the test split, as the runner scores it (64 episodes; skill against persistence)
  const test = evaluationSet(scenario, world, 'test', seed, { count: 64, horizon: H });
  const scale = metricScale(test, scenario.spec, 'state');
  for (const protocol of PROTOCOLS) {
    const model = await possibleWorlds.create(scenario.spec, 'state', { ...possibleWorlds.defaults, ...overrides });
    let data: Episodes;
    if (protocol === 'offline' || protocol === 'offline-explore') {
      data = trainingSet(scenario, world, protocol === 'offline' ? 'behavior' : 'explore', budget, seed).observed;
      await model.fit(data, quietRun(seed));
    } else {
      const actor = protocol === 'on-policy-random' ? 'random' : 'model';
      if (protocol === 'pump') {
        // the last observed state of each episode, pushed along its velocity
        model.act = async (history: Episodes) => {
          const s = history.views.state;
          const [B, T] = s.shape;
          return tensor(
            [B, 1],
            Float32Array.from({ length: B }, (_, b) => pump(block(s, b, T - 1))[0]),
          );
        };
      }
      data = (await onPolicyTraining(model, scenario, world, 'state', budget, seed, actor, quietRun(seed))).observed;
    }
    // on-policy: leave out round 1 (the expert's episodes)
    const first =
      protocol.startsWith('on-policy') || protocol === 'pump'
        ? Math.ceil(roundSizes(budget)[0] / scenario.spec.episodeLength)
        : 0;
    const r = reach(data, world, first);
    const { skill } = (await scoreSplit(model, scenario.spec, 'state', test, H, scale, quietRun(seed))).metrics;
    rows[protocol] ??= { informative: [], everyK: [], peak: [], h1: [], hH: [] };
    rows[protocol].informative.push(r.informative);
    rows[protocol].everyK.push(r.everyK);
    rows[protocol].peak.push(r.peak);
    const [h1, hH] = [skill['1'] ?? NaN, skill[String(H)] ?? NaN];
    rows[protocol].h1.push(h1);
    rows[protocol].hH.push(hH);
    // a possible-worlds model's leading law; another module (MODULE: jepa) holds none
    const held =
      ((model.explain?.() ?? {}) as { ranked?: Array<{ statement: string }> }).ranked?.[0]?.statement ?? 'n/a';
    console.log(
      `| ${seed} | ${world.law} | ${world.k.toFixed(2)} | ${protocol} | ${fmt(r.informative)} | ${fmt(r.everyK)} | ` +
        `${r.peak.toFixed(2)} | ${fmt(h1)} | ${hH.toPrecision(3)} | ${held} |`,
    );
  }
}
console.log(`\nmedian over seeds ${from}-${to}, budget ${budget} (mean in brackets)`);
console.log(
  `| protocol | informative | at every k | peak abs(x) | skill h=1 | skill h=${H} | ` +
    "skill h=1 minus offline-explore's, paired: mean ± SE (mean - 2 SE) |",
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
for (const p of PROTOCOLS) {
  const r = rows[p];
  const gains = r.h1.map((x, i) => x - rows['offline-explore'].h1[i]);
  console.log(
    `| ${p} | ${fmt(median(r.informative))} (${fmt(mean(r.informative))}) | ${fmt(median(r.everyK))} ` +
      `(${fmt(mean(r.everyK))}) | ${median(r.peak).toFixed(2)} | ${fmt(median(r.h1))} | ${fmt(median(r.hH))} | ` +
      `${paired(gains)} |`,
  );
}
