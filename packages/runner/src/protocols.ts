// The protocols that go beyond fitting once on a fixed dataset (docs/protocols.md):
//   on-policy         the budget in 4 equal rounds: round 1 from the expert (behavior), later rounds from the
//                     model's own act() on the job's world; fit after every round on all data so far
//   on-policy-random  the same rounds, with random (explore) actions after round 1: the coverage control
//   live              one long stream per seed; the hidden law shifts at times drawn from the seed, untold;
//                     each step is forecast before it is revealed; update() every UPDATE_EVERY steps
import {
  allocEpisodes,
  assertForecast,
  block,
  concatEpisodes,
  createRng,
  cutEpisode,
  episodeCount,
  innerSize,
  isCategorical,
  tensor,
  trainingSet,
  type Episodes,
  type RunContext,
  type Scenario,
  type ScenarioSpec,
  type Tensor,
  type WorldModel,
  unravelIndex,
} from '@worldbench/core';

/** Rounds of the on-policy protocols. */
export const ON_POLICY_ROUNDS = 4;

/** Splits a budget into rounds of equal size (the last takes the remainder); fewer rounds below 4 transitions. */
export function roundSizes(budget: number, rounds = ON_POLICY_ROUNDS): number[] {
  const n = Math.min(rounds, budget);
  const base = Math.floor(budget / n);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? budget - base * (n - 1) : base));
}

/** Adds the scenario's observation noise to one step of one view (leaving padding alone). */
function noisyStep(
  spec: ScenarioSpec,
  view: string,
  values: Float32Array,
  mask: Float32Array | null,
  rng: ReturnType<typeof createRng>,
): Float32Array {
  const std = spec.observationNoise?.[view] ?? 0;
  const out = values.slice();
  if (!std) return out;
  const per = mask ? values.length / mask.length : 1;
  for (let i = 0; i < out.length; i++) {
    const z = rng.normal();
    if (mask && mask[Math.floor(i / per)] === 0) continue;
    out[i] += std * z;
  }
  return out;
}

/** Checks and normalises what act() returned: [B, ...actionShape], finite, inside the action's range or vocab. */
export function checkActions(spec: ScenarioSpec, actions: Tensor, B: number): Tensor {
  const action = spec.action!;
  const expected = [B, ...action.shape];
  if (!actions?.shape || actions.shape.join() !== expected.join())
    throw new Error(`act() returned shape [${actions?.shape ?? ''}], expected [${expected}] ([B, ...actionShape])`);
  const out = tensor(expected, block(actions).slice());
  const at = (i: number) =>
    `actions[${unravelIndex(i, expected).join(', ')}] ([B, ...actionShape] = [${expected.join(', ')}])`;
  for (let i = 0; i < out.data.length; i++) {
    const x = out.data[i];
    if (!Number.isFinite(x)) throw new Error(`act() returned a non-finite action: ${at(i)} = ${x}`);
    if (isCategorical(action)) {
      if (!Number.isInteger(x) || x < 0 || x >= (action.vocab as number))
        throw new Error(`act() returned ${x} at ${at(i)}, not an integer in [0, ${action.vocab})`);
    } else if (action.range) out.data[i] = Math.min(action.range[1], Math.max(action.range[0], x));
  }
  return out;
}

/**
 * Episodes of `transitions` transitions (full episodes, the last cut) whose actions come from `choose`, called
 * once per step with every episode's noisy history so far (the job's view and its mask, the actions taken,
 * the context). Returns what models see (noisy) and the clean episodes.
 */
