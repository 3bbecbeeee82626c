// Scenario libraries: the candidate worlds a scenario states through its HypothesisSpace.
//   FactoredSpace (discrete tables): searched exactly factor by factor from each transition's evidence; the
//     evidence of a space marginalises every factor's option under a uniform prior.
//   LawFamily (parametric laws): per-episode parameters fitted by Levenberg-Marquardt (one step when the law is
//     linear in them), evidence by the Laplace approximation (exact for laws linear in their parameters, given
//     the noise level), and parameters inferred in context at forecast time from the window's history.
import { block, type Episodes, type FactoredSpace, type HypothesisSpace, type LawFamily, type ScenarioSpec, type Transition } from '@worldbench/core';
import type { StepFn } from './filter';
import { levenbergMarquardt, logDet } from './lm';
import { transitionData, type TransitionData } from './transitions';
import type { CandidateWorld } from './worlds';

export interface ScenarioLibraryContext {
  spec: ScenarioSpec;
  view: string;
  hypotheses: HypothesisSpace;
  evidence: 'marginal' | 'bic';
}

/** Pseudo-episodes of the stated prior in the in-context prior over per-episode parameters. */
const PRIOR_EPISODES = 2;

/** The probability that one transition's evidence about a factor is wrong (a mis-observed cell): keeps the evidence finite. */
const EVIDENCE_ERROR = 1e-3;

function transitionAt(data: TransitionData, episodes: Episodes, i: number): Transition {
  const { D, A } = data;
  const e = data.episode[i];
  return {
    current: Float32Array.from(data.cur.subarray(i * D, (i + 1) * D)),
    next: Float32Array.from(data.next.subarray(i * D, (i + 1) * D)),
    action: A ? Float32Array.from(data.action.subarray(i * A, (i + 1) * A)) : null,
    context: Object.fromEntries(Object.entries(episodes.context).map(([k, v]) => [k, block(v, e)])),
  };
}

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
  const allowed = group.map((f) => votes[f].map((v, o) => (v === Math.max(...votes[f]) ? o : -1)).filter((o) => o >= 0));
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
  const undetermined = space.factors.filter((_, f) => fit.seen[f] === 0 || fit.votes[f].filter((v) => v === Math.max(...fit.votes[f])).length > 1).map((f) => f.name);
  const contradicted = space.factors.filter((_, f) => fit.seen[f] > 0 && Math.max(...fit.votes[f]) < fit.seen[f]).map((f) => f.name);
  const step: StepFn = (_prev, cur, action, context) => Float64Array.from(space.predict(fit.assignment, { current: Float32Array.from(cur), action: action.length ? Float32Array.from(action) : null, context: context ?? {} }));
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
        for (let d = 0; d < p.length; d++) ll += p[d] === t.next![d] ? Math.log1p(-EVIDENCE_ERROR) : Math.log(EVIDENCE_ERROR);
      }
      return ll;
    },
    details: () => ({ assignment: Object.fromEntries(space.factors.map((f, i) => [f.name, f.options[fit.assignment[i]]])), undetermined, contradicted }),
    toJSON: () => ({ kind: 'factored', id: space.id, fit, logEvidence, D }),
  };
}

// endregion

// region law families

interface FamilyFit {
  /** Per-episode parameters [E][P], their empirical mean and std (the in-context prior). */
  perEpisode: number[][];
  mean: number[];
  std: number[];
  noiseVariance: number;
  logEvidence: number;
}

/**
 * A family's step under theta, for forecasts. A parameter whose whole prior range is positive (a stiffness, a
 * drag coefficient, a length) is a magnitude and is held above a thousandth of the range's low end: a window
 * this law does not explain (e.g. the steps just after a live shift, the speed growing under "drag") can pull
 * its in-context estimate below zero, and a negative drag coefficient makes the drag flow run away (speeds of
 * -17, -23 from a history at 1.3); a length of 0 would divide by zero.
 */
function familyStep(family: LawFamily, theta: ArrayLike<number>): StepFn {
  const bounded = Float64Array.from(theta, (v, j) => {
    const lo = family.parameters[j].range[0];
    return lo > 0 ? Math.max(1e-3 * lo, v) : v;
  });
  return (_prev, cur, action, context) => Float64Array.from(family.predict(bounded, { current: Float32Array.from(cur), action: action.length ? Float32Array.from(action) : null, context: context ?? {} }));
}

