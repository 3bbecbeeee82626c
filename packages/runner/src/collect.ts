// The data of a job: its hidden world, the training set of its protocol and budget, and the fixed test and
// ood episodes (the same for every model, protocol and budget of a (scenario, seed)).
import { addObservationNoise, createRng, simulateEpisodes, trainingEpisodes, windowStarts, type Episodes, type Scenario, type Split } from '@worldbench/core';
import type { EvaluationSettings, Protocol } from './jobs';

/** Clean episodes, what models see of them (with observation noise), and one window start per episode. */
export interface EvaluationSet {
  split: Split;
  clean: Episodes;
  observed: Episodes;
  starts: Int32Array;
}

export function maskNames(scenario: Scenario): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(scenario.spec.views).map(([k, v]) => [k, v.mask]));
}

export function trainingPolicy(protocol: Protocol): 'behavior' | 'explore' {
  return protocol === 'offline-explore' ? 'explore' : 'behavior';
}

/** The hidden world of every job of a (scenario, seed). */
export function jobWorld(scenario: Scenario, seed: number): unknown {
  return scenario.sampleWorld(createRng(`${seed}/world`));
}

/** Training episodes as models see them (noisy), and the clean ones (for the metric scale). */
export function trainingSet(scenario: Scenario, world: unknown, protocol: Protocol, budget: number, seed: number): { observed: Episodes; clean: Episodes } {
  const policy = trainingPolicy(protocol);
  const clean = trainingEpisodes(scenario, world, budget, policy, createRng(`${seed}/train/${policy}`));
  const observed = addObservationNoise(clean, scenario.spec.observationNoise, maskNames(scenario), createRng(`${seed}/train-noise/${policy}`));
  return { observed, clean };
}

const evaluationCache = new Map<string, EvaluationSet>();

/** Fixed evaluation episodes of a split, driven by `explore`; memoised per (scenario, seed, settings). */
export function evaluationSet(scenario: Scenario, world: unknown, split: 'test' | 'ood', seed: number, settings: EvaluationSettings): EvaluationSet {
  const count = split === 'test' ? settings.testEpisodes : settings.oodEpisodes;
  const cacheKey = `${scenario.spec.id}/${seed}/${split}/${count}/${settings.horizon}`;
  const hit = evaluationCache.get(cacheKey);
  if (hit) return hit;
  const clean = simulateEpisodes(scenario, world, { count, split, policy: 'explore', rng: createRng(`${seed}/${split}`) });
  const observed = addObservationNoise(clean, scenario.spec.observationNoise, maskNames(scenario), createRng(`${seed}/${split}-noise`));
  const starts = windowStarts(count, scenario.spec.episodeLength, scenario.spec.historySteps, settings.horizon, createRng(`${seed}/${split}-windows`));
  const set = { split, clean, observed, starts };
  if (evaluationCache.size > 16) evaluationCache.clear();
  evaluationCache.set(cacheKey, set);
  return set;
}
