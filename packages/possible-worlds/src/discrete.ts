// How the search reads a categorical (int/token) view, told only the spec:
//   a 2-D grid without a mask, with no action or a categorical one   local rules (rules.ts), and with actions also
//                                                                      object rules (movers.ts)
//   a state vector with a program context (a rank-2 categorical      per-instruction programs (programs.ts)
//   context tensor), without actions
//   anything else                                                     not read: discreteReading says why
import { isCategorical, type Episodes, type ScenarioSpec } from '@worldbench/core';
import { actionKeyCount, actionVocab, discreteTransitions } from './discrete-data';
import { moverWorld, moverWorldFromJSON, searchMovers } from './movers';
import type { Geometry } from './neighbourhoods';
import { programContexts, programWorld, programWorldFromJSON, searchPrograms } from './programs';
import { ruleWorldFromJSON, ruleWorlds, searchRules } from './rules';
import type { CandidateWorld } from './worlds';

export type DiscreteReading = { reads: 'grid' | 'programs' } | { reads: null; reason: string };

/** Whether (and how) the discrete search reads a categorical view. */
export function discreteReading(spec: ScenarioSpec, view: string): DiscreteReading {
  const t = spec.views[view];
  const shape = `[${t.shape.join(', ')}]`;
  if (!isCategorical(t)) return { reads: null, reason: `view ${view} is ${t.kind}, not categorical` };
  if (t.mask)
    return { reads: null, reason: `view ${view} has padding (mask ${t.mask}); discrete worlds read unpadded views` };
  if (spec.action && !isCategorical(spec.action))
    return {
      reads: null,
      reason: `discrete worlds read categorical actions; ${spec.id}'s action is ${spec.action.kind}`,
    };
  if (t.shape.length === 2) return { reads: 'grid' };
  if (t.shape.length === 1 && programContexts(spec).length) {
    if (spec.action)
      return { reads: null, reason: `program induction reads worlds that run by themselves; ${spec.id} has actions` };
    return { reads: 'programs' };
  }
  return {
    reads: null,
    reason:
      `discrete worlds read 2-D grids (local rules) or state vectors with a program context ` +
      `(programs); view ${view} is ${shape}${t.shape.length === 1 ? ' without a rank-2 categorical context' : ''}`,
  };
}

/** The candidate worlds of a categorical view, and the candidates the search scored. */
export function fitDiscreteWorlds(
  spec: ScenarioSpec,
  view: string,
  batches: readonly Episodes[],
  effort: number,
  only: Set<string> | null,
): { worlds: CandidateWorld[]; scored: number } {
  const reading = discreteReading(spec, view);
  if (!reading.reads) throw new Error(`possible-worlds: ${reading.reason}`);
  const data = discreteTransitions(spec, view, batches);
  let worlds: CandidateWorld[], scored: number;
  if (reading.reads === 'programs') {
    const search = searchPrograms(spec, view, data, effort);
    worlds = search.fits.map(programWorld);
    scored = search.scored;
  } else {
    const [H, W] = spec.views[view].shape;
    const g: Geometry = {
      H,
      W,
      V: spec.views[view].vocab as number,
      A: actionKeyCount(spec),
      actionVocab: actionVocab(spec),
    };
    const rules = searchRules(g, data, !!spec.action);
    worlds = ruleWorlds(rules, g);
    scored = rules.scored;
    if (spec.action) {
      const movers = searchMovers(g, data);
      scored += movers.scored;
      if (movers.fit) worlds.push(moverWorld(movers.fit));
    }
  }
  if (only) {
    const kept = worlds.filter((w) => only.has(w.id));
    if (!kept.length)
      throw new Error(
        `possible-worlds: candidates matches none of the worlds ` +
          `found for ${view} (${worlds.map((w) => w.id).join('; ')})`,
      );
    worlds = kept;
  }
  return { worlds, scored };
}

/** Restores a discrete world from its toJSON(), or null when the kind is not a discrete one. */
export function discreteWorldFromJSON(json: any): CandidateWorld | null {
  if (json.kind === 'rule') return ruleWorldFromJSON(json);
  if (json.kind === 'movers') return moverWorldFromJSON(json);
  if (json.kind === 'programs') return programWorldFromJSON(json);
  return null;
}