function priorOf(family: LawFamily): { mean: Float64Array; std: Float64Array } {
  return {
    mean: Float64Array.from(family.parameters, (p) => (p.range[0] + p.range[1]) / 2),
    std: Float64Array.from(family.parameters, (p) => Math.max((p.range[1] - p.range[0]) / 2, 1e-3)),
  };
}

/** Residuals of one episode's transitions under theta, divided by sigma. */
function episodeResiduals(family: LawFamily, rows: Transition[], sigma: number) {
  return (theta: Float64Array) => {
    const out: number[] = [];
    for (const t of rows) {
      const p = family.predict(theta, t);
      for (let d = 0; d < p.length; d++) out.push((t.next![d] - p[d]) / sigma);
    }
    return Float64Array.from(out);
  };
}

function fitFamily(family: LawFamily, byEpisode: Transition[][], evidence: 'marginal' | 'bic', noiseGuess: number): FamilyFit {
  const P = family.parameters.length;
  const prior = priorOf(family);
  const n = byEpisode.reduce((s, rows) => s + rows.length * (rows[0]?.current.length ?? 0), 0);
  // one pass, residuals scaled by a guess of the noise (the observation noise of current and next step), so that
  // the weak prior (4 half-widths) weighs as it should; the noise level itself is then read off the fit
  let sse = 0;
  const thetas = byEpisode.map((rows) => {
    const r = levenbergMarquardt({ residuals: episodeResiduals(family, rows, noiseGuess), initial: prior.mean.slice(), priorMean: prior.mean, priorStd: prior.std.map((s) => s * 4) });
    sse += r.sse * noiseGuess * noiseGuess;
    return r.theta;
  });
  const sigma = Math.sqrt(Math.max(sse / Math.max(n, 1), 1e-14));
  // evidence: Laplace approximation per episode with the prior N(mean, (half-width)^2), noise at its ML level
  let logEvidence = -0.5 * n * Math.log(2 * Math.PI * sigma * sigma) - 0.5 * n;
  byEpisode.forEach((rows, e) => {
    if (P === 0) return;
    const r = levenbergMarquardt({ residuals: episodeResiduals(family, rows, sigma), initial: thetas[e], priorMean: prior.mean, priorStd: prior.std, maxIterations: 0 }); // J^T J at the fit
    if (evidence === 'bic') {
      logEvidence -= 0.5 * P * Math.log(Math.max(rows.length * (rows[0]?.current.length ?? 1), 1));
      return;
    }
    const H = r.jtj.slice();
    let logPrior = 0;
    for (let j = 0; j < P; j++) {
      H[j * P + j] += 1 / prior.std[j] ** 2;
      logPrior += -0.5 * Math.log(2 * Math.PI * prior.std[j] ** 2) - 0.5 * ((thetas[e][j] - prior.mean[j]) / prior.std[j]) ** 2;
    }
    logEvidence += logPrior + 0.5 * P * Math.log(2 * Math.PI) - 0.5 * logDet(H, P);
  });
  // the in-context prior: the spread of the per-episode parameters over training episodes, shrunk toward the
  // stated prior with PRIOR_EPISODES pseudo-episodes (two training episodes alone would give a spread near 0)
  const E = thetas.length;
  const mean = Array.from({ length: P }, (_, j) => (thetas.reduce((s, t) => s + t[j], 0) + PRIOR_EPISODES * prior.mean[j]) / (E + PRIOR_EPISODES));
  const std = Array.from({ length: P }, (_, j) => Math.sqrt((thetas.reduce((s, t) => s + (t[j] - mean[j]) ** 2, 0) + PRIOR_EPISODES * prior.std[j] ** 2) / (E + PRIOR_EPISODES)));
  return { perEpisode: thetas.map((t) => Array.from(t)), mean, std, noiseVariance: sigma * sigma, logEvidence };
}

