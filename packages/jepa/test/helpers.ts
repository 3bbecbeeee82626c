// Test helpers: a small JEPA on a scenario's training data, and a central finite-difference gradient check.
import { expect } from 'vitest';
import { jobWorld, trainingSet, type Scenario } from '@worldbench/core';
import { tf } from '@worldbench/neural';
import { jepaDefaults, type JepaConfig } from '../src/config';
import { buildNetworks } from '../src/index';
import { fitStandardisation } from '../src/inputs';
import { actionLayout, contextLayout, stateLayout } from '../src/layout';
import type { Geometry } from '../src/model';
import { buildTrainingSet, type Networks, type TrainingSet } from '../src/train';

/** A small config: the invariants do not depend on size. */
export const smallConfig: JepaConfig = { ...jepaDefaults, width: 16, heads: 2, encoderLayers: 2, predictorLayers: 2, probeHidden: 16, batchSize: 16 };

export function smallSetup(scenario: Scenario, budget: number, seed: number, config: JepaConfig = smallConfig): { geometry: Geometry; nets: Networks; set: TrainingSet } {
  const train = trainingSet(scenario, jobWorld(scenario, seed), 'behavior', budget, seed).observed;
  const geometry: Geometry = { state: stateLayout(scenario.spec, 'state'), context: contextLayout(scenario.spec), action: actionLayout(scenario.spec) };
  fitStandardisation(geometry.state, train, 'state');
  return { geometry, nets: buildNetworks(geometry, config, `${seed}/test`), set: buildTrainingSet(geometry, train, 'state', config.realReadout === 'change') };
}

export function snapshot(vars: readonly tf.Variable[]): Float32Array[] {
  return vars.map((v) => Float32Array.from(v.dataSync() as Float32Array));
}

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * tf.variableGrads of `loss` against central differences (f(v + h) - f(v - h)) / 2h for every entry of
 * `vars`: |analytic - numeric| <= atol + rtol |numeric| (float32: h = 1e-2 keeps round-off and truncation small).
 */
export function expectGradientsMatch(loss: () => tf.Scalar, vars: tf.Variable[], { h = 1e-2, rtol = 2e-2, atol = 2e-3 } = {}): void {
  const grads = tf.tidy(() => {
    const r = tf.variableGrads(loss, vars);
    return vars.map((v) => tf.keep(r.grads[v.name] ?? tf.zerosLike(v)));
  });
  const f = () => tf.tidy(() => loss().dataSync()[0]);
  vars.forEach((v, vi) => {
    const analytic = grads[vi].dataSync();
    const base = Float32Array.from(v.dataSync() as Float32Array);
    for (let j = 0; j < base.length; j++) {
      const values = base.slice();
      values[j] = base[j] + h;
      tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
      const up = f();
      values[j] = base[j] - h;
      tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
      const down = f();
      const numeric = (up - down) / (2 * h);
      expect(Math.abs(analytic[j] - numeric), `variable ${vi} entry ${j}: analytic ${analytic[j]}, numeric ${numeric}`).toBeLessThanOrEqual(atol + rtol * Math.abs(numeric));
    }
    tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
  });
  tf.dispose(grads);
}