export async function collectWithActor(
  scenario: Scenario,
  world: unknown,
  view: string,
  transitions: number,
  label: string,
  choose: (history: Episodes) => Promise<Tensor>,
): Promise<{ observed: Episodes; clean: Episodes }> {
  const { spec } = scenario;
  const T = spec.episodeLength;
  const E = Math.ceil(transitions / T);
  const clean = allocEpisodes(spec, E);
  const observed = allocEpisodes(spec, E);
  const rngs = Array.from({ length: E }, (_, e) => createRng(`${label}/episode-${e}`));
  const noise = createRng(`${label}/noise`);
  const maskName = spec.views[view].mask;
  const states: unknown[] = rngs.map((rng) => scenario.reset(world, rng, 'train'));
  for (let e = 0; e < E; e++)
    if (scenario.context) {
      const ctx = scenario.context(world, states[e]);
      for (const [k, v] of Object.entries(ctx)) {
        block(clean.context[k], e).set(v);
        block(observed.context[k], e).set(v);
      }
    }
  const record = (t: number) => {
    for (let e = 0; e < E; e++) {
      const views = scenario.render(world, states[e]);
      for (const [name, values] of Object.entries(views)) {
        block(clean.views[name], e, t).set(values);
        const mask = spec.views[name].mask ? views[spec.views[name].mask!] : null;
        block(observed.views[name], e, t).set(noisyStep(spec, name, values, mask, noise));
      }
    }
  };
  record(0);
  const names = maskName ? [view, maskName] : [view];
  for (let t = 0; t < T; t++) {
    const history: Episodes = {
      views: Object.fromEntries(names.map((n) => [n, windowOf(observed.views[n], 0, t + 1)])),
      actions: observed.actions ? windowOf(observed.actions, 0, t) : null,
      context: observed.context,
    };
    const actions = checkActions(spec, await choose(history), E);
    for (let e = 0; e < E; e++) {
      const a = block(actions, e).slice();
      block(clean.actions!, e, t).set(a);
      block(observed.actions!, e, t).set(a);
      states[e] = scenario.step(world, states[e], a, rngs[e]);
    }
    record(t + 1);
  }
  const last = transitions - (E - 1) * T;
  if (last < T) {
    cutEpisode(clean, E - 1, last);
    cutEpisode(observed, E - 1, last);
  }
  return { observed, clean };
}

/**
 * Training data of the on-policy protocols, fitting the model after every round on all data so far.
 * `actor`: 'model' (its own act), or 'random' (the scenario's broad explore policy: the coverage control).
 * Returns what the model saw (observed) and the clean episodes of the same rounds.
 */
export async function onPolicyTraining(
  model: WorldModel,
  scenario: Scenario,
  world: unknown,
  view: string,
  budget: number,
  seed: number,
  actor: 'model' | 'random',
  run: RunContext,
): Promise<{
  observed: Episodes;
  clean: Episodes;
  fitSeconds: number;
  report: Awaited<ReturnType<WorldModel['fit']>>;
}> {
  const sizes = roundSizes(budget);
  const first = trainingSet(scenario, world, 'behavior', sizes[0], seed);
  const rounds: Episodes[] = [first.observed];
  const cleanRounds: Episodes[] = [first.clean];
  let fitSeconds = 0;
  const fit = async () => {
    const t0 = performance.now();
    const report = await model.fit(concatEpisodes(rounds), run);
    fitSeconds += (performance.now() - t0) / 1000;
    return report;
  };
  let report = await fit();
  for (let k = 1; k < sizes.length; k++) {
    run.progress(k, sizes.length, `on-policy round ${k + 1}`);
    const label = `${seed}/${actor === 'model' ? 'on-policy' : 'on-policy-random'}/round-${k}`;
    const exploreRng = createRng(`${label}/explore`);
    const choose =
      actor === 'model'
        ? (history: Episodes) => model.act!(history, run)
        : async (history: Episodes) => {
            // the scenario's broad random policy does not look at the state (for every built-in scenario); give it
            // a fresh reset state so that a policy which does still gets a valid one
            const B = episodeCount(history);
            const out = tensor([B, ...scenario.spec.action!.shape]);
            for (let b = 0; b < B; b++)
              block(out, b).set(scenario.explore(world, scenario.reset(world, exploreRng, 'train'), exploreRng)!);
            return out;
          };
    const collected = await collectWithActor(scenario, world, view, sizes[k], label, choose);
    rounds.push(collected.observed);
    cleanRounds.push(collected.clean);
    report = await fit();
  }
  return { observed: concatEpisodes(rounds), clean: concatEpisodes(cleanRounds), fitSeconds, report };
}

// region live

export const LIVE_STEPS = 256;
export const LIVE_STREAMS = 8;
export const UPDATE_EVERY = 16;
export const MOVING_WINDOW = 16;
export const LIVE_SHIFTS = 2;

export interface LiveResult {
  /** Pooled over the whole stream: 1 - model error / persistence error at h = 1. */
  meanSkill: number | null;
  /** The 16-step moving skill at each step (null before the window fills or where persistence is exact). */
  movingSkill: Array<number | null>;
  /** Steps at which the hidden law shifted (drawn from the seed, not told to the model). */
  shifts: number[];
  /** Per shift: moving skill just before it minus the lowest moving skill in the 64 steps after it. */
  dips: Array<number | null>;
  /** Per shift: whether there was skill to regain (moving skill just before it > 0; persistence never has). */
  recoverable: boolean[];
  /** Per shift: steps until the moving skill regains 90% of its pre-shift level (null if never, or not recoverable). */
  recovery: Array<number | null>;
  /** Whether the model had update(); without it the stream is forecast-only. */
  updates: boolean;
}

