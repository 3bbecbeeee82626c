// Running a scenario: episodes from its policies, the training set of a budget, observation noise.
import { allocEpisodes, block, episodeCount, innerSize, tensor, type Episodes } from './data';
import type { Rng } from './rng';
import type { PolicyName, Scenario, Split } from './scenario';

/** A policy: the scenario's named ones, or any function of the same shape (a model's `act`, a random control). */
export type Policy<W = unknown, S = unknown> = PolicyName | ((world: W, state: S, rng: Rng) => Float32Array | null);

export interface SimulateOptions<W, S> {
  count: number;
  split: Split;
  policy: Policy<W, S>;
  rng: Rng;
  /** Transitions per episode; defaults to spec.episodeLength. */
  steps?: number;
}

/**
 * Noise-free episodes of one world. Episode e draws from rng.fork(e) alone, so the first n episodes are the
 * same whatever `count` is (a small budget's data is a prefix of a larger one's).
 */
export function simulateEpisodes<W, S>(scenario: Scenario<W, S>, world: W, opts: SimulateOptions<W, S>): Episodes {
  const { spec } = scenario;
  const steps = opts.steps ?? spec.episodeLength;
  const out = allocEpisodes(spec, opts.count, steps);
  const policy = typeof opts.policy === 'function' ? opts.policy : scenario[opts.policy].bind(scenario);
  for (let e = 0; e < opts.count; e++) {
    const rng = opts.rng.fork(e);
    let state = scenario.reset(world, rng, opts.split);
    if (scenario.context) {
      const ctx = scenario.context(world, state);
      for (const name of Object.keys(out.context)) block(out.context[name], e).set(ctx[name]);
    }
    for (let t = 0; t <= steps; t++) {
      const views = scenario.render(world, state);
      for (const name of Object.keys(out.views)) block(out.views[name], e, t).set(views[name]);
      if (t === steps) break;
      const action = policy(world, state, rng);
      if (out.actions) {
        if (!action) throw new Error(`${spec.id}: the policy returned no action, but the scenario has actions`);
        block(out.actions, e, t).set(action);
      }
      state = scenario.step(world, state, action, rng);
    }
  }
  return out;
}

/**
 * The training set of a budget: exactly `budget` transitions over whole episodes, the last one cut
 * (its steps past the cut hold NaN; see Episodes.lengths).
 */
export function trainingEpisodes<W, S>(
  scenario: Scenario<W, S>,
  world: W,
  budget: number,
  policy: Policy<W, S>,
  rng: Rng,
): Episodes {
  const T = scenario.spec.episodeLength;
  const count = Math.ceil(budget / T);
  const ep = simulateEpisodes(scenario, world, { count, split: 'train', policy, rng });
  const last = budget - (count - 1) * T;
  if (last < T) cutEpisode(ep, count - 1, last);
  return ep;
}

/** Marks episode e as `length` transitions long and fills what follows with NaN. */
export function cutEpisode(ep: Episodes, e: number, length: number): void {
  const E = episodeCount(ep);
  const T = Object.values(ep.views)[0].shape[1] - 1;
  ep.lengths ??= new Int32Array(E).fill(T);
  ep.lengths[e] = length;
  for (const v of Object.values(ep.views)) for (let t = length + 1; t <= T; t++) block(v, e, t).fill(NaN);
  if (ep.actions) for (let t = length; t < T; t++) block(ep.actions, e, t).fill(NaN);
}

/**
 * A copy with Gaussian noise of std `noise[view]` added to each listed view, leaving padding (mask 0)
 * and NaN-filled steps as they are. This is what models see; metrics score against the clean episodes.
 */
export function addObservationNoise(
  ep: Episodes,
  noise: Record<string, number> | undefined,
  masks: Record<string, string | undefined>,
  rng: Rng,
): Episodes {
  const views: Episodes['views'] = {};
  for (const [name, t] of Object.entries(ep.views)) {
    const std = noise?.[name] ?? 0;
    if (!std) {
      views[name] = t;
      continue;
    }
    const copy = tensor(t.shape, block(t).slice());
    const maskName = masks[name];
    const mask = maskName ? ep.views[maskName] : undefined;
    const stepSize = innerSize(t, 2);
    const maskSize = mask ? innerSize(mask, 2) : 1;
    const per = stepSize / maskSize; // scalars per mask entry
    const noiseRng = rng.fork(name);
    for (let e = 0; e < t.shape[0]; e++)
      for (let s = 0; s < t.shape[1]; s++) {
        const values = block(copy, e, s);
        const m = mask ? block(mask, e, s) : null;
        for (let i = 0; i < stepSize; i++) {
          const z = noiseRng.normal();
          if (m && m[Math.floor(i / per)] === 0) continue;
          if (Number.isNaN(values[i])) continue;
          values[i] += std * z;
        }
      }
    views[name] = copy;
  }
  return { ...ep, views };
}
