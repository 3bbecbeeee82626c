// Evaluation: forecast every window of an evaluation set, check the forecast, score it (docs/metrics.md);
// and `evaluateModel`, one offline job end to end, for tests and figure scripts.
import { block, describeNonFinite, tensor, type Tensor } from './data';
import { evaluationSet, evaluationWindows, jobWorld, metricScale, trainingSet, type EvaluationSet } from './job-data';
import { deltaPsnr, scoreForecast, type HorizonMetrics } from './metrics';
import {
  privilegedInfo,
  quietRun,
  type Forecast,
  type RunContext,
  type WorldModel,
  type WorldModelModule,
} from './model';
import { createRng } from './rng';
import type { PolicyName, Scenario } from './scenario';
import type { ScenarioSpec } from './spec';

export interface SplitScore {
  metrics: HorizonMetrics;
  forecastSeconds: number;
  forecastSteps: number;
  /** For image views: the first windows' true and forecast frames, [n, H, ...viewShape] each (filmstrips). */
  samples?: { truth: Tensor; forecast: Tensor };
}

/** Rows [0, n) of a tensor [B, ...] as a new tensor [n, ...]. */
function firstRows(t: Tensor, n: number): Tensor {
  const m = Math.min(n, t.shape[0]);
  return tensor([m, ...t.shape.slice(1)], block(t).slice(0, m * (t.data.length / t.shape[0])));
}

/** Throws unless `t` is a dense row-major ndarray of `expected` shape whose data holds exactly its values. */
function assertTensor(t: Tensor, expected: readonly number[], what: string, where: string): void {
  if (t.shape.join() !== expected.join())
    throw new Error(`${where}: forecast ${what} has shape [${t.shape}], expected [${expected}] ([B, H, ...viewShape])`);
  const size = expected.reduce((a, b) => a * b, 1);
  // scoring reads the data as dense row-major blocks: a shorter array would be read past its end (NaN, scored as null)
  if (!t.data || t.data.length !== size)
    throw new Error(
      `${where}: forecast ${what} holds ${t.data?.length ?? 'no'} values, but its shape [${t.shape}] needs ${size}`,
    );
  const dense = t.offset === 0 && t.stride.every((s, i) => s === expected.slice(i + 1).reduce((a, b) => a * b, 1));
  if (!dense)
    throw new Error(
      `${where}: forecast ${what} is a strided view (offset ${t.offset}, stride [${t.stride}]); return a dense ` +
        `row-major tensor (e.g. tensor(shape, data))`,
    );
}

/**
 * Throws when a forecast has the wrong shape, data that does not match its shape, or NaN: the job is then recorded as
 * failed with this reason.
 */
export function assertForecast(f: Forecast, expected: readonly number[], where: string): void {
  if (!f?.mean?.shape) throw new Error(`${where}: forecast() returned no { mean } tensor`);
  assertTensor(f.mean, expected, 'mean', where);
  const nan = describeNonFinite('mean', f.mean.data, expected, '[B, H, ...viewShape]');
  if (nan) throw new Error(`${where}: forecast holds NaN or infinity: ${nan}`);
  if (f.std) {
    assertTensor(f.std, expected, 'std', where);
    const bad = describeNonFinite(
      'std',
      f.std.data,
      expected,
      '[B, H, ...viewShape]',
      (x) => x >= 0 && Number.isFinite(x),
    );
    if (bad) throw new Error(`${where}: forecast std is not a finite non-negative number everywhere: ${bad}`);
  }
}

/**
 * Throws unless every metric is a number (or null where its definition says so: skill with no persistence
 * error) and `mse` is one at every horizon: a job recorded ok always has scores, never all null.
 */
export function assertScored(metrics: HorizonMetrics, where: string): void {
  for (const [name, byH] of Object.entries(metrics))
    for (const [h, value] of Object.entries(byH))
      if (value === null ? name === 'mse' : !Number.isFinite(value))
        throw new Error(`${where}: ${name} at h=${h} is ${value}: the forecast could not be scored`);
  if (!metrics.mse || Object.keys(metrics.mse).length === 0) throw new Error(`${where}: no mse was scored`);
}

