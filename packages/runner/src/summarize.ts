// Quantities that compare jobs with each other, derived whenever results are read together (tables, --json,
// the report): on-policy gains, the transfer gain of a generalist, the self-forcing gain, the learning curve's
// area (docs/metrics.md).
import { canonicalJson, isGeneralist } from './jobs';
import { learningCurveAuc } from '@worldbench/core';
import { FULL_BUDGETS } from './plan';
import type { JobResult } from './result';

const skill = (r: JobResult | undefined, h: string | number = 1): number | null =>
  r?.status === 'ok' ? (r.metrics?.test.skill?.[String(h)] ?? null) : null;
const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

/**
 * Results with onPolicyGain(Explore|Random), transferGain, selfForcingGain and auc filled in where their partners
 * exist.
 */
export function withDerived(results: JobResult[]): JobResult[] {
  const key = (r: JobResult, protocol: string, config = r.config) =>
    canonicalJson({
      m: r.modelId,
      c: config,
      s: r.scenario,
      v: r.view,
      p: protocol,
      b: r.budget,
      seed: r.seed,
      e: r.evaluation,
    });
  const index = new Map(results.map((r) => [key(r, r.protocol), r]));
  // auc per (model, config, scenario, view, protocol, seed) over the full grid
  const curves = new Map<string, JobResult[]>();
  for (const r of results) {
    const k = canonicalJson({
      m: r.modelId,
      c: r.config,
      s: r.scenario,
      v: r.view,
      p: r.protocol,
      seed: r.seed,
      e: r.evaluation,
    });
    if (!curves.has(k)) curves.set(k, []);
    curves.get(k)!.push(r);
  }
  const aucOf = new Map<JobResult, number | null>();
  for (const group of curves.values()) {
    const auc = learningCurveAuc(
      group.filter((r) => typeof r.budget === 'number').map((r) => ({ budget: r.budget as number, skill: skill(r) })),
      FULL_BUDGETS,
    );
    for (const r of group) aucOf.set(r, auc);
  }
  return results.map((r) => {
    const out: JobResult = { ...r, auc: aucOf.get(r) ?? null };
    if (r.protocol === 'on-policy') {
      out.onPolicyGain = diff(skill(r), skill(index.get(key(r, 'offline'))));
      out.onPolicyGainExplore = diff(skill(r), skill(index.get(key(r, 'offline-explore'))));
      out.onPolicyGainRandom = diff(skill(r), skill(index.get(key(r, 'on-policy-random'))));
    }
    // transfer: the generalist's row of a world against its specialist's (offline: the same expert data) of the same
    // model, config, view, budget, seed and evaluation
    if (isGeneralist(r.protocol)) out.transferGain = diff(skill(r), skill(index.get(key(r, 'offline'))));
    // self-forcing: a config with rolloutSteps > 0 against the same config with rolloutSteps = 0, at the largest
    // horizon
    const steps = (r.config as Record<string, unknown>).rolloutSteps;
    if (typeof steps === 'number' && steps > 0) {
      const teacher = index.get(key(r, r.protocol, { ...r.config, rolloutSteps: 0 }));
      out.selfForcingGain = diff(skill(r, r.evaluation.horizon), skill(teacher, r.evaluation.horizon));
    }
    return out;
  });
}
