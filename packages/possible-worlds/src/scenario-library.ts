// Scenario libraries: the candidate worlds a scenario states through its HypothesisSpace.
//   FactoredSpace (discrete tables): searched exactly factor by factor from each transition's evidence; the
//     evidence of a space marginalises every factor's option under a uniform prior.
//   LawFamily (parametric laws): fitted, scored and forecast by law-family.ts (shared and per-episode
//     parameters, Laplace evidence, per-episode parameters inferred in context from a window's history).
import type { Episodes, FactoredSpace, HypothesisSpace, ScenarioSpec, Transition } from '@worldbench/core';
import type { StepFn } from './filter';
import { familyWorld, fitFamily } from './law-family';
import { rowsByEpisode, transitionData, type Row } from './transitions';
import type { CandidateWorld } from './worlds';

export interface ScenarioLibraryContext {
  spec: ScenarioSpec;
  view: string;
  hypotheses: HypothesisSpace;
  evidence: 'marginal' | 'bic';
}

/**
 * The probability that one transition's evidence about a factor is wrong (a mis-observed cell): keeps the evidence
 * finite.
 */
const EVIDENCE_ERROR = 1e-3;

// region factored spaces

interface FactoredFit {
  assignment: number[];
  /** Transitions that bore on each factor, and how many of them each option is consistent with. */
  seen: number[];
  votes: number[][];
}

function fitFactored(space: FactoredSpace, transitions: Transition[]): FactoredFit {
  const votes = space.factors.map((f) => new Array(f.options.length).fill(0));
  const seen = new Array(space.factors.length).fill(0);
  for (const t of transitions)
    for (const { factor, consistent } of space.evidence(t)) {
      seen[factor]++;
      for (const o of consistent) votes[factor][o]++;
    }
  const assignment = votes.map((v) => v.indexOf(Math.max(...v)));
  for (const group of space.allDifferent ?? []) resolveAllDifferent(group, votes, assignment);
  return { assignment, seen, votes };
}

/**
 * Within a group whose options must differ, pick options each consistent with all of its factor's evidence
 * (those with the top vote count) and pairwise different: an exact depth-first search, most constrained
 * factor first. Factors never observed take what the others leave. Keeps the argmax when no such choice exists.
 */
function resolveAllDifferent(group: readonly number[], votes: number[][], assignment: number[]): void {
  const allowed = group.map((f) =>
    votes[f].map((v, o) => (v === Math.max(...votes[f]) ? o : -1)).filter((o) => o >= 0),
  );
  const order = group.map((_, i) => i).sort((a, b) => allowed[a].length - allowed[b].length);
  const chosen = new Array<number>(group.length).fill(-1);
  const used = new Set<number>();
  let steps = 0;
  const search = (k: number): boolean => {
    if (k === order.length) return true;
    if (++steps > 1e6) return false;
    const i = order[k];
    for (const o of allowed[i]) {
      if (used.has(o)) continue;
      used.add(o);
      chosen[i] = o;
      if (search(k + 1)) return true;
      used.delete(o);
    }
    return false;
  };
  if (search(0)) group.forEach((f, i) => (assignment[f] = chosen[i]));
}

/** log p(data | space) = sum over factors of log mean over options of eps^(transitions inconsistent with it). */
function factoredEvidence(fit: FactoredFit): number {
  let total = 0;
  fit.votes.forEach((v, f) => {
    const logs = v.map((votes) => (fit.seen[f] - votes) * Math.log(EVIDENCE_ERROR));
    const m = Math.max(...logs);
    total += m + Math.log(logs.reduce((s, l) => s + Math.exp(l - m), 0) / logs.length);
  });
  return total;
}

function factoredWorld(space: FactoredSpace, fit: FactoredFit, logEvidence: number, D: number): CandidateWorld {
  const undetermined = space.factors
    .filter((_, f) => fit.seen[f] === 0 || fit.votes[f].filter((v) => v === Math.max(...fit.votes[f])).length > 1)
    .map((f) => f.name);
  const contradicted = space.factors
    .filter((_, f) => fit.seen[f] > 0 && Math.max(...fit.votes[f]) < fit.seen[f])
    .map((f) => f.name);
  const step: StepFn = (_prev, cur, action, context) =>
    Float64Array.from(
      space.predict(fit.assignment, {
        current: Float32Array.from(cur),
        action: action.length ? Float32Array.from(action) : null,
        context: context ?? {},
      }),
    );
  const chosen = space.factors.map((f, i) => `${f.name}=${f.options[fit.assignment[i]]}`);
  return {
    id: space.id,
    statement: `${space.statement}: ${chosen.join(', ')}`,
    k: space.factors.length,
    logEvidence,
    noiseVariance: new Float64Array(D),
    usesPrevious: false,
    step,
    heldOutLogLik: (byEpisode) => {
      let ll = 0;
      for (const t of byEpisode.flat()) {
        const p = space.predict(fit.assignment, t);
        for (let d = 0; d < p.length; d++)
          ll += p[d] === t.next![d] ? Math.log1p(-EVIDENCE_ERROR) : Math.log(EVIDENCE_ERROR);
      }
      return ll;
    },
    details: () => ({
      assignment: Object.fromEntries(space.factors.map((f, i) => [f.name, f.options[fit.assignment[i]]])),
      undetermined,
      contradicted,
    }),
    toJSON: () => ({ kind: 'factored', id: space.id, fit, logEvidence, D }),
  };
}

// endregion

/** Fits every candidate of the scenario's hypothesis space. */
/**
 * Every transition of every batch, the first of each episode included (scenario laws read only x_t), grouped by
 * episode.
 */
export function scenarioTransitions(ctx: ScenarioLibraryContext, batches: readonly Episodes[]): Row[][] {
  return batches.flatMap((episodes) => rowsByEpisode(transitionData(ctx.spec, ctx.view, episodes, true), episodes));
}

export function fitScenarioWorlds(
  ctx: ScenarioLibraryContext,
  batches: readonly Episodes[],
  only: Set<string> | null = null,
): CandidateWorld[] {
  const byEpisode = scenarioTransitions(ctx, batches);
  const all = byEpisode.flat();
  const D = all[0]?.current.length ?? 0;
  const noiseGuess = Math.max((ctx.spec.observationNoise?.[ctx.view] ?? 0) * Math.SQRT2, 1e-3);
  const candidates = ctx.hypotheses.candidates.filter((c) => !only || only.has(c.id));
  if (candidates.length === 0)
    throw new Error(
      `possible-worlds: candidates matches none of the ` +
        `scenario's (${ctx.hypotheses.candidates.map((c) => c.id).join(', ')})`,
    );
  return candidates.map((c) => {
    if (c.kind === 'factored') {
      const fit = fitFactored(c, all);
      return factoredWorld(c, fit, factoredEvidence(fit), D);
    }
    return familyWorld(c, fitFamily(c, byEpisode, ctx.evidence, noiseGuess), D);
  });
}

export function scenarioWorldFromJSON(ctx: ScenarioLibraryContext, json: any): CandidateWorld {
  const candidate = ctx.hypotheses.candidates.find((c) => c.id === json.id);
  if (!candidate) throw new Error(`possible-worlds: saved world "${json.id}" is not among the scenario's hypotheses`);
  return candidate.kind === 'factored'
    ? factoredWorld(candidate, json.fit, json.logEvidence, json.D)
    : familyWorld(candidate, json.fit, json.D);
}
