// What the model tests share: spatial fitted on an image scenario's expert data, and a few test windows to forecast.
import { evaluationSet, evaluationWindows, jobWorld, quietRun, trainingSet, type Scenario } from '@worldbench/core';
import spatial, { spatialDefaults, type SpatialConfig, type SpatialModel } from '../src/index';

/** spatial fitted on `budget` expert transitions of `scenario`'s frames (seed `seed`); 6 test windows of 8 steps. */
export async function fitted(scenario: Scenario, budget: number, seed: number, config: Partial<SpatialConfig>) {
  const world = jobWorld(scenario, seed);
  const train = trainingSet(scenario, world, 'behavior', budget, seed).observed;
  const model = (await spatial.create(scenario.spec, 'frame', { ...spatialDefaults, ...config })) as SpatialModel;
  await model.fit(train, quietRun(seed));
  const test = evaluationSet(scenario, world, 'test', seed, { count: 6, horizon: 8 });
  const { query } = evaluationWindows(scenario.spec, test, 'frame', 8);
  return { model, query, train, world };
}
