// The data of a job: the derivation lives in @worldbench/core (job-data.ts) so that tests and figure scripts
// derive exactly the same; here it is read in the runner's terms (protocols, evaluation settings).
import {
  evaluationSet as coreEvaluationSet,
  trainingSet as coreTrainingSet,
  type Episodes,
  type EvaluationSet,
  type Scenario,
} from '@worldbench/core';
import type { EvaluationSettings, Protocol } from './jobs';

export { jobWorld, maskNames, type EvaluationSet } from '@worldbench/core';

export function trainingPolicy(protocol: Protocol): 'behavior' | 'explore' {
  return protocol === 'offline-explore' ? 'explore' : 'behavior';
}

/** Training episodes as models see them (noisy), and the clean ones. */
export function trainingSet(
  scenario: Scenario,
  world: unknown,
  protocol: Protocol,
  budget: number,
  seed: number,
): { observed: Episodes; clean: Episodes } {
  return coreTrainingSet(scenario, world, trainingPolicy(protocol), budget, seed);
}

export function evaluationSet(
  scenario: Scenario,
  world: unknown,
  split: 'test' | 'ood',
  seed: number,
  settings: EvaluationSettings,
): EvaluationSet {
  return coreEvaluationSet(scenario, world, split, seed, {
    count: split === 'test' ? settings.testEpisodes : settings.oodEpisodes,
    horizon: settings.horizon,
  });
}
