// Planning: from the CLI's choices to the sorted list of jobs, validated before anything runs.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findModel, findScenario, forecastViews, UserError, type Registry } from '@worldbench/core';
import { codeFingerprint } from './fingerprint';
import { canonicalJson, jobKey, modelLabel, parseModelChoice, resolveConfig, type EvaluationSettings, type Job, type Protocol } from './jobs';
import { modelModule, scenarioModule, type PlannedJob } from './run-job';

export const QUICK_BUDGETS = [64, 256, 1024];
export const FULL_BUDGETS = [16, 64, 256, 1024, 4096, 16384];

export interface PlanOptions {
  /** --model entries (ids with optional overrides); empty = every registered model. */
  models: string[];
  /** --scenario names; empty = every registered scenario. */
  scenarios: string[];
  /** --view filter; empty = every view each model supports. */
  views: string[];
  protocols: Protocol[];
  budgets: number[];
  seeds: number[];
  /** --horizon; null = each scenario's default. */
  horizon: number | null;
  testEpisodes: number;
  oodEpisodes: number;
}

const coreDir = dirname(dirname(createRequire(import.meta.url).resolve('@worldbench/core')));
const runnerDir = dirname(dirname(fileURLToPath(import.meta.url)));

export async function planJobs(registry: Registry, opts: PlanOptions): Promise<PlannedJob[]> {
  const modelChoices = (opts.models.length ? opts.models : registry.models.map((m) => m.id)).map(parseModelChoice);
  const scenarioEntries = (opts.scenarios.length ? opts.scenarios : registry.scenarios.map((s) => s.id)).map((s) => findScenario(registry, s));
  const models = await Promise.all(
    modelChoices.map(async (choice) => {
      const entry = findModel(registry, choice.id);
      const module = await modelModule(entry);
      return { choice, entry, module, config: resolveConfig(choice.id, module.defaults, choice.overrides), label: modelLabel(choice) };
    }),
  );
  const knownViews = new Set<string>();
  const planned: PlannedJob[] = [];
  for (const scenarioEntry of scenarioEntries) {
    const scenario = await scenarioModule(scenarioEntry);
    const spec = scenario.spec;
    const views = forecastViews(spec);
    views.forEach((v) => knownViews.add(v));
    const maxHorizon = spec.episodeLength - spec.historySteps + 1;
    if (opts.horizon !== null && opts.horizon > maxHorizon)
      throw new UserError(`--horizon ${opts.horizon} does not fit ${spec.id} (K = ${spec.historySteps} observed steps of T = ${spec.episodeLength}); at most ${maxHorizon}`);
    const evaluation: EvaluationSettings = { testEpisodes: opts.testEpisodes, oodEpisodes: opts.oodEpisodes, horizon: opts.horizon ?? Math.min(spec.horizon, maxHorizon) };
    for (const m of models) {
      const support = m.module.supports(spec, { hypotheses: scenario.hypotheses });
      const supported = new Set<string>(support.views);
      const wanted = opts.views.length ? views.filter((v) => opts.views.includes(v)) : [...supported];
      for (const view of wanted) {
        const unsupported = supported.has(view) ? undefined : 'reason' in support && support.reason ? support.reason : `${m.choice.id} does not read view ${view}`;
        const fingerprint = codeFingerprint([coreDir, runnerDir, m.entry.packageDir, scenarioEntry.packageDir]);
        for (const protocol of opts.protocols)
          for (const budget of opts.budgets)
            for (const seed of opts.seeds) {
              const job: Job = { model: m.label, modelId: m.choice.id, config: m.config, scenario: spec.id, view, protocol, budget, seed, evaluation };
              planned.push({ job, key: jobKey(job, fingerprint), fingerprint, modelEntry: m.entry, scenarioEntry, unsupported });
            }
      }
    }
  }
  for (const v of opts.views) if (!knownViews.has(v)) throw new UserError(`unknown view "${v}"; the chosen scenarios have: ${[...knownViews].join(', ')}`);
  // a deterministic order (sharding partitions this list)
  planned.sort((a, b) => canonicalJson(a.job).localeCompare(canonicalJson(b.job)));
  return planned;
}
