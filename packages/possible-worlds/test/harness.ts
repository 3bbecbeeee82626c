// Fits a model on one job's training data and scores it on the job's test windows, the way the runner does
// (same named RNG streams), without depending on the runner.
import { addObservationNoise, createRng, forecastWindows, quietRun, scoreForecast, simulateEpisodes, trainingEpisodes, trainStd, windowStarts, type HorizonMetrics, type Scenario, type WorldModelModule } from '@worldbench/core';

export async function scoreJob(module: WorldModelModule, scenario: Scenario, opts: { view: string; budget: number; seed: number; config?: object; horizon?: number; policy?: 'behavior' | 'explore' }): Promise<{ metrics: HorizonMetrics; explain: any }> {
  const { spec } = scenario;
  const { view, budget, seed } = opts;
  const policy = opts.policy ?? 'behavior';
  const masks = Object.fromEntries(Object.entries(spec.views).map(([k, v]) => [k, v.mask]));
  const world = scenario.sampleWorld(createRng(`${seed}/world`));
  const train = addObservationNoise(trainingEpisodes(scenario, world, budget, policy, createRng(`${seed}/train/${policy}`)), spec.observationNoise, masks, createRng(`${seed}/train-noise/${policy}`));
  const clean = simulateEpisodes(scenario, world, { count: 64, split: 'test', policy: 'explore', rng: createRng(`${seed}/test`) });
  const observed = addObservationNoise(clean, spec.observationNoise, masks, createRng(`${seed}/test-noise`));
  const H = opts.horizon ?? spec.horizon;
  const w = forecastWindows(spec, view, observed, clean, windowStarts(64, spec.episodeLength, spec.historySteps, H, createRng(`${seed}/test-windows`)), spec.historySteps, H);
  const model = await module.create(spec, view, { ...module.defaults, ...opts.config }, { hypotheses: scenario.hypotheses });
  await model.fit(train, quietRun(seed));
  const f = await model.forecast(w.query, quietRun(seed));
  const metrics = scoreForecast({ spec: spec.views[view], truth: w.truth, mask: w.truthMask, forecast: f, lastObserved: w.lastObserved, scale: trainStd(train, view, spec.views[view].mask) });
  return { metrics, explain: model.explain?.() };
}
