// Public conformance suites: every registered scenario and model passes these, and a plug-in author runs
// them in one line: `await checkScenario(myScenario)`, `await checkWorldModel(myModule, someScenario)`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  block,
  describeNonFinite,
  episodeCount,
  innerSize,
  tensor,
  unravelIndex,
  type Episodes,
  type Tensor,
} from './data';
import { privilegedInfo, quietRun, type Forecast, type WorldModelModule } from './model';
import { createRng } from './rng';
import type { Scenario, Split } from './scenario';
import { addObservationNoise, simulateEpisodes, trainingEpisodes } from './simulate';
import { hypothesisSpaceProblems } from './hypotheses';
import { forecastViews, isCategorical, sizeOf, specProblems, type TensorSpec } from './spec';
import { forecastWindows, windowStarts } from './windows';

export class ConformanceError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: string[],
  ) {
    super(`${subject} fails conformance:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConformanceError';
  }
}

function tensorProblems(name: string, spec: TensorSpec, values: Float32Array | undefined): string[] {
  if (!values) return [`${name} is missing`];
  if (values.length !== sizeOf(spec))
    return [`${name} has ${values.length} values; its spec [${spec.shape}] needs ${sizeOf(spec)}`];
  const out: string[] = [];
  const at = (i: number) => `${name}[${unravelIndex(i, spec.shape).join(', ')}]`; // an index of its spec's shape
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) return [`${at(i)} is ${x}`];
    if (spec.kind === 'image' && (x < 0 || x > 1)) return [`${at(i)} = ${x} is outside [0, 1] for an image`];
    if (isCategorical(spec) && (!Number.isInteger(x) || x < 0 || x >= (spec.vocab ?? 0)))
      return [`${at(i)} = ${x} is not an integer in [0, ${spec.vocab})`];
    if (spec.range && (x < spec.range[0] - 1e-6 || x > spec.range[1] + 1e-6))
      return [`${at(i)} = ${x} is outside its range [${spec.range}]`];
  }
  return out;
}

function sameEpisodes(a: Episodes, b: Episodes): boolean {
  const eq = (x: Tensor | null, y: Tensor | null) =>
    x === null ? y === null : y !== null && x.data.every((v, i) => Object.is(v, y.data[i]));
  return (
    Object.keys(a.views).every((k) => eq(a.views[k], b.views[k])) &&
    eq(a.actions, b.actions) &&
    Object.keys(a.context).every((k) => eq(a.context[k], b.context[k]))
  );
}

/**
 * Spec, shapes and ranges of every view, action and context, determinism under a seed (and other seeds giving other
 * episodes), step leaving its input untouched, every split, shift, and a hypothesis space.
 */
export function checkScenario(scenario: Scenario, opts: { seed?: number; episodes?: number } = {}): void {
  const { spec } = scenario;
  const problems = [...specProblems(spec)];
  if (problems.length) throw new ConformanceError(spec.id ?? 'scenario', problems);
  const seed = opts.seed ?? 0;
  const count = opts.episodes ?? 3;
  const masks = Object.fromEntries(Object.entries(spec.views).map(([k, v]) => [k, v.mask]));
  const runAll = (world: unknown, label: string) => {
    for (const split of ['train', 'test', 'ood'] as Split[])
      for (const policy of ['behavior', 'explore'] as const) {
        const where = `${label} ${split}/${policy}`;
        let ep: Episodes;
        try {
          ep = simulateEpisodes(scenario, world, {
            count,
            split,
            policy,
            rng: createRng(`${seed}/${split}/${policy}`),
          });
        } catch (err) {
          problems.push(`${where}: simulating threw ${(err as Error).message}`);
          continue;
        }
        const again = simulateEpisodes(scenario, world, {
          count,
          split,
          policy,
          rng: createRng(`${seed}/${split}/${policy}`),
        });
        if (!sameEpisodes(ep, again))
          problems.push(
            `${where}: two runs with the same seed differ (is there a Math.random() or shared mutable state?)`,
          );
        for (let e = 0; e < count; e++) {
          for (const [name, t] of Object.entries(spec.views))
            for (let s = 0; s < spec.episodeLength + 1; s++)
              problems.push(
                ...tensorProblems(`${where} episode ${e} step ${s} view ${name}`, t, block(ep.views[name], e, s)),
              );
          for (const [name, t] of Object.entries(spec.context ?? {}))
            problems.push(...tensorProblems(`${where} episode ${e} context ${name}`, t, block(ep.context[name], e)));
          if (spec.action && ep.actions)
            for (let s = 0; s < spec.episodeLength; s++)
              problems.push(
                ...tensorProblems(`${where} episode ${e} step ${s} action`, spec.action, block(ep.actions, e, s)),
              );
          for (const [name, t] of Object.entries(spec.views))
            if (t.mask && !block(ep.views[t.mask], e).every((m) => m === 0 || m === 1))
              problems.push(`${where}: mask ${t.mask} of ${name} holds values other than 0 and 1`);
        }
        const noisy = addObservationNoise(ep, spec.observationNoise, masks, createRng(seed));
        if (Object.values(noisy.views).some((t) => t.data.some((x) => !Number.isFinite(x))))
          problems.push(`${where}: observation noise produced non-finite values`);
      }
  };
  const world = scenario.sampleWorld(createRng(`${seed}/world`));
  problems.push(...seedProblems(scenario, world, seed));
  runAll(world, 'world');
  if (scenario.hypotheses) problems.push(...hypothesesProblems(scenario, world, seed));
  if (scenario.shift) runAll(scenario.shift(world, createRng(`${seed}/shift`)), 'shifted world');
  if (problems.length) throw new ConformanceError(spec.id, problems.slice(0, 20));
}

/**
 * What a seed decides: the same seed draws the same world, another seed other episodes (a scenario whose episodes
 * ignore the rng passed would give every seed the same data); and step returns a new state, its input untouched (a
 * runner steps many episodes from states it keeps).
 */
function seedProblems(scenario: Scenario, world: unknown, seed: number): string[] {
  const problems: string[] = [];
  const sameWorld = JSON.stringify(scenario.sampleWorld(createRng(`${seed}/world`)));
  if (sameWorld !== JSON.stringify(world)) problems.push('sampleWorld: the same seed drew two different worlds');
  const episodes = (label: string) =>
    simulateEpisodes(scenario, world, { count: 2, split: 'train', policy: 'explore', rng: createRng(label) });
  if (sameEpisodes(episodes(`${seed}/seeds/a`), episodes(`${seed}/seeds/b`)))
    problems.push(
      'two different seeds gave the same episodes: do reset, step and the policies draw from the rng passed?',
    );
  const rng = createRng(`${seed}/step`);
  const state = scenario.reset(world, rng, 'train');
  const before = structuredClone(state);
  const next = scenario.step(world, state, scenario.explore(world, state, rng), rng);
  if (next === state) problems.push('step returned its input state; it must return a new one');
  if (!isDeepStrictEqual(state, before)) problems.push('step changed its input state; it must leave it untouched');
  return problems;
}

/** A well-formed space whose true factored assignment reproduces clean transitions exactly. */
function hypothesesProblems(scenario: Scenario, world: unknown, seed: number): string[] {
  const space = scenario.hypotheses!;
  const problems = hypothesisSpaceProblems(space, world).map((p) => `hypotheses: ${p}`);
  if (problems.length) return problems;
  if (!scenario.spec.views[space.view])
    return [`hypotheses: view "${space.view}" is not a view of ${scenario.spec.id}`];
  const truth = space.truth(world);
  const hypothesis = space.candidates.find((c) => c.id === truth.id)!;
  if (hypothesis.kind !== 'factored') return [];
  if (!truth.assignment) return [`hypotheses: truth(world) of the factored space ${truth.id} gives no assignment`];
  const ep = simulateEpisodes(scenario, world, {
    count: 2,
    split: 'train',
    policy: 'explore',
    rng: createRng(`${seed}/hypotheses`),
  });
  for (let e = 0; e < 2; e++)
    for (let t = 0; t < scenario.spec.episodeLength; t++) {
      const transition = {
        current: block(ep.views[space.view], e, t),
        next: block(ep.views[space.view], e, t + 1),
        action: ep.actions ? block(ep.actions, e, t) : null,
        context: Object.fromEntries(Object.entries(ep.context).map(([k, v]) => [k, block(v, e)])),
      };
      const predicted = hypothesis.predict(truth.assignment, transition);
      if (!predicted.every((x, i) => x === transition.next[i]))
        return [`hypotheses: the true assignment of ${truth.id} mispredicts episode ${e} step ${t}`];
      for (const { factor, consistent } of hypothesis.evidence(transition))
        if (!consistent.includes(truth.assignment[factor]))
          return [
            `hypotheses: evidence at ` +
              `episode ${e} step ${t} rules out the true option of factor ${hypothesis.factors[factor].name}`,
          ];
    }
  return [];
}

function forecastProblems(where: string, f: Forecast, expected: number[]): string[] {
  const problems: string[] = [];
  const layout = '[B, H, ...viewShape]';
  if (f.mean.shape.join() !== expected.join())
    problems.push(`${where}: forecast mean has shape [${f.mean.shape}], expected [${expected}] (${layout})`);
  else {
    const nan = describeNonFinite('mean', f.mean.data, expected, layout);
    if (nan) problems.push(`${where}: forecast holds NaN or infinity: ${nan}`);
  }
  if (f.std) {
    if (f.std.shape.join() !== expected.join())
      problems.push(`${where}: forecast std has shape [${f.std.shape}], expected [${expected}] (${layout})`);
    else {
      const bad = describeNonFinite('std', f.std.data, expected, layout, (x) => x >= 0 && Number.isFinite(x));
      if (bad) problems.push(`${where}: forecast std holds negative or non-finite values: ${bad}`);
    }
  }
  return problems;
}

function sameForecast(a: Forecast, b: Forecast): boolean {
  return a.mean.data.length === b.mean.data.length && a.mean.data.every((x, i) => Object.is(x, b.mean.data[i]));
}

/**
 * For each view the module supports on the scenario: fit on a small budget, forecast shapes and rollout
 * lengths, no NaN, determinism under a seed (two fresh models agree exactly), save -> load -> the same forecast.
 * Returns the views checked.
 */
export async function checkWorldModel(
  module: WorldModelModule,
  scenario: Scenario,
  opts: { seed?: number; budget?: number; config?: object } = {},
): Promise<string[]> {
  const { spec } = scenario;
  const subject = `${module.card?.id ?? 'model'} on ${spec.id}`;
  const config = { ...module.defaults, ...opts.config };
  const privileged = privilegedInfo(module, config, scenario);
  const support = module.supports(spec, privileged);
  const problems: string[] = [];
  const valid = new Set(forecastViews(spec));
  for (const v of support.views)
    if (!valid.has(v))
      problems.push(
        `supports() names view "${v}", which ${spec.id} does not forecast (it has ${[...valid].join(', ')})`,
      );
  if (support.views.length === 0 && !('reason' in support && support.reason))
    problems.push('supports() refuses the scenario without a reason');
  if (problems.length) throw new ConformanceError(subject, problems);

  const seed = opts.seed ?? 0;
  const budget = opts.budget ?? 64;
  const masks = Object.fromEntries(Object.entries(spec.views).map(([k, v]) => [k, v.mask]));
  const world = scenario.sampleWorld(createRng(`${seed}/world`));
  const train = addObservationNoise(
    trainingEpisodes(scenario, world, budget, 'behavior', createRng(`${seed}/train`)),
    spec.observationNoise,
    masks,
    createRng(`${seed}/train-noise`),
  );
  const cleanTest = simulateEpisodes(scenario, world, {
    count: 4,
    split: 'test',
    policy: 'explore',
    rng: createRng(`${seed}/test`),
  });
  const test = addObservationNoise(cleanTest, spec.observationNoise, masks, createRng(`${seed}/test-noise`));
  const K = spec.historySteps;
  const H = Math.min(spec.horizon, spec.episodeLength - K + 1, 4);
  const starts = windowStarts(episodeCount(test), spec.episodeLength, K, H, createRng(`${seed}/windows`));

  for (const view of support.views) {
    const where = `view ${view}`;
    const { query } = forecastWindows(spec, view, test, cleanTest, starts, K, H);
    const expected = [episodeCount(test), H, ...spec.views[view].shape];
    const fitted = async () => {
      const model = await module.create(spec, view, config, privileged);
      const report = await model.fit(train, quietRun(seed));
      if (!(Number.isFinite(report?.params) && report.params >= 0))
        problems.push(`${where}: fit() must report params >= 0, got ${report?.params}`);
      return model;
    };
    const model = await fitted();
    const f = await model.forecast(query, quietRun(seed));
    problems.push(...forecastProblems(where, f, expected));
    const one = await model.forecast(
      { ...query, horizon: 1, actions: query.actions ? sliceFirst(query.actions) : null },
      quietRun(seed),
    );
    problems.push(...forecastProblems(`${where} horizon 1`, one, [expected[0], 1, ...expected.slice(2)]));

    const twin = await fitted();
    if (!sameForecast(f, await twin.forecast(query, quietRun(seed))))
      problems.push(`${where}: two models fitted with the same seed and data forecast differently (non-determinism)`);
    await twin.dispose?.();

    const dir = mkdtempSync(join(tmpdir(), 'worldbench-conformance-'));
    try {
      await model.save(dir);
      const loaded = await module.load(dir, privileged);
      if (!sameForecast(f, await loaded.forecast(query, quietRun(seed))))
        problems.push(`${where}: save -> load gives a different forecast`);
      await loaded.dispose?.();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (model.explain) {
      try {
        JSON.stringify(model.explain());
      } catch (err) {
        problems.push(`${where}: explain() is not JSON-serialisable: ${(err as Error).message}`);
      }
    }
    await model.dispose?.();
  }
  if (problems.length) throw new ConformanceError(subject, problems);
  return support.views;
}

/** actions[:, :1] */
function sliceFirst(actions: Tensor): Tensor {
  const [B] = actions.shape;
  const inner = innerSize(actions, 2);
  const out = new Float32Array(B * inner);
  for (let b = 0; b < B; b++) out.set(block(actions, b, 0), b * inner);
  return tensor([B, 1, ...actions.shape.slice(2)], out);
}
