// What the diagnosis scripts share: a scenario by name, a seed range, and one offline job's data and test windows
// derived exactly as `pnpm bench` does (64 test windows at the scenario's horizon), scored on the bench's scale.
import {
  discoverPlugins,
  evaluationSet,
  findWorkspaceRoot,
  forecastWindows,
  jobWorld,
  loadScenario,
  scoreForecast,
  trainingSet,
  metricScale,
  type Forecast,
  type Scenario,
} from '@worldbench/core';

/** The scenario whose id is `name` or starts with `name-v`. */
export async function scenarioNamed(name: string): Promise<Scenario> {
  const entry = discoverPlugins(findWorkspaceRoot()).scenarios.find(
    (s) => s.id === name || s.id.startsWith(`${name}-v`),
  );
  if (!entry) throw new Error(`no scenario "${name}"`);
  return loadScenario(entry.entry);
}

/** "A-B" (or "A") -> the seeds A..B. */
export function seedRange(text: string): number[] {
  const [lo, hi] = text.split('-').map(Number);
  return Array.from({ length: (hi ?? lo) - lo + 1 }, (_, i) => lo + i);
}

/** One offline job on `view`: the expert's training set, the bench's per-dimension scale, and the test windows. */
export function offlineJob(scenario: Scenario, view: string, budget: number, seed: number) {
  const { spec } = scenario;
  const world = jobWorld(scenario, seed);
  const train = trainingSet(scenario, world, 'behavior', budget, seed);
  const set = evaluationSet(scenario, world, 'test', seed, { count: 64, horizon: spec.horizon });
  const scale = metricScale(set, spec, view);
  const windows = forecastWindows(spec, view, set.observed, set.clean, set.starts, spec.historySteps, spec.horizon);
  const score = (forecast: Forecast) =>
    scoreForecast({
      spec: spec.views[view],
      truth: windows.truth,
      forecast,
      lastObserved: windows.lastObserved,
      scale,
    });
  return { train, scale, windows, score };
}
