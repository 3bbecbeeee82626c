// The default library (library: 'search'): candidate laws found from the data alone, told only the spec.
//   real-valued views:   the generic laws (generic.ts, box.ts), beside the laws the equation search finds
//                        (kinematics.ts -> equation-search.ts -> discovered-law.ts), all ranked by evidence
//   categorical views:   local rules, object rules or per-instruction programs (discrete.ts)
// Every kind of world found here is restored from its toJSON() by searchWorldFromJSON.
import { isCategorical, sizeOf, type Episodes, type LawFamily, type ScenarioSpec } from '@worldbench/core';
import { describeLaw, lawFamily, lawStatement, type LawDescription } from './discovered-law';
import { discreteWorldFromJSON, fitDiscreteWorlds } from './discrete';
import { searchEquations } from './equation-search';
import { candidateForms, formKey, type ScoredForm } from './law-forms';
import type { EvidenceKind } from './generic';
import { centred, findKinematics, fixedPoint } from './kinematics';
import { familyWorld, fitFamily, type FamilyFit } from './law-family';
import type { Variables } from './terms';
import { mergeTransitions, rowsByEpisode, transitionData, type TransitionData } from './transitions';
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

/** Law forms fitted through the integrator (the best by their stacked score; and one rival): the costly step. */
const FORMS_FITTED = 3;

/**
 * Nats by which a form's likelihood at the screening's coefficients may fall short of the best generic evidence and
 * still be fitted: SCREEN_MARGIN plus SCREEN_PER_TRANSITION per transition. The share grows with the data: a
 * flexible generic law gains on the training likelihood in proportion to the transitions (on noisy states it learns
 * where the states lie and so partly denoises its inputs, which a law of motion cannot), while the law may still be
 * the one that holds where a forecast window leaves the training range (the window's own evidence then picks it,
 * model.ts). A form that cannot express the data falls short by far more (walls and contacts: hundreds of nats per
 * transition).
 */
const SCREEN_MARGIN = 50;
const SCREEN_PER_TRANSITION = 0.25;
/** Transitions the screening likelihood is computed on, at most (spread over the data). */
const SCREEN_TRANSITIONS = 2048;

/**
 * A law's Gaussian log-likelihood of the next states, each component at its own noise level, with its
 * coefficients at the screening's estimates (each episode's own where per episode) and its other parameters
 * at their initial values: one integrated step per transition, no fitting. What its integrated fit reaches is
 * near (a little above: the fit tunes what the screening estimated on midpoints).
 */
function screeningLogLikelihood(
  family: LawFamily,
  law: LawDescription,
  form: ScoredForm,
  data: TransitionData,
): number {
  const { D, A } = data;
  const initial = Float64Array.from(law.parameters, (p) => (p.range[0] + p.range[1]) / 2);
  const thetaOf = new Map<number, Float64Array>();
  const theta = (e: number) => {
    let t = thetaOf.get(e);
    if (!t) {
      t = initial.slice();
      for (const [key, value] of form.inEpisode(e)) if (law.keys[key] !== undefined) t[law.keys[key]] = value;
      thetaOf.set(e, t);
    }
    return t;
  };
  const used = Math.min(data.n, SCREEN_TRANSITIONS);
  const sse = new Float64Array(D),
    count = new Float64Array(D);
  for (let k = 0; k < used; k++) {
    const i = Math.floor((k * data.n) / used);
    const predicted = family.predict(theta(data.episode[i]), {
      current: Float32Array.from(data.cur.subarray(i * D, (i + 1) * D)),
      action: A ? Float32Array.from(data.action.subarray(i * A, (i + 1) * A)) : null,
      context: {},
    });
    for (let d = 0; d < D; d++)
      if (data.valid[i * D + d]) {
        const r = data.next[i * D + d] - predicted[d];
        sse[d] += Number.isFinite(r) ? r * r : 1e30;
        count[d]++;
      }
  }
  let ll = 0;
  for (let d = 0; d < D; d++)
    if (sse[d] > 1e-18 * Math.max(count[d], 1))
      ll += -0.5 * count[d] * (Math.log((2 * Math.PI * sse[d]) / count[d]) + 1);
  return (ll * data.n) / used;
}

/** Names of the view's components and the actions, for printed laws: x0.., or b0.f0.. for a view of bodies. */
export function namedVariables(spec: ScenarioSpec, view: string): Variables {
  const shape = spec.views[view].shape;
  const D = sizeOf(spec.views[view]);
  const A = spec.action ? sizeOf(spec.action) : 0;
  const names =
    shape.length === 2 && shape[0] > 1
      ? Array.from({ length: D }, (_, d) => `b${Math.floor(d / shape[1])}.x${d % shape[1]}`)
      : Array.from({ length: D }, (_, d) => `x${d}`);
  return { D, A, names: [...names, ...Array.from({ length: A }, (_, j) => `a${j}`)] };
}

/** A discovered law fitted, as a candidate world; its evidence includes the log prior of its form. */
function discoveredWorld(id: string, law: LawDescription, fit: FamilyFit, D: number): CandidateWorld {
  const family = lawFamily(id, law);
  return familyWorld(family, fit, D, {
    statement: lawStatement(law, fit.mean),
    toJSON: () => ({ kind: 'discovered', id, law, fit, D }),
  });
}