/** Shift times in [64, LIVE_STEPS - 32), at least 64 apart, from the seed. */
export function shiftTimes(seed: number): number[] {
  const rng = createRng(`${seed}/live/shifts`);
  for (;;) {
    const times = Array.from({ length: LIVE_SHIFTS }, () => 64 + rng.int(LIVE_STEPS - 96)).sort((a, b) => a - b);
    if (times.every((t, i) => i === 0 || t - times[i - 1] >= 64)) return times;
  }
}

/** Prequential live protocol on a fitted model. `scale`: the per-dimension metric scale (metricScale). */
export async function liveStream(
  model: WorldModel,
  scenario: Scenario,
  world0: unknown,
  view: string,
  seed: number,
  scale: Float32Array,
  run: RunContext,
): Promise<LiveResult> {
  const { spec } = scenario;
  if (!scenario.shift) throw new Error(`${spec.id} has no shift(): the live protocol needs a change of law`);
  const K = spec.historySteps,
    B = LIVE_STREAMS,
    L = LIVE_STEPS;
  const shifts = shiftTimes(seed);
  const maskName = spec.views[view].mask;
  const names = maskName ? [view, maskName] : [view];
  const rngs = Array.from({ length: B }, (_, b) => createRng(`${seed}/live/stream-${b}`));
  const noise = createRng(`${seed}/live/noise`);
  const shiftRng = createRng(`${seed}/live/law`);
  let world = world0;
  let states: unknown[] = rngs.map((rng) => scenario.reset(world, rng, 'test'));
  // the whole stream as one long episode per stream: [B, L+1, ...]
  const stream = allocEpisodes(spec, B, L, names);
  const clean = tensor([B, L + 1, ...spec.views[view].shape]);
  const context = scenario.context
    ? Object.fromEntries(Object.keys(spec.context ?? {}).map((k) => [k, tensor([B, ...spec.context![k].shape])]))
    : {};
  if (scenario.context)
    states.forEach((s, b) =>
      Object.entries(scenario.context!(world, s)).forEach(([k, v]) => block(context[k], b).set(v)),
    );
  stream.context = context;
  const record = (t: number) =>
    states.forEach((s, b) => {
      const views = scenario.render(world, s);
      for (const n of names)
        block(stream.views[n], b, t).set(
          noisyStep(spec, n, views[n], n === view && maskName ? views[maskName] : null, noise),
        );
      block(clean, b, t).set(views[view]);
    });
  record(0);
  const categorical = isCategorical(spec.views[view]);
  const D = innerSize(clean, 2);
  const err = new Float64Array(L),
    pers = new Float64Array(L);
  const hasUpdate = typeof model.update === 'function';
  for (let t = 0; t < L; t++) {
    if (shifts.includes(t)) world = scenario.shift(world, shiftRng);
    const a = spec.action ? tensor([B, ...spec.action.shape]) : null;
    if (a) states.forEach((s, b) => block(a, b).set(scenario.explore(world, s, rngs[b])!));
    if (t >= K - 1) {
      // forecast step t + 1 from the K observed steps ending at t, before it is revealed
      const from = t - K + 1;
      const history: Episodes = {
        views: Object.fromEntries(names.map((n) => [n, windowOf(stream.views[n], from, K)])),
        actions: stream.actions ? windowOf(stream.actions, from, K - 1) : null,
        context,
      };
      const actions = a ? tensor([B, 1, ...spec.action!.shape], a.data.slice()) : null;
      const f = await model.forecast({ view, history, actions, horizon: 1 }, run);
      assertForecast(f, [B, 1, ...spec.views[view].shape], `live forecast at step ${t}`);
      // the truth of step t + 1
      states = states.map((s, b) => scenario.step(world, s, a ? block(a, b) : null, rngs[b]));
      if (a) for (let b = 0; b < B; b++) block(stream.actions!, b, t).set(block(a, b));
      record(t + 1);
      for (let b = 0; b < B; b++) {
        const y = block(clean, b, t + 1),
          p = block(f.mean, b, 0),
          l = block(stream.views[view], b, t);
        const m = maskName ? block(stream.views[maskName], b, t + 1) : null;
        const per = m ? D / m.length : 1;
        if (categorical) {
          let right = true,
            persRight = true;
          for (let d = 0; d < D; d++) {
            if (m && m[Math.floor(d / per)] === 0) continue;
            if (Math.round(p[d]) !== Math.round(y[d])) right = false;
            if (Math.round(l[d]) !== Math.round(y[d])) persRight = false;
          }
          err[t] += right ? 0 : 1;
          pers[t] += persRight ? 0 : 1;
        } else
          for (let d = 0; d < D; d++) {
            if (m && m[Math.floor(d / per)] === 0) continue;
            err[t] += ((p[d] - y[d]) / scale[d]) ** 2;
            pers[t] += ((l[d] - y[d]) / scale[d]) ** 2;
          }
      }
    } else {
      states = states.map((s, b) => scenario.step(world, s, a ? block(a, b) : null, rngs[b]));
      if (a) for (let b = 0; b < B; b++) block(stream.actions!, b, t).set(block(a, b));
      record(t + 1);
    }
    if (hasUpdate && (t + 1) % UPDATE_EVERY === 0 && t + 1 >= UPDATE_EVERY) {
      const from = t + 1 - UPDATE_EVERY;
      await model.update!(
        {
          views: Object.fromEntries(names.map((n) => [n, windowOf(stream.views[n], from, UPDATE_EVERY + 1)])),
          actions: stream.actions ? windowOf(stream.actions, from, UPDATE_EVERY) : null,
          context,
        },
        run,
      );
    }
    if (t % 32 === 0) run.progress(t, L, 'live stream');
  }
  const movingSkill: Array<number | null> = Array.from({ length: L }, (_, t) => {
    if (t < K - 1 + MOVING_WINDOW - 1) return null;
    let e = 0,
      p = 0;
    for (let s = t - MOVING_WINDOW + 1; s <= t; s++) (e += err[s]), (p += pers[s]);
    return p > 0 ? 1 - e / p : null;
  });
  const totalPers = pers.reduce((s, x) => s + x, 0);
  const { dips, recoverable, recovery } = shiftResponse(movingSkill, shifts);
  return {
    meanSkill: totalPers > 0 ? 1 - err.reduce((s, x) => s + x, 0) / totalPers : null,
    movingSkill: movingSkill.map((x) => (x === null ? null : Math.round(x * 1e4) / 1e4)),
    shifts,
    dips,
    recoverable,
    recovery,
    updates: hasUpdate,
  };
}

