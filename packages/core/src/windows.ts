// Forecast windows: K observed steps, then H steps to predict, cut from whole episodes.
import { episodeCount, innerSize, tensor, type Episodes, type Tensor } from './data';
import type { Query } from './model';
import type { Rng } from './rng';
import type { ScenarioSpec } from './spec';

/** One start step per episode, uniform over the positions where K + H - 1 transitions fit. */
export function windowStarts(episodes: number, steps: number, K: number, H: number, rng: Rng): Int32Array {
  const last = steps - (K - 1) - H;
  if (last < 0)
    throw new RangeError(`a window of ${K} observed + ${H} forecast steps does not fit in ${steps} transitions`);
  return Int32Array.from({ length: episodes }, () => rng.int(last + 1));
}

/** Steps [start, start + length) of each episode of a per-step tensor: [E, length, ...]. */
export function cutWindows(t: Tensor, starts: Int32Array, offset: number, length: number): Tensor {
  const E = t.shape[0];
  const inner = innerSize(t, 2);
  const out = tensor([E, length, ...t.shape.slice(2)]);
  for (let e = 0; e < E; e++) {
    const from = t.offset + e * t.stride[0] + (starts[e] + offset) * t.stride[1];
    out.data.set(t.data.subarray(from, from + length * inner), e * length * inner);
  }
  return out;
}

export interface ForecastWindows {
  query: Query;
  /** The noise-free steps to predict [B, H, ...viewShape], and their mask. */
  truth: Tensor;
  truthMask?: Tensor;
  /** The last observed (noisy) step [B, ...viewShape]: the persistence forecast. */
  lastObserved: Tensor;
}

/**
 * Queries for `view` from observed (noisy) episodes, scored against the clean ones: the history is steps
 * [s, s+K) of each episode, the actions are those taken from step s+K-1 on, the truth is steps [s+K, s+K+H).
 */
export function forecastWindows(
  spec: ScenarioSpec,
  view: string,
  observed: Episodes,
  clean: Episodes,
  starts: Int32Array,
  K: number,
  H: number,
): ForecastWindows {
  const maskName = spec.views[view].mask;
  const names = maskName ? [view, maskName] : [view];
  const history: Episodes = {
    views: Object.fromEntries(names.map((n) => [n, cutWindows(observed.views[n], starts, 0, K)])),
    actions: observed.actions ? cutWindows(observed.actions, starts, 0, K - 1) : null,
    context: observed.context,
  };
  const actions = observed.actions ? cutWindows(observed.actions, starts, K - 1, H) : null;
  const truth = cutWindows(clean.views[view], starts, K, H);
  const truthMask = maskName ? cutWindows(clean.views[maskName], starts, K, H) : undefined;
  const lastWindow = cutWindows(observed.views[view], starts, K - 1, 1);
  const lastObserved = tensor([episodeCount(observed), ...spec.views[view].shape], lastWindow.data);
  return { query: { view, history, actions, horizon: H }, truth, truthMask, lastObserved };
}