function familyWorld(family: LawFamily, fit: FamilyFit, D: number): CandidateWorld {
  const P = family.parameters.length;
  const meanTheta = Float64Array.from(fit.mean);
  const sigma = Math.sqrt(fit.noiseVariance);
  const fmt = (v: number[]) => family.parameters.map((p, j) => `${p.name} = ${fit.mean[j].toPrecision(3)} +- ${fit.std[j].toPrecision(2)}`).join(', ') + (v.length ? '' : '');
  return {
    id: family.id,
    statement: `${family.statement}${P ? `; ${fmt([])} (over training episodes)` : ''}`,
    k: P * fit.perEpisode.length,
    logEvidence: fit.logEvidence,
    noiseVariance: new Float64Array(D).fill(fit.noiseVariance),
    usesPrevious: false,
    step: familyStep(family, meanTheta),
    inContext(obs, actions, context) {
      // per-episode parameters from the window's K - 1 transitions, with the training episodes' spread as prior
      if (P === 0 || obs.length < 2) return familyStep(family, meanTheta);
      const rows: Transition[] = [];
      for (let t = 0; t + 1 < obs.length; t++) rows.push({ current: Float32Array.from(obs[t]), next: Float32Array.from(obs[t + 1]), action: actions[t]?.length ? Float32Array.from(actions[t]) : null, context });
      const r = levenbergMarquardt({ residuals: episodeResiduals(family, rows, sigma), initial: meanTheta.slice(), priorMean: meanTheta, priorStd: Float64Array.from(fit.std) });
      return familyStep(family, r.theta);
    },
    heldOutLogLik: (byEpisode) => {
      // Laplace per held-out episode, with the training episodes' parameter spread as the prior
      let ll = 0;
      for (const rows of byEpisode) {
        const m = rows.length * (rows[0]?.current.length ?? 0);
        const r = levenbergMarquardt({ residuals: episodeResiduals(family, rows, sigma), initial: meanTheta.slice(), priorMean: meanTheta, priorStd: Float64Array.from(fit.std) });
        ll += -0.5 * m * Math.log(2 * Math.PI * sigma * sigma) - 0.5 * r.sse;
        if (!P) continue;
        const H = r.jtj.slice();
        for (let j = 0; j < P; j++) {
          H[j * P + j] += 1 / fit.std[j] ** 2;
          ll += -0.5 * Math.log(2 * Math.PI * fit.std[j] ** 2) - 0.5 * ((r.theta[j] - meanTheta[j]) / fit.std[j]) ** 2;
        }
        ll += 0.5 * P * Math.log(2 * Math.PI) - 0.5 * logDet(H, P);
      }
      return ll;
    },
    episodeParams: P ? { mean: meanTheta, std: Float64Array.from(fit.std), stepWith: (theta) => familyStep(family, theta) } : undefined,
    details: () => ({ parameters: Object.fromEntries(family.parameters.map((p, j) => [p.name, { mean: fit.mean[j], std: fit.std[j], perEpisode: p.perEpisode }])), noiseStd: sigma }),
    toJSON: () => ({ kind: 'family', id: family.id, fit, D }),
  };
}

// endregion

/** Fits every candidate of the scenario's hypothesis space. */
/** Every transition of every batch, the first of each episode included (scenario laws read only x_t), grouped by episode. */
export function scenarioTransitions(ctx: ScenarioLibraryContext, batches: readonly Episodes[]): Transition[][] {
  const byEpisode: Transition[][] = [];
  for (const episodes of batches) {
    const data = transitionData(ctx.spec, ctx.view, episodes, true);
    const local: Transition[][] = [];
    for (let i = 0; i < data.n; i++) (local[data.episode[i]] ??= []).push(transitionAt(data, episodes, i));
    byEpisode.push(...local.filter((rows) => rows && rows.length));
  }
  return byEpisode;
}

export function fitScenarioWorlds(ctx: ScenarioLibraryContext, batches: readonly Episodes[], only: Set<string> | null = null): CandidateWorld[] {
  const byEpisode = scenarioTransitions(ctx, batches);
  const all = byEpisode.flat();
  const D = all[0]?.current.length ?? 0;
  const noiseGuess = Math.max((ctx.spec.observationNoise?.[ctx.view] ?? 0) * Math.SQRT2, 1e-3);
  const candidates = ctx.hypotheses.candidates.filter((c) => !only || only.has(c.id));
  if (candidates.length === 0) throw new Error(`possible-worlds: candidates matches none of the scenario's (${ctx.hypotheses.candidates.map((c) => c.id).join(', ')})`);
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
  return candidate.kind === 'factored' ? factoredWorld(candidate, json.fit, json.logEvidence, json.D) : familyWorld(candidate, json.fit, json.D);
}