/** The batch's future actions with episodes permuted: in-distribution actions that were not taken. */
function shuffledActions(actions: Tensor, seed: number): Tensor {
  const B = actions.shape[0];
  const order = createRng(`${seed}/random-actions`).shuffle(Array.from({ length: B }, (_, i) => i));
  const out = tensor(actions.shape);
  order.forEach((src, dst) => block(out, dst).set(block(actions, src)));
  return out;
}

export async function scoreSplit(
  model: WorldModel,
  spec: ScenarioSpec,
  view: string,
  set: EvaluationSet,
  horizon: number,
  scale: Float32Array,
  run: RunContext,
): Promise<SplitScore> {
  const w = evaluationWindows(spec, set, view, horizon);
  const expected = [set.starts.length, horizon, ...spec.views[view].shape];
  const t0 = performance.now();
  const forecast = await model.forecast(w.query, run);
  const forecastSeconds = (performance.now() - t0) / 1000;
  assertForecast(forecast, expected, `${set.split} forecast`);
  const score = (f: Forecast) =>
    scoreForecast({
      spec: spec.views[view],
      truth: w.truth,
      mask: w.truthMask,
      forecast: f,
      lastObserved: w.lastObserved,
      scale,
    });
  const metrics = score(forecast);
  assertScored(metrics, `${set.split} forecast`);
  // Genie's ΔtPSNR: how much the true actions matter to an action-conditioned image forecast
  if (spec.views[view].kind === 'image' && w.query.actions && horizon >= 4) {
    const randomForecast = await model.forecast(
      { ...w.query, actions: shuffledActions(w.query.actions, run.seed) },
      run,
    );
    assertForecast(randomForecast, expected, `${set.split} forecast with random actions`);
    metrics.dtPsnr = { '4': deltaPsnr(metrics, score(randomForecast), 4) };
  }
  const samples =
    spec.views[view].kind === 'image'
      ? { truth: firstRows(w.truth, 2), forecast: firstRows(forecast.mean, 2) }
      : undefined;
  return { metrics, forecastSeconds, forecastSteps: expected[0] * horizon, ...(samples ? { samples } : {}) };
}

export interface EvaluateOptions {
  view: string;
  budget: number;
  seed: number;
  /** Training policy: 'behavior' (the offline protocol) or 'explore' (offline-explore). */
  policy?: PolicyName;
  config?: object;
  /** Default: the scenario's horizon. */
  horizon?: number;
  /** Windows per split (default 64, as the runner). */
  episodes?: number;
}

/**
 * One offline job end to end, exactly as the runner derives it (same named RNG streams, so the numbers match
 * `pnpm bench`): fit on the training set, score on the test and ood windows.
 */
export async function evaluateModel(
  module: WorldModelModule,
  scenario: Scenario,
  opts: EvaluateOptions,
): Promise<{
  metrics: { test: HorizonMetrics; ood: HorizonMetrics };
  explain?: Record<string, unknown>;
  model: WorldModel;
  world: unknown;
}> {
  const { spec } = scenario;
  const horizon = opts.horizon ?? spec.horizon;
  const count = opts.episodes ?? 64;
  const world = jobWorld(scenario, opts.seed);
  const train = trainingSet(scenario, world, opts.policy ?? 'behavior', opts.budget, opts.seed);
  const config = { ...module.defaults, ...opts.config };
  const model = await module.create(spec, opts.view, config, privilegedInfo(module, config, scenario));
  const run = quietRun(opts.seed);
  await model.fit(train.observed, run);
  const scale = metricScale(evaluationSet(scenario, world, 'test', opts.seed, { count, horizon }), spec, opts.view);
  const score = (split: 'test' | 'ood') =>
    scoreSplit(
      model,
      spec,
      opts.view,
      evaluationSet(scenario, world, split, opts.seed, { count, horizon }),
      horizon,
      scale,
      run,
    );
  const test = await score('test'),
    ood = await score('ood');
  return { metrics: { test: test.metrics, ood: ood.metrics }, explain: model.explain?.(), model, world };
}