/** Fits every candidate the search finds for the view, on all the batches given. */
export function fitSearchWorlds(
  ctx: SearchContext,
  batches: readonly Episodes[],
  only: Set<string> | null,
): { worlds: CandidateWorld[]; report: SearchReport } {
  const t0 = performance.now();
  if (isCategorical(ctx.spec.views[ctx.view])) {
    const { worlds, scored } = fitDiscreteWorlds(ctx.spec, ctx.view, batches, ctx.effort, only);
    return { worlds, report: { scored, effort: ctx.effort, seconds: (performance.now() - t0) / 1000 } };
  }
  const data = mergeTransitions(batches.map((b) => transitionData(ctx.spec, ctx.view, b)));
  const worlds = fitGenericWorlds(data, ctx.evidence, only);
  let scored = 0;
  if (!only || [...only].some((id) => id.startsWith('discovered'))) {
    const kinematics = findKinematics(data, ctx.spec.views[ctx.view].shape);
    const vars = namedVariables(ctx.spec, ctx.view);
    // the law searched in the view's coordinates, and, where the data show a point the positions are pulled
    // toward away from the origin, in coordinates centred there (the centre's constants paid for by BIC)
    const centre = fixedPoint(data, kinematics);
    const frames = [
      { centre: null as Float64Array | null, data },
      ...(centre ? [{ centre, data: centred(data, centre) }] : []),
    ];
    const candidates = frames.flatMap((frame) => {
      const search = searchEquations(frame.data, kinematics, vars, { effort: ctx.effort });
      scored += search.scored;
      const price = frame.centre
        ? 0.5 * (kinematics.axes[0] ?? []).filter((a) => frame.centre![a.position] !== 0).length * Math.log(data.n)
        : 0;
      return candidateForms(search, kinematics, vars).map((form) => ({
        form: { ...form, score: form.score - price },
        centre: frame.centre,
      }));
    });
    const byEpisode = rowsByEpisode(data);
    const noiseGuess = noiseGuessOf(ctx);
    // the integrated fit is the costly step: a form whose likelihood at the screening's coefficients (one
    // integrated step per transition) falls short of the best generic law's evidence by far is not fitted (walls and
    // contacts, which no flow expresses; the screening alone cannot tell, as its midpoint features see both
    // sides of a bounce)
    const best = Math.max(...worlds.map((w) => w.logEvidence));
    let fitted = 0;
    // the best forms by score, and the best rival (a law without the best one's main term) unless one of them is it
    const ranked = candidates.sort((a, b) => b.form.score - a.form.score);
    const chosen = ranked.filter((c) => !c.form.rival).slice(0, FORMS_FITTED);
    const keys = new Set(chosen.map((c) => `${c.centre}|${formKey(c.form.form)}`));
    const rival = ranked.find((c) => c.form.rival);
    if (rival && !keys.has(`${rival.centre}|${formKey(rival.form.form)}`)) chosen.push(rival);
    chosen.forEach(({ form, centre }) => {
      const id = form.rival ? 'discovered-rival' : fitted === 0 ? 'discovered' : `discovered-${fitted}`;
      const law = describeLaw(kinematics, vars, form, centre);
      const family = lawFamily(id, law);
      const guess = screeningLogLikelihood(family, law, form, data);
      if (guess < best - SCREEN_MARGIN - SCREEN_PER_TRANSITION * data.n) return;
      const fit = fitFamily(family, byEpisode, ctx.evidence, noiseGuess);
      worlds.push(discoveredWorld(id, law, { ...fit, logEvidence: fit.logEvidence + law.logPrior }, data.D));
      fitted++;
    });
  }
  return { worlds, report: { scored, effort: ctx.effort, seconds: (performance.now() - t0) / 1000 } };
}

/**
 * The laws already found, refitted to other batches without a new search (update()'s change test compares one
 * set of laws on the past, on the recent window and on both; searching afresh each time would cost seconds).
 * Null for a categorical view (its discrete search is quick and is its own refit).
 */
export function refitSearchWorlds(
  ctx: SearchContext,
  worlds: readonly CandidateWorld[],
  batches: readonly Episodes[],
): CandidateWorld[] | null {
  if (isCategorical(ctx.spec.views[ctx.view])) return null;
  const data = mergeTransitions(batches.map((b) => transitionData(ctx.spec, ctx.view, b)));
  const found = worlds.map((w) => w.toJSON() as { kind: string; id: string; law?: LawDescription });
  const generic = new Set(found.filter((j) => j.kind === 'generic').map((j) => j.id));
  const out = generic.size ? fitGenericWorlds(data, ctx.evidence, generic) : [];
  const byEpisode = rowsByEpisode(data);
  for (const j of found)
    if (j.kind === 'discovered' && j.law) {
      const fit = fitFamily(lawFamily(j.id, j.law), byEpisode, ctx.evidence, noiseGuessOf(ctx));
      out.push(discoveredWorld(j.id, j.law, { ...fit, logEvidence: fit.logEvidence + j.law.logPrior }, data.D));
    }
  return out;
}

/** The observation noise of the current and the next step: the scale the law fitter starts its residuals at. */
const noiseGuessOf = (ctx: SearchContext) => Math.max((ctx.spec.observationNoise?.[ctx.view] ?? 0) * Math.SQRT2, 1e-3);

/** Restores a world the search found from its toJSON(). */
export function searchWorldFromJSON(_ctx: SearchContext, json: any): CandidateWorld {
  if (json.kind === 'generic') return genericWorldFromJSON(json);
  if (json.kind === 'discovered') return discoveredWorld(json.id, json.law, json.fit, json.D);
  const discrete = discreteWorldFromJSON(json);
  if (discrete) return discrete;
  throw new Error(`possible-worlds: unknown saved world kind "${json.kind}"`);
}
