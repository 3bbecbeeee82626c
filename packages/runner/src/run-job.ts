// Running one job: data, fit, evaluation on test and ood, cost, and a result line whatever happens.
import { loadModelModule, loadScenario, trainStd, type PluginEntry, type RunContext, type Scenario, type WorldModel, type WorldModelModule } from '@worldbench/core';
import { evaluationSet, jobWorld, trainingSet } from './collect';
import { runEnv } from './env';
import { scoreSplit } from './evaluate';
import type { Job } from './jobs';
import type { JobResult } from './result';

/** A job with what is needed to run and store it. */
export interface PlannedJob {
  job: Job;
  key: string;
  fingerprint: string;
  modelEntry: PluginEntry;
  scenarioEntry: PluginEntry;
  /** Set when the model does not read the job's view: recorded as "unsupported" without running. */
  unsupported?: string;
}

const modules = new Map<string, Promise<WorldModelModule>>();
const scenarios = new Map<string, Promise<Scenario>>();

export function modelModule(entry: PluginEntry): Promise<WorldModelModule> {
  if (!modules.has(entry.entry)) modules.set(entry.entry, loadModelModule(entry.entry, `model ${entry.id}`));
  return modules.get(entry.entry)!;
}

export function scenarioModule(entry: PluginEntry): Promise<Scenario> {
  if (!scenarios.has(entry.entry)) scenarios.set(entry.entry, loadScenario(entry.entry, `scenario ${entry.id}`));
  return scenarios.get(entry.entry)!;
}

function peakMemoryMB(): number {
  // maxRSS is the process's peak so far (KiB): per job when each job has its own process, an upper bound otherwise
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export async function runJob(planned: PlannedJob, root: string, run: RunContext): Promise<JobResult> {
  const { job } = planned;
  const base = { ...job, key: planned.key, fingerprint: planned.fingerprint, privileged: false, metrics: null, cost: null };
  if (planned.unsupported)
    return { ...base, status: 'unsupported', reason: planned.unsupported, env: runEnv(root, 'none'), finishedAt: new Date().toISOString() };
  let model: WorldModel | null = null;
  let backend = 'unknown';
  try {
    const [module, scenario] = await Promise.all([modelModule(planned.modelEntry), scenarioModule(planned.scenarioEntry)]);
    const spec = scenario.spec;
    const world = jobWorld(scenario, job.seed);
    const train = trainingSet(scenario, world, job.protocol, job.budget, job.seed);
    const test = evaluationSet(scenario, world, 'test', job.seed, job.evaluation);
    const ood = evaluationSet(scenario, world, 'ood', job.seed, job.evaluation);
    const scale = trainStd(train.observed, job.view, spec.views[job.view].mask);

    model = await module.create(spec, job.view, job.config, { hypotheses: scenario.hypotheses });
    const t0 = performance.now();
    const report = await model.fit(train.observed, run);
    const fitSeconds = (performance.now() - t0) / 1000;
    backend = report.backend ?? 'unknown';

    const testScore = await scoreSplit(model, spec, job.view, test, job.evaluation.horizon, scale, run);
    const oodScore = await scoreSplit(model, spec, job.view, ood, job.evaluation.horizon, scale, run);
    const explain = model.explain?.();
    return {
      ...base,
      status: 'ok',
      privileged: report.privileged === true,
      metrics: { test: testScore.metrics, ood: oodScore.metrics },
      cost: {
        fitSeconds,
        forecastStepsPerSecond: testScore.forecastSteps / Math.max(testScore.forecastSeconds, 1e-9),
        params: report.params,
        peakMemoryMB: peakMemoryMB(),
      },
      env: runEnv(root, backend),
      ...(explain ? { explain } : {}),
      ...(report.notes ? { notes: report.notes } : {}),
      finishedAt: new Date().toISOString(),
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ...base, status: 'failed', error: message, env: runEnv(root, backend), finishedAt: new Date().toISOString() };
  } finally {
    await model?.dispose?.().catch(() => {});
  }
}

