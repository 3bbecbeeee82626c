// The data discrete worlds are read from: every transition x_t -> x_{t+1} of a categorical view as integers,
// the action as one categorical key, and the episode's context (e.g. a program) beside it.
import { block, isCategorical, sizeOf, type Episodes, type ScenarioSpec } from '@worldbench/core';
import { transitionData } from './transitions';

export interface DiscreteTransitions {
  n: number;
  /** Values per step of the view. */
  D: number;
  cur: Int32Array; // [n, D]
  next: Int32Array; // [n, D]
  /** The action of each transition as one key in [0, actionKeys) (0 when the world has no actions) [n]. */
  action: Int32Array;
  actionKeys: number;
  /** Per transition, its episode's context tensors (shared by the transitions of one episode). */
  context: Array<Record<string, Float32Array>>;
}

/** Number of action keys of a spec: vocab^size for a categorical action, 1 without actions. */
export function actionKeyCount(spec: ScenarioSpec): number {
  if (!spec.action) return 1;
  if (!isCategorical(spec.action))
    throw new Error(
      `possible-worlds: discrete worlds read categorical actions; ${spec.id}'s action is ${spec.action.kind}`,
    );
  return (spec.action.vocab as number) ** sizeOf(spec.action);
}

/** The vocab of a spec's categorical action (0 without actions): what actionKey reads digits in. */
export function actionVocab(spec: ScenarioSpec): number {
  return spec.action ? (spec.action.vocab as number) : 0;
}

/**
 * One action tensor as its key: the values read as digits of base V, the action's vocab (rounded and clipped into it; 0
 * without actions).
 */
export function actionKey(V: number, action: ArrayLike<number>): number {
  if (V === 0 || action.length === 0) return 0;
  let key = 0;
  for (let j = 0; j < action.length; j++) key = key * V + Math.min(V - 1, Math.max(0, Math.round(action[j])));
  return key;
}

/** Every transition of every batch, from the first step of each episode on (discrete worlds read only x_t). */
export function discreteTransitions(
  spec: ScenarioSpec,
  view: string,
  batches: readonly Episodes[],
): DiscreteTransitions {
  const parts = batches.map((ep) => ({ ep, data: transitionData(spec, view, ep, true) }));
  const n = parts.reduce((s, p) => s + p.data.n, 0);
  const D = sizeOf(spec.views[view]);
  const out: DiscreteTransitions = {
    n,
    D,
    cur: new Int32Array(n * D),
    next: new Int32Array(n * D),
    action: new Int32Array(n),
    actionKeys: actionKeyCount(spec),
    context: [],
  };
  let at = 0;
  for (const { ep, data } of parts) {
    const contexts = new Map<number, Record<string, Float32Array>>();
    for (let i = 0; i < data.n; i++, at++) {
      for (let d = 0; d < D; d++) {
        out.cur[at * D + d] = Math.round(data.cur[i * D + d]);
        out.next[at * D + d] = Math.round(data.next[i * D + d]);
      }
      out.action[at] = actionKey(actionVocab(spec), data.action.subarray(i * data.A, (i + 1) * data.A));
      const e = data.episode[i];
      if (!contexts.has(e))
        contexts.set(e, Object.fromEntries(Object.entries(ep.context).map(([k, v]) => [k, block(v, e)])));
      out.context.push(contexts.get(e)!);
    }
  }
  return out;
}
