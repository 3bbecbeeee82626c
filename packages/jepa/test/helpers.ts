// Test helpers: a small JEPA on a scenario's training data, snapshots of variables. (The finite-difference
// gradient check is the neural kit's: @worldbench/neural/testing.)
import { jobWorld, trainingSet, type Scenario } from '@worldbench/core';
import type { tf } from '@worldbench/neural';
import { jepaDefaults, type JepaConfig } from '../src/config';
import { fitGeometry } from '../src/index';
import { buildNetworks, type Geometry, type Networks } from '../src/model';
import { buildTrainingSet, type TrainingSet } from '../src/batch';

/** A small config: the invariants do not depend on size. */
export const smallConfig: JepaConfig = {
  ...jepaDefaults,
  width: 16,
  heads: 2,
  encoderLayers: 2,
  predictorLayers: 2,
  probeHidden: 16,
  batchSize: 16,
};

export function smallSetup(
  scenario: Scenario,
  budget: number,
  seed: number,
  config: JepaConfig = smallConfig,
): { geometry: Geometry; nets: Networks; set: TrainingSet } {
  const train = trainingSet(scenario, jobWorld(scenario, seed), 'behavior', budget, seed).observed;
  const geometry = fitGeometry(scenario.spec, 'state', { ...config, historySteps: 1 }, train);
  return {
    geometry,
    nets: buildNetworks(geometry, config, `${seed}/test`),
    set: buildTrainingSet(geometry, train, 'state', config.realReadout === 'change'),
  };
}

export function disposeNetworks(nets: Networks): void {
  for (const n of [nets.online, nets.target, nets.predictor, nets.probe, ...(nets.anchor ? [nets.anchor] : [])])
    n.dispose();
}

export function snapshot(vars: readonly tf.Variable[]): Float32Array[] {
  return vars.map((v) => Float32Array.from(v.dataSync() as Float32Array));
}

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
