// The default library (library: 'search'): candidate laws found from the data alone, told only the spec.
//   real-valued views:   the generic laws (generic.ts, box.ts), beside equations found by search
//   categorical views:   local rules, object rules or per-instruction programs (discrete.ts)
// Every kind of world found here is restored from its toJSON() by searchWorldFromJSON.
import { isCategorical, type Episodes, type ScenarioSpec } from '@worldbench/core';
import { discreteWorldFromJSON, fitDiscreteWorlds } from './discrete';
import type { EvidenceKind } from './generic';
import { mergeTransitions, transitionData } from './transitions';
import { fitGenericWorlds, genericWorldFromJSON, type CandidateWorld } from './worlds';

export interface SearchContext {
  spec: ScenarioSpec;
  view: string;
  evidence: EvidenceKind;
  /** The search's effort: how many candidate expressions (or rules, or programs) it may score. */
  effort: number;
}

/** What a search ran, for the job's notes and explain(). */
export interface SearchReport {
  /** Candidates scored, of the effort allowed. */
  scored: number;
  effort: number;
  seconds: number;
}

/** Fits every candidate the search finds for the view, on all the batches given. */
export function fitSearchWorlds(ctx: SearchContext, batches: readonly Episodes[], only: Set<string> | null): { worlds: CandidateWorld[]; report: SearchReport } {
  const t0 = performance.now();
  if (isCategorical(ctx.spec.views[ctx.view])) {
    const { worlds, scored } = fitDiscreteWorlds(ctx.spec, ctx.view, batches, ctx.effort, only);
    return { worlds, report: { scored, effort: ctx.effort, seconds: (performance.now() - t0) / 1000 } };
  }
  const data = mergeTransitions(batches.map((b) => transitionData(ctx.spec, ctx.view, b)));
  const worlds = fitGenericWorlds(data, ctx.evidence, only);
  return { worlds, report: { scored: 0, effort: ctx.effort, seconds: (performance.now() - t0) / 1000 } };
}

/** Restores a world the search found from its toJSON(). */
export function searchWorldFromJSON(_ctx: SearchContext, json: any): CandidateWorld {
  if (json.kind === 'generic') return genericWorldFromJSON(json);
  const discrete = discreteWorldFromJSON(json);
  if (discrete) return discrete;
  throw new Error(`possible-worlds: unknown saved world kind "${json.kind}"`);
}
