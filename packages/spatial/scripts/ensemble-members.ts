// What an ensemble of dynamics networks buys: spatial fitted on one image view (offline protocol, data and test
// windows derived exactly as `pnpm bench` does), then the skill of each member's rollouts alone and of their average
// (the model's forecast), one line per seed, then the medians.
// Run: pnpm exec tsx packages/spatial/scripts/ensemble-members.ts <scenario> <budget> [seeds=1000-1004] [config JSON]
//   e.g. pnpm exec tsx packages/spatial/scripts/ensemble-members.ts hidden-laws 1024 1000-1004 '{"ensemble":3}'
import {
  discoverPlugins,
  evaluationSet,
  findWorkspaceRoot,
  forecastWindows,
  jobWorld,
  loadScenario,
  quietRun,
  scoreForecast,
  trainingSet,
  trainStd,
  type Forecast,
} from '@worldbench/core';
import spatial, { type SpatialModel } from '../src/index';

const [name, budgetText, seedText = '1000-1004', configText = '{}'] = process.argv.slice(2);
if (!name || !budgetText) throw new Error('usage: ensemble-members.ts <scenario> <budget> [seeds A-B] [config JSON]');
const entry = discoverPlugins(findWorkspaceRoot()).scenarios.find((s) => s.id === name || s.id.startsWith(`${name}-v`));
if (!entry) throw new Error(`no scenario "${name}"`);
const scenario = await loadScenario(entry.entry);
const { spec } = scenario;
const view = 'frame';
const budget = Number(budgetText);
const config = JSON.parse(configText);
const [lo, hi] = seedText.split('-').map(Number);
const H = String(spec.horizon);
const round = (x: number | null | undefined) => (x == null ? null : +x.toFixed(3));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const rows: Array<{ members: number[][]; ensemble: number[] }> = [];
for (let seed = lo; seed <= (hi ?? lo); seed++) {
  const world = jobWorld(scenario, seed);
  const train = trainingSet(scenario, world, 'behavior', budget, seed);
  const scale = trainStd(train.observed, view);
  const model = (await spatial.create(spec, view, { ...spatial.defaults, ...config })) as SpatialModel;
  await model.fit(train.observed, quietRun(seed));
  const set = evaluationSet(scenario, world, 'test', seed, { count: 64, horizon: spec.horizon });
  const w = forecastWindows(spec, view, set.observed, set.clean, set.starts, spec.historySteps, spec.horizon);
  const skill = (f: Forecast) => {
    const s = scoreForecast({
      spec: spec.views[view],
      truth: w.truth,
      forecast: f,
      lastObserved: w.lastObserved,
      scale,
    });
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
