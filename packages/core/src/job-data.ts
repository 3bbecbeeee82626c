// The data of a job, derived from named seeded streams so that every tool derives the same: its hidden
// world, the training set of a policy and budget, and the fixed test and ood episodes (the same for every
// model, protocol and budget of a (scenario, seed)). The runner, the figure scripts and the tests all use these.
import type { Episodes } from './data';
import { viewStd } from './metrics';
import { createRng } from './rng';
import type { PolicyName, Scenario, Split } from './scenario';
import type { ScenarioSpec } from './spec';
import { addObservationNoise, simulateEpisodes, trainingEpisodes } from './simulate';
import { forecastWindows, windowStarts, type ForecastWindows } from './windows';

/** Clean episodes, what models see of them (with observation noise), and one window start per episode. */
export interface EvaluationSet {
  split: Split;
  clean: Episodes;
  observed: Episodes;
  starts: Int32Array;
}

/** view -> the name of its mask view, if any. */
export function maskNames(scenario: Scenario): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(scenario.spec.views).map(([k, v]) => [k, v.mask]));
}

/** The hidden world of every job of a (scenario, seed). */
export function jobWorld(scenario: Scenario, seed: number): unknown {
  return scenario.sampleWorld(createRng(`${seed}/world`));
}

/** Training episodes as models see them (noisy), and the clean ones. */
export function trainingSet(
  scenario: Scenario,
  world: unknown,
  policy: PolicyName,
  budget: number,
  seed: number,
): { observed: Episodes; clean: Episodes } {
  const clean = trainingEpisodes(scenario, world, budget, policy, createRng(`${seed}/train/${policy}`));
  const observed = addObservationNoise(
    clean,
    scenario.spec.observationNoise,
    maskNames(scenario),
    createRng(`${seed}/train-noise/${policy}`),
  );
  return { observed, clean };
}

const evaluationCache = new Map<string, EvaluationSet>();

/** Fixed evaluation episodes of a split, driven by `explore`; memoised per (scenario, seed, count, horizon). */
export function evaluationSet(
  scenario: Scenario,
  world: unknown,
  split: 'test' | 'ood',
  seed: number,
  settings: { count: number; horizon: number },
): EvaluationSet {
  const { count, horizon } = settings;
  const cacheKey = `${scenario.spec.id}/${seed}/${split}/${count}/${horizon}`;
  const hit = evaluationCache.get(cacheKey);
  if (hit) return hit;
  const clean = simulateEpisodes(scenario, world, {
    count,
    split,
    policy: 'explore',
    rng: createRng(`${seed}/${split}`),
  });
  const observed = addObservationNoise(
    clean,
    scenario.spec.observationNoise,
    maskNames(scenario),
    createRng(`${seed}/${split}-noise`),
  );
  const starts = windowStarts(
    count,
    scenario.spec.episodeLength,
    scenario.spec.historySteps,
    horizon,
    createRng(`${seed}/${split}-windows`),
  );
  const set = { split, clean, observed, starts };
  if (evaluationCache.size > 16) evaluationCache.clear();
  evaluationCache.set(cacheKey, set);
  return set;
}

/**
 * The forecast windows of an evaluation set on one view, as a job scores them: the scenario's history, then `horizon`
 * steps (a horizon of at most the set's). What evaluate.ts scores, and tests build their queries from.
 */
export function evaluationWindows(
  spec: ScenarioSpec,
  set: EvaluationSet,
  view: string,
  horizon: number,
): ForecastWindows {
  return forecastWindows(spec, view, set.observed, set.clean, set.starts, spec.historySteps, horizon);
}

/**
 * The metric's per-dimension scale on a view (docs/metrics.md): the std of the test split's observations. One scale
 * per (scenario, seed, view), so every protocol, budget and model of a seed is scored in the same units (the ood
 * split too), and a paired difference between two of them (an on-policy gain, a step of a learning curve, a
 * generalist's transfer gain) is a difference of forecasts only.
 */
export function metricScale(test: EvaluationSet, spec: ScenarioSpec, view: string): Float32Array {
  if (test.split !== 'test') throw new Error(`metricScale: the scale is the test split's, got the ${test.split} split`);
  return viewStd(test.observed, view, spec.views[view].mask);
}
