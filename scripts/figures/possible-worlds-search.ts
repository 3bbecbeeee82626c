// Benchmark figures of possible-worlds' default (library 'search': equation discovery, no hints) on the
// real-valued state views, against its oracle (library 'scenario', told the candidate laws) and the generic
// library, on the leaderboard seeds 1000-1019; fit time at budget 4096; and worlds written outside the
// scenarios (planted laws). Each job is derived exactly as `pnpm bench` derives it (core's evaluateModel).
// Run: pnpm exec tsx scripts/figures/possible-worlds-search.ts [hidden-laws|bouncing-balls|fit-time|planted ...]
import { cpus, loadavg } from 'node:os';
import {
  addObservationNoise,
  createRng,
  evaluateModel,
  jobWorld,
  privilegedInfo,
  quietRun,
  trainingEpisodes,
  type Scenario,
} from '@worldbench/core';
import { linear } from '@worldbench/baselines';
import bouncingBalls from '@worldbench/bouncing-balls';
import hiddenLaws from '@worldbench/hidden-laws';
import possibleWorlds from '@worldbench/possible-worlds';
import { fmt, median, SEEDS, sections } from './common';
import { plantedScenario, plantedTwoBodies, type Field } from '../../packages/possible-worlds/test/planted';

const seeds = SEEDS;
const run = sections();
const skills = (r: Awaited<ReturnType<typeof evaluateModel>>, H: number) => [
  r.metrics.test.skill['1']!,
  r.metrics.test.skill[String(H)]!,
  r.metrics.ood.skill['1']!,
  r.metrics.ood.skill[String(H)]!,
];
const row = (label: string, xs: number[][]) =>
  `| ${label} | ${[0, 1, 2, 3].map((j) => fmt(median(xs.map((x) => x[j])))).join(' | ')} |`;
const header = (H: number) =>
  `| model | skill h=1 | skill h=${H} | ood skill h=1 | ood skill h=${H} |\n| --- | --- | --- | --- | --- |`;
/** The selected law, short: the equations of the rates only. */
const law = (r: Awaited<ReturnType<typeof evaluateModel>>) => {
  const best = (r.explain as any).ranked[0];
  return `${best.id}: ${String(best.statement)
    .replace(/^(d\S+\/dt = \S+; )+/, '')
    .slice(0, 160)}`;
};

if (run('hidden-laws')) {
  const scenario = hiddenLaws as Scenario;
  const found: number[][] = [],
    oracle: number[][] = [],
    lines: string[] = [];
  for (const seed of seeds) {
    const r = await evaluateModel(possibleWorlds, scenario, { view: 'state', budget: 256, seed });
    const o = await evaluateModel(possibleWorlds, scenario, {
      view: 'state',
      budget: 256,
      seed,
      config: { library: 'scenario' },
    });
    found.push(skills(r, 16));
    oracle.push(skills(o, 16));
    lines.push(
      `| ${seed} | ` +
        `${(r.world as { law: string }).law} | ` +
        `${fmt(found.at(-1)![0])} | ${fmt(found.at(-1)![2])} | ${fmt(oracle.at(-1)![2])} | ${law(r)} |`,
    );
  }
  console.log(
    `hidden-laws-v1 state, budget 256, seeds 1000-1019 ` +
      `(medians):\n${header(16)}\n${row(
        'possible-worlds (default: ' + 'search)',
        found,
      )}\n${row('possible-worlds[library=scenario] (oracle)', oracle)}\n`,
  );
  console.log(
    `| seed | true law | skill h=1 | ood skill h=1 | oracle ood skill h=1 | law found (rates) |\n| --- | --- | --- ` +
      `| --- | --- | --- |\n${lines.join('\n')}\n`,
  );
}

if (run('bouncing-balls')) {
  const scenario = bouncingBalls as Scenario;
  const found: number[][] = [],
    generic: number[][] = [],
    lin: number[][] = [];
  const first = new Map<string, number>();
  for (const seed of seeds) {
    const r = await evaluateModel(possibleWorlds, scenario, { view: 'state', budget: 1024, seed });
    found.push(skills(r, 16));
    generic.push(
      skills(
        await evaluateModel(possibleWorlds, scenario, {
          view: 'state',
          budget: 1024,
          seed,
          config: { library: 'generic' },
        }),
        16,
      ),
    );
    lin.push(skills(await evaluateModel(linear, scenario, { view: 'state', budget: 1024, seed }), 16));
    const id = (r.explain as any).ranked[0].id;
    first.set(id, (first.get(id) ?? 0) + 1);
  }
  console.log(
    `bouncing-balls-v1 state, budget 1024, seeds 1000-1019 ` +
      `(medians):\n${header(16)}\n${row(
        'possible-worlds (default: ' + 'search)',
        found,
      )}\n${row('possible-worlds[library=generic]', generic)}\n${row('linear', lin)}\nfirst-ranked law: ` +
      `${[...first].map(([id, n]) => `${id} ${n}/20`).join(', ')}\n`,
  );
}

