// The possible-worlds generalist where the data's shapes do not name the world: two planted worlds of one shape
// (a particle in the plane under a spring, and under a uniform pull; none of the scenarios'), fitted as one model
// told each episode's world and not told, against the two specialists; leaderboard seeds 1000-1004, budget 256
// of each world. Episodes are interleaved as the runner interleaves them (generalistData) and scored as the runner
// scores (the specialist's metric scale, the usual test windows).
// (docs/experiments/2026-12-06-generalist-possible-worlds.md)
// Run: pnpm exec tsx scripts/figures/generalist-same-shape.ts
import { loadavg } from 'node:os';
import {
  evaluationSet,
  jobWorld,
  quietRun,
  scoreSplit,
  selectEpisodes,
  trainingSet,
  metricScale,
  type GeneralistModel,
  type Scenario,
  type WorldModel,
} from '@worldbench/core';
import possibleWorlds from '@worldbench/possible-worlds';
import { generalistData } from '../../packages/runner/src/generalist';
import { plantedScenario } from '../../packages/possible-worlds/test/planted';
import { fmt, median, SEEDS } from './common';

const BUDGET = 256;
const spring = plantedScenario({
  id: 'spring',
  field: (s, a, p) => [-p * s[0] + a[0], -p * s[1] + a[1]],
  train: [2, 4],
});
const pull = plantedScenario({ id: 'pull', field: (_s, a, p) => [0.5 * a[0], -p + 0.5 * a[1]], train: [0.5, 1.5] });
const worlds: Scenario[] = [spring as Scenario, pull as Scenario];
const specs = worlds.map((s) => ({ spec: s.spec, view: 'state' }));
const cpuSeconds = (f: () => Promise<unknown>) => async () => {
  const t0 = process.cpuUsage();
  await f();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1e6;
};

/** Skill at h = 1 on world w's test windows, the model answering through `forecast`. */
async function skill(forecast: WorldModel['forecast'], w: number, seed: number): Promise<number> {
  const s = worlds[w];
  const world = jobWorld(s, seed);
  const face: WorldModel = { fit: async () => ({ params: 0 }), save: async () => {}, forecast };
  const test = evaluationSet(s, world, 'test', seed, { count: 64, horizon: s.spec.horizon });
  const scale = metricScale(test, s.spec, 'state');
  return (await scoreSplit(face, s.spec, 'state', test, s.spec.horizon, scale, quietRun(seed))).metrics.skill['1']!;
}

console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
console.log('| seed | world | specialist | generalist told | generalist not told |\n| --- | --- | --- | --- | --- |');
const gains: { told: number[]; untold: number[] } = { told: [], untold: [] };
const purity: number[] = [];
const cost = { specialists: [] as number[], told: [] as number[], untold: [] as number[] };
for (const seed of SEEDS.slice(0, 5)) {
  const observed = worlds.map((s) => trainingSet(s, jobWorld(s, seed), 'behavior', BUDGET, seed).observed);
  const perWorld = observed.map((o) =>
    Array.from({ length: o.views.state.shape[0] }, (_, e) => selectEpisodes(o, [e])),
  );
  const run = quietRun(seed);
  const specialists = await Promise.all(
    worlds.map((s) => possibleWorlds.create(s.spec, 'state', possibleWorlds.defaults)),
  );
  let specialistSeconds = 0;
  for (const [w, m] of specialists.entries()) specialistSeconds += await cpuSeconds(() => m.fit(observed[w], run))();
  cost.specialists.push(specialistSeconds);
  const fitted: Record<'told' | 'untold', GeneralistModel> = {} as never;
  for (const told of [true, false]) {
    const model = await possibleWorlds.createGeneralist!(specs, possibleWorlds.defaults);
    const data = generalistData(perWorld, seed, told);
    cost[told ? 'told' : 'untold'].push(await cpuSeconds(() => model.fit(data, run))());
    fitted[told ? 'told' : 'untold'] = model;
    if (!told) {
      // the names of the two clusters are arbitrary (one shape): purity up to a swap
      const truth = generalistData(perWorld, seed, true).map((d) => worlds[d.world!].spec.id);
      const assignment = model.explain!().assignment as string[];
      const agree = assignment.filter((a, i) => a === truth[i]).length / truth.length;
      purity.push(Math.max(agree, 1 - agree));
    }
  }
  for (const w of [0, 1]) {
    const base = await skill((q, r) => specialists[w].forecast(q, r), w, seed);
    const told = await skill((q, r) => fitted.told.forecast(q, w, r), w, seed);
    const untold = await skill((q, r) => fitted.untold.forecast(q, null, r), w, seed);
    gains.told.push(told - base);
    gains.untold.push(untold - base);
    console.log(`| ${seed} | ${worlds[w].spec.id} | ${fmt(base)} | ${fmt(told)} | ${fmt(untold)} |`);
  }
}
console.log(`\nepisodes sorted right, not told (per seed): ${purity.map(fmt).join(', ')}`);
console.log(
  `transfer gain, median over seeds and worlds: told ${fmt(median(gains.told))}, not told ${fmt(median(gains.untold))}`,
);
console.log(
  `fit CPU s, median over seeds: specialists (sum) ${fmt(median(cost.specialists))}, generalist told ` +
    `${fmt(median(cost.told))}, not told ${fmt(median(cost.untold))}`,
);
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
