// Issue 24: spatial's fit on the ONNX Runtime training engine against tfjs, per job. Each job (scenario, budget,
// seed, engine) runs in a child process of its own (as a bench worker: one job, one thread), chosen by
// WORLDBENCH_TRAIN_ENGINE; it is the offline job `pnpm bench` runs (core's evaluateModel: same data, same
// evaluation windows), with the fit timed alone (wall and CPU seconds: CPU time is what a busy machine inflates
// least). The engines alternate job by job so both see the same load; the 1-minute load average is printed
// before and after each job. Prints a markdown table: fit time, the engine FitReport.backend names, and the
// test skill at h = 1 and at the horizon.
//
//   tsx scripts/figures/spatial-engine-fit.ts [--scenarios bouncing-balls,hidden-laws] [--budget 1024]
//       [--seeds 1000 | 1000-1002 | 1000,1003] [--engines tfjs,onnx]

import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface JobResult {
  fitWall: number;
  fitCpu: number;
  backend: string;
  steps: unknown;
  skill1: number | null;
  skillH: number | null;
  horizon: number;
}

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'bouncing-balls,hidden-laws' },
    budget: { type: 'string', default: '1024' },
    seeds: { type: 'string', default: '1000' },
    engines: { type: 'string', default: 'tfjs,onnx' },
    job: { type: 'string' },
  },
});

/** One job in this process: fit timed alone, then the test split scored as the runner scores it. */
async function runJob(scenarioName: string, budget: number, seed: number): Promise<JobResult> {
  const { evaluateModel } = await import('@worldbench/core');
  const { default: spatial } = await import('@worldbench/spatial');
  const { default: scenario } = await import(`@worldbench/${scenarioName}`);
  let timing: Omit<JobResult, 'skill1' | 'skillH' | 'horizon'> | null = null;
  const timed: typeof spatial = {
    ...spatial,
    create: async (...args: Parameters<typeof spatial.create>) => {
      const model = await spatial.create(...args);
      const fit = model.fit.bind(model);
      model.fit = async (data, run) => {
        const [t0, c0] = [performance.now(), process.cpuUsage()];
        const report = await fit(data, run);
        const cpu = process.cpuUsage(c0);
        timing = {
          fitWall: (performance.now() - t0) / 1000,
          fitCpu: (cpu.user + cpu.system) / 1e6,
          backend: report.backend ?? 'unknown',
          steps: (report.notes as Record<string, unknown>).steps,
        };
        return report;
      };
      return model;
    },
  };
  const r = await evaluateModel(timed, scenario, { view: 'frame', budget, seed });
  await r.model.dispose?.();
  const horizon = scenario.spec.horizon as number;
  const skill = r.metrics.test.skill as Record<string, number | null>;
  return { ...(timing as unknown as JobResult), skill1: skill['1'], skillH: skill[String(horizon)], horizon };
}

if (values.job) {
  const [scenario, budget, seed] = values.job.split(':');
  console.log(JSON.stringify(await runJob(scenario, Number(budget), Number(seed))));
} else {
  const self = fileURLToPath(import.meta.url);
  const scenarios = values.scenarios.split(',');
  const engines = values.engines.split(',');
  const rows: string[] = [];
  const fmt = (x: number | null) => (x === null ? 'null' : x.toFixed(3));
  const [first, last] = values.seeds.split('-').map(Number);
  const seeds = values.seeds.includes('-')
    ? Array.from({ length: last - first + 1 }, (_, i) => first + i)
    : values.seeds.split(',').map(Number);
  for (const scenario of scenarios)
    for (const seed of seeds)
      for (const engine of engines) {
        const load0 = loadavg()[0];
        const out = execFileSync(
          process.execPath,
          ['--import', 'tsx', self, '--job', `${scenario}:${values.budget}:${seed}`],
          {
            env: { ...process.env, WORLDBENCH_TRAIN_ENGINE: engine },
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        const r = JSON.parse(out.trim().split('\n').pop() as string) as JobResult;
        const row =
          `| ${scenario} frame | ${values.budget} | ${seed} | ${engine} | ${r.fitWall.toFixed(1)} | ` +
          `${r.fitCpu.toFixed(1)} | ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)} | ${fmt(r.skill1)} | ` +
          `${fmt(r.skillH)} (h ${r.horizon}) | ${JSON.stringify(r.steps)} | ${r.backend} |`;
        console.error(row);
        rows.push(row);
      }
  console.log(
    '| job | budget | seed | engine | fit s (wall) | fit s (CPU) | load | skill h=1 | skill at horizon | steps | ' +
      'backend |',
  );
  console.log('| --- | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | --- | --- |');
  for (const row of rows) console.log(row);
}