/**
 * Per shift of a stream of L = movingSkill.length steps: the dip (moving skill just before minus its lowest value
 * in the 64 steps after), whether it is recoverable (positive skill just before: 90% of zero or of a negative
 * level is regained by doing nothing), and the steps until the moving skill, over a window wholly after the
 * shift, is back at 90% of the level before (null if never, or not recoverable).
 */
export function shiftResponse(
  movingSkill: ReadonlyArray<number | null>,
  shifts: readonly number[],
): { dips: Array<number | null>; recoverable: boolean[]; recovery: Array<number | null> } {
  const L = movingSkill.length;
  const dips: Array<number | null> = [],
    recoverable: boolean[] = [],
    recovery: Array<number | null> = [];
  shifts.forEach((s, i) => {
    const before = movingSkill[s - 1] ?? null;
    const end = shifts[i + 1] ?? L;
    const after = movingSkill.slice(s, Math.min(s + 64, end)).filter((x): x is number => x !== null);
    dips.push(before === null || !after.length ? null : before - Math.min(...after));
    recoverable.push(before !== null && before > 0);
    let back: number | null = null;
    if (before !== null && before > 0)
      for (let t = s; t < end; t++) {
        const m = movingSkill[t];
        if (t - MOVING_WINDOW + 1 >= s && m !== null && m >= 0.9 * before) {
          back = t - s;
          break;
        }
      }
    recovery.push(back);
  });
  return { dips, recoverable, recovery };
}

/**
 * The recovery of every recoverable shift of these streams. Results written before `recoverable` existed are
 * read by the same rule, from their moving skill just before each shift (their recovery of such shifts is the same).
 */
export function recoverableShifts(live: readonly LiveResult[]): Array<number | null> {
  return live.flatMap((l) =>
    l.recovery.filter((_, i) => l.recoverable?.[i] ?? (l.movingSkill[l.shifts[i] - 1] ?? 0) > 0),
  );
}

/** Steps [from, from + n) of a per-step tensor [B, T, ...] as a new tensor [B, n, ...]. */
function windowOf(t: Tensor, from: number, n: number): Tensor {
  const B = t.shape[0],
    inner = innerSize(t, 2);
  const out = tensor([B, n, ...t.shape.slice(2)]);
  for (let b = 0; b < B; b++)
    out.data.set(
      t.data.subarray(t.offset + b * t.stride[0] + from * inner, t.offset + b * t.stride[0] + (from + n) * inner),
      b * n * inner,
    );
  return out;
}

// endregion
