// Benchmark figure: possible-worlds fit time at budget 4096 on each scenario's state view (median of 5 runs),
// wall and CPU seconds (CPU time is what a busy machine does not inflate; the machine's load is printed).
// Run: pnpm exec tsx scripts/figures/possible-worlds-fit-time.ts [scenario]
import {
  addObservationNoise,
  createRng,
  discoverPlugins,
  findWorkspaceRoot,
  loadScenario,
  privilegedInfo,
  quietRun,
  trainingEpisodes,
} from '@worldbench/core';
import { loadavg } from 'node:os';
import possibleWorlds from '@worldbench/possible-worlds';

const budget = 4096,
  runs = 5;
// the default config (no hints); `scenario` times the oracle instead
const config = {
  ...possibleWorlds.defaults,
  ...(process.argv[2] === 'scenario' ? { library: 'scenario' as const } : {}),
};
for (const entry of discoverPlugins(findWorkspaceRoot()).scenarios) {
  const scenario = await loadScenario(entry.entry);
  const spec = scenario.spec;
  const privileged = privilegedInfo(possibleWorlds, config, scenario);
  const support = possibleWorlds.supports(spec, privileged);
  for (const view of support.views) {
    const times: number[] = [],
      cpu: number[] = [];
    for (let r = 0; r < runs; r++) {
      const seed = 1000 + r;
      const world = scenario.sampleWorld(createRng(`${seed}/world`));
      const masks = Object.fromEntries(Object.entries(spec.views).map(([k, v]) => [k, v.mask]));
      const train = addObservationNoise(
        trainingEpisodes(scenario, world, budget, 'behavior', createRng(`${seed}/train/behavior`)),
        spec.observationNoise,
        masks,
        createRng(`${seed}/train-noise/behavior`),
      );
      const model = await possibleWorlds.create(spec, view, config, privileged);
      const t0 = performance.now(),
        c0 = process.cpuUsage();
      await model.fit(train, quietRun(seed));
      times.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e6);
    }
    times.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    const mid = Math.floor(runs / 2);
    console.log(
      `${spec.id.padEnd(20)} ${view.padEnd(6)} fit at ` +
        `budget ${budget}: median ${times[mid].toFixed(2)} s wall, ${cpu[mid].toFixed(2)} s CPU ` +
        `(wall runs: ${times.map((t) => t.toFixed(2)).join(', ')}; load ${loadavg()[0].toFixed(1)})`,
    );
  }
}