if (run('fit-time')) {
  // the real-valued state views; fit time of one job at budget 4096 (the expert's data), seeds 1000-1004
  console.log(
    `fit time at budget 4096, default config, seeds ` +
      `1000-1004 (${cpus().length} cores, load ${loadavg()[0].toFixed(1)} at start):`,
  );
  console.log('| scenario / view | median wall s | median CPU s | runs (wall s) |\n| --- | --- | --- | --- |');
  for (const scenario of [hiddenLaws, bouncingBalls] as Scenario[]) {
    const wall: number[] = [],
      cpu: number[] = [];
    for (const seed of seeds.slice(0, 5)) {
      const spec = scenario.spec;
      const masks = Object.fromEntries(Object.entries(spec.views).map(([k, v]) => [k, v.mask]));
      const train = addObservationNoise(
        trainingEpisodes(scenario, jobWorld(scenario, seed), 4096, 'behavior', createRng(`${seed}/train/behavior`)),
        spec.observationNoise,
        masks,
        createRng(`${seed}/train-noise/behavior`),
      );
      const model = await possibleWorlds.create(
        spec,
        'state',
        possibleWorlds.defaults,
        privilegedInfo(possibleWorlds, possibleWorlds.defaults, scenario),
      );
      const t0 = performance.now(),
        c0 = process.cpuUsage();
      await model.fit(train, quietRun(seed));
      wall.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e6);
    }
    console.log(
      `| ${scenario.spec.id} / state | ` +
        `${median(wall).toFixed(2)} | ${median(cpu).toFixed(2)} | ${wall.map((t) => t.toFixed(1)).join(', ')} |`,
    );
  }
  console.log(`(load ${loadavg()[0].toFixed(1)} at the end)\n`);
}

if (run('planted')) {
  // laws that are none of the scenarios': a particle in the plane under each, pushed by the action (test/planted.ts)
  // distinct ids: the evaluation episodes are cached by scenario id
  const worlds: Record<string, { id: string; field: Field; train: [number, number]; ood: [number, number] }> = {
    'Duffing spring a = -p x - 2 x^3': {
      id: 'planted-duffing',
      field: ([x, y], [a0, a1], p) => [-p * x - 2 * x ** 3 + a0, -p * y - 2 * y ** 3 + a1],
      train: [1, 3],
      ood: [3, 4],
    },
    'pull toward (0.6, -0.4), a = -p r / (|r|^2 + 0.09)^(3/2)': {
      id: 'planted-pull',
      field: ([x, y], [a0, a1], p) => {
        const dx = x - 0.6,
          dy = y + 0.4,
          r2 = dx * dx + dy * dy + 0.09;
        return [(-p * dx) / (r2 * Math.sqrt(r2)) + a0, (-p * dy) / (r2 * Math.sqrt(r2)) + a1];
      },
      train: [0.5, 1.5],
      ood: [1.5, 2.5],
    },
    'state times action, a = -p x + 1.5 x F': {
      id: 'planted-product',
      field: ([x, y], [a0, a1], p) => [-p * x + 1.5 * x * a0, -p * y + 1.5 * y * a1],
      train: [1, 3],
      ood: [3, 4],
    },
  };
  console.log(
    'planted worlds, budget 1024, seeds 1000-1004 (medians; ood: the per-episode parameter beyond its training range):',
  );
  console.log(
    '| world | model | skill h=1 | skill h=16 | ood skill h=1 | ood skill h=16 |\n| --- | --- | --- | --- | --- ' +
      '| --- |',
  );
  const scenarios: Array<[string, Scenario]> = [
    ...Object.entries(worlds).map(
      ([name, w]) =>
        [name, plantedScenario({ id: w.id, field: w.field, train: w.train, ood: w.ood })] as [string, Scenario],
    ),
    ['two bodies pulling each other, a_i = -G r_ij / (|r_ij|^2 + 0.04)^(3/2)', plantedTwoBodies('planted-two-bodies')],
  ];
  for (const [name, scenario] of scenarios) {
    const found: number[][] = [],
      lin: number[][] = [];
    for (const seed of seeds.slice(0, 5)) {
      found.push(skills(await evaluateModel(possibleWorlds, scenario, { view: 'state', budget: 1024, seed }), 16));
      lin.push(skills(await evaluateModel(linear, scenario, { view: 'state', budget: 1024, seed }), 16));
    }
    for (const [label, xs] of [
      ['possible-worlds', found],
      ['linear', lin],
    ] as const)
      console.log(`| ${name} | ${label} | ${[0, 1, 2, 3].map((j) => fmt(median(xs.map((x) => x[j])))).join(' | ')} |`);
  }
}
