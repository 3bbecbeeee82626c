// What an ensemble of dynamics networks buys: spatial fitted on one image view (offline protocol, data and test
// windows derived exactly as `pnpm bench` does), then the skill of each member's rollouts alone and of their average
// (the model's forecast), one line per seed, then the medians.
// Run: pnpm exec tsx packages/spatial/scripts/ensemble-members.ts <scenario> <budget> [seeds=1000-1004] [config JSON]
//   e.g. pnpm exec tsx packages/spatial/scripts/ensemble-members.ts hidden-laws 1024 1000-1004 '{"ensemble":3}'
import { quietRun, type Forecast } from '@worldbench/core';
import spatial, { type SpatialModel } from '../src/index';
import { offlineJob, scenarioNamed, seedRange } from './offline-job';

const [name, budgetText, seedText = '1000-1004', configText = '{}'] = process.argv.slice(2);
if (!name || !budgetText) throw new Error('usage: ensemble-members.ts <scenario> <budget> [seeds A-B] [config JSON]');
const scenario = await scenarioNamed(name);
const { spec } = scenario;
const view = 'frame';
const budget = Number(budgetText);
const config = JSON.parse(configText);
const H = String(spec.horizon);
const round = (x: number | null | undefined) => (x == null ? null : +x.toFixed(3));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const rows: Array<{ members: number[][]; ensemble: number[] }> = [];
for (const seed of seedRange(seedText)) {
  const { train, windows: w, score } = offlineJob(scenario, view, budget, seed);
  const model = (await spatial.create(spec, view, { ...spatial.defaults, ...config })) as SpatialModel;
  await model.fit(train.observed, quietRun(seed));
  const skill = (f: Forecast) => {
    const s = score(f);
    return [s.skill['1'] ?? NaN, s.skill[H] ?? NaN];
  };
  const ensemble = skill(await model.forecast(w.query));
  const members = (await model.memberForecasts(w.query)).map(skill);
  rows.push({ members, ensemble });
  console.log(
    JSON.stringify({
      seed,
      ensemble: ensemble.map(round),
      members: members.map((m) => m.map(round)),
      horizons: ['1', H],
    }),
  );
  await model.dispose?.();
}
const col = (f: (r: (typeof rows)[number]) => number) => round(median(rows.map(f)));
console.log(
  JSON.stringify({
    median: {
      ensemble: [col((r) => r.ensemble[0]), col((r) => r.ensemble[1])],
      member0: [col((r) => r.members[0]?.[0] ?? NaN), col((r) => r.members[0]?.[1] ?? NaN)],
      meanOfMembersH: col((r) => r.members.reduce((s, m) => s + m[1], 0) / r.members.length),
    },
  }),
);
