// The possible-worlds world model: hold candidate worlds, fit each, keep a posterior by evidence, forecast
// with the most probable world (or the posterior mixture) after filtering the noisy history through it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  block,
  createRng,
  episodeCount,
  isCategorical,
  searchPlans,
  shiftPlans,
  sizeOf,
  tensor,
  type Episodes,
  type FitReport,
  type HypothesisSpace,
  type Query,
  type RunContext,
  type ScenarioSpec,
  type Tensor,
  type WorldModel,
} from '@worldbench/core';
import type { PossibleWorldsConfig } from './config';
import { posterior } from './evidence';
import { smoothJointly, type StepFn } from './filter';
import { planScorer, type PlanWorld } from './planner';
import {
  fitScenarioWorlds,
  scenarioTransitions,
  scenarioWorldFromJSON,
  type ScenarioLibraryContext,
} from './scenario-library';
import {
  fitSearchWorlds,
  refitSearchWorlds,
  searchWorldFromJSON,
  type SearchContext,
  type SearchReport,
} from './search';
import { mergeTransitions, transitionData } from './transitions';
import { fitGenericWorlds, genericWorldFromJSON, type CandidateWorld } from './worlds';

export interface ModelState {
  spec: ScenarioSpec;
  view: string;
  config: PossibleWorldsConfig;
  hypotheses?: HypothesisSpace;
  worlds: CandidateWorld[];
  weights: number[];
  library: LibraryKind | null;
  libraryNote: string;
  /** The data fitted so far (the training set, then what update() brought). */
  batches: Episodes[];
  actCalls: number;
  updates: number;
  /** Law changes detected by update(). */
  changes: Array<{ at: number; from: string; to: string }>;
  /** The largest magnitude of each component in the data fitted so far (the rollout bound's scale). */
  seen: number[];
  /** How much of the search the last fit ran (library 'search'). */
  search?: SearchReport;
  /** act(): the plans of its last call, per episode, and the episodes' length then (to warm-start the next step). */
  plans?: { B: number; T: number; plans: Float32Array };
}

/** Where a job's candidate laws come from. */
export type LibraryKind = 'search' | 'scenario' | 'generic';

/**
 * Which library a job uses, and why (said in explain()). 'scenario' needs the scenario's hypotheses for this
 * view, which the runner passes only to that config; without them the job searches, and says so.
 */
export function chooseLibrary(
  spec: ScenarioSpec,
  view: string,
  config: PossibleWorldsConfig,
  hypotheses?: HypothesisSpace,
): { library: LibraryKind; note: string } {
  if (config.library === 'scenario' && hypotheses && hypotheses.view === view)
    return {
      library: 'scenario',
      note: `the scenario's ${hypotheses.candidates.length} candidate laws (privileged: an oracle)`,
    };
  if (config.library === 'generic' && isCategorical(spec.views[view]))
    return {
      library: 'search',
      note: 'discrete search (the generic library holds real-valued laws; this view is categorical)',
    };
  if (config.library === 'generic') return { library: 'generic', note: 'generic library (asked for)' };
  const why =
    config.library === 'search'
      ? ''
      : hypotheses
        ? ` (the scenario's hypotheses describe view ${hypotheses.view}, not ${view})`
        : ' (the scenario states no hypotheses)';
  return {
    library: 'search',
    note: `${isCategorical(spec.views[view]) ? 'discrete search' : 'equation search beside the generic library'}${why}`,
  };
}

/**
 * The largest magnitude a rolled-out component may take (a forecast is float32; a diverging law holds its last state).
 */
const MAX_STATE = 1e30;

/** Per component of a view's episodes [E, T, ...], the largest magnitude over every episode and step. */
function largestMagnitudes(views: readonly Tensor[], D: number): number[] {
  const out = new Array<number>(D).fill(0);
  for (const v of views)
    for (let i = 0; i < v.data.length; i++) out[i % D] = Math.max(out[i % D], Math.abs(v.data[i]) || 0);
  return out;
}

/** A possible-worlds model: a WorldModel, plus held-out log-likelihoods for identification figures. */
export type PossibleWorldsModel = WorldModel & { heldOutLogLik(episodes: Episodes): Record<string, number> };

export function createModel(state: ModelState): PossibleWorldsModel {
  const { spec, view } = state;
  const D = sizeOf(spec.views[view]);
  const A = spec.action ? sizeOf(spec.action) : 0;
  const maskName = spec.views[view].mask;
  const obsStd = spec.observationNoise?.[view] ?? 0;
  const range = spec.views[view].range ?? (spec.views[view].kind === 'image' ? [0, 1] : undefined);
  const libraryContext = (): ScenarioLibraryContext => ({
    spec,
    view,
    hypotheses: state.hypotheses!,
    evidence: state.config.evidence,
  });
  const searchContext = (): SearchContext => ({
    spec,
    view,
    evidence: state.config.evidence,
    effort: state.config.searchEffort,
  });

  /** Fits every candidate of the chosen library to all the batches given. */
  const fitBatches = (batches: readonly Episodes[]): CandidateWorld[] => {
    const { library, note } = chooseLibrary(spec, view, state.config, state.hypotheses);
    state.library = library;
    state.libraryNote = note;
    const only = state.config.candidates ? new Set(state.config.candidates.split(',').map((s) => s.trim())) : null;
    if (library === 'scenario') return fitScenarioWorlds(libraryContext(), batches, only);
    if (library === 'search') {
      const { worlds, report } = fitSearchWorlds(searchContext(), batches, only);
      state.search = report;
      return worlds;
    }
    if (isCategorical(spec.views[view]))
      throw new Error(`possible-worlds: the generic library needs a real-valued view; ${view} is categorical`);
    // a generic law is trusted only on the range of its features seen here (FEATURE_MARGIN in generic.ts); the state is
    // not bounded
    return fitGenericWorlds(
      mergeTransitions(batches.map((b) => transitionData(spec, view, b))),
      state.config.evidence,
      only,
    );
  };

  /** Makes fitted worlds current: ranked by evidence, with their posterior; and the data's scale (state.seen). */
  const adopt = (worlds: CandidateWorld[]) => {
    state.worlds = worlds.sort((a, b) => b.logEvidence - a.logEvidence);
    state.weights = posterior(worlds.map((w) => w.logEvidence));
    state.seen = largestMagnitudes(
      state.batches.map((b) => b.views[view]),
      D,
    );
  };

  /**
   * The rollout bound of a window, per component: `rolloutBound` times the largest magnitude the component had in the
   * data fitted or in the window (a rolled-out state beyond it is a law's divergence, not a forecast: the state is
   * held there). MAX_STATE where the bound is off (a factor of 0, a view with a range, a component never seen
   * away from 0).
   */
  const limitsOf = (obs: readonly Float64Array[]): Float64Array => {
    const factor = state.config.rolloutBound;
    return Float64Array.from({ length: D }, (_, d) => {
      let scale = state.seen[d] ?? 0;
      for (const x of obs) scale = Math.max(scale, Math.abs(x[d]));
      return factor > 0 && !range && scale > 0 ? Math.min(factor * scale, MAX_STATE) : MAX_STATE;
    });
  };

  /** A world's step on a window: with the window's per-episode parameters inferred in context where it has any. */
  const windowStepper = (
    world: CandidateWorld,
    obs: Float64Array[],
    pastActions: Float64Array[],
    context: Record<string, Float32Array>,
  ): StepFn => (world.inContext ? world.inContext(obs, pastActions, context) : world.step);

  /**
   * Where a world's rollout of a window starts: its step (with the window's per-episode parameters, inferred in
   * context or jointly with the filtered states) and the last two states (filtered through the law unless
   * `filterHistory` is off or the view is noise-free). `inContext`: the world's windowStepper, where already made.
   */
  const windowStart = (
    world: CandidateWorld,
    obs: Float64Array[],
    pastActions: Float64Array[],
    frozen: Uint8Array,
    context: Record<string, Float32Array>,
    inContext: StepFn = windowStepper(world, obs, pastActions, context),
  ): { stepper: StepFn; prev: Float64Array; cur: Float64Array; limits: Float64Array } => {
    let stepper = inContext;
    let states = obs;
    if (state.config.filterHistory && obsStd > 0) {
      const observationVariance = Float64Array.from({ length: D }, (_, d) => (frozen[d] ? 0 : obsStd * obsStd));
      const processVariance = Float64Array.from(world.noiseVariance, (v, d) =>
        Math.max(v - 2 * observationVariance[d], observationVariance[d], 1e-10),
      );
      const ep = world.episodeParams;
      // per-episode parameters are inferred jointly with the filtered states (both come from the same K noisy steps)
      const params = ep
        ? {
            initial: ep.mean.slice(),
            priorMean: ep.mean,
            priorStd: ep.std,
            stepWith: (theta: Float64Array) => ep.stepWith(theta),
          }
        : undefined;
      const smoothed = smoothJointly(
        obs,
        pastActions,
        (p, c, a) => stepper(p, c, a, context),
        { observationVariance, processVariance, frozen, params },
        world.usesPrevious,
      );
      states = smoothed.states;
      if (ep && smoothed.theta) stepper = ep.stepWith(smoothed.theta);
    }
    return {
      stepper,
      prev: states[Math.max(states.length - 2, 0)],
      cur: states[states.length - 1],
      limits: limitsOf(obs),
    };
  };

  /**
   * The posterior over the worlds for one window: the training evidence times the likelihood of the window's own
   * observed transitions under each world (one step from the observations, its per-episode parameters inferred in
   * context, its residual noise). The training data may leave a law that extrapolates badly ahead, where a window
   * that starts outside the training range (a test episode at large amplitude) tells at once which world holds
   * there. Every world is scored on the same transitions: from the second, so that a law reading the previous
   * state has one. Categorical views (their worlds predict without noise) and `windowEvidence` off: the training
   * posterior alone. Also each world's windowStepper where it made one (the rollout starts from it).
   */
  const windowWeights = (
    obs: Float64Array[],
    pastActions: Float64Array[],
    frozen: Uint8Array,
    context: Record<string, Float32Array>,
  ): { weights: number[]; steppers: Array<StepFn | undefined> } => {
    if (!state.config.windowEvidence || isCategorical(spec.views[view]) || obs.length < 2)
      return { weights: state.weights, steppers: [] };
    const first = obs.length >= 3 ? 1 : 0;
    const steppers = state.worlds.map((world) => windowStepper(world, obs, pastActions, context));
    const weights = posterior(
      state.worlds.map((world, i) => {
        const stepper = steppers[i];
        let logLik = 0;
        for (let t = first; t < obs.length - 1; t++) {
          const next = stepper(obs[Math.max(t - 1, 0)], obs[t], pastActions[t], context);
          for (let d = 0; d < D; d++) {
            const v = world.noiseVariance[d];
            if (frozen[d] || !(v > 0)) continue;
            // a step off the reals (a non-finite residual makes the term non-finite too), or one whose likelihood
            // is not a number (a huge residual under an infinite noise variance: Infinity / Infinity), is as
            // unlikely as can be, not NaN
            const r = obs[t + 1][d] - next[d];
            const term = -0.5 * (Math.log(2 * Math.PI * v) + (r * r) / v);
            logLik += Number.isFinite(term) ? term : -1e30;
          }
        }
        return world.logEvidence + logLik;
      }),
    );
    return { weights, steppers };
  };

  /** Steps a world from its window start under `future` actions; returns [H][D]. */
  const rollFrom = (
    start: { stepper: StepFn; prev: Float64Array; cur: Float64Array; limits: Float64Array },
    future: readonly Float64Array[],
    frozen: Uint8Array,
    context: Record<string, Float32Array>,
  ): Float64Array[] => {
    let { prev, cur } = start;
    const out: Float64Array[] = [];
    for (const a of future) {
      const next = start.stepper(prev, cur, a, context);
      for (let d = 0; d < D; d++) {
        if (frozen[d]) next[d] = cur[d];
        // a law that leaves the rollout bound (or the reals, or float32's range) holds the state
        else if (!(Math.abs(next[d]) <= start.limits[d])) next[d] = cur[d];
        if (range) next[d] = Math.min(range[1], Math.max(range[0], next[d]));
      }
      out.push(next);
      prev = cur;
      cur = next;
    }
    return out;
  };

  /** Rolls one world out from a window's history (from its windowStepper where already made); returns [H][D]. */
  const rollout = (
    world: CandidateWorld,
    obs: Float64Array[],
    pastActions: Float64Array[],
    future: Float64Array[],
    frozen: Uint8Array,
    context: Record<string, Float32Array>,
    inContext?: StepFn,
  ): Float64Array[] =>
    rollFrom(windowStart(world, obs, pastActions, frozen, context, inContext), future, frozen, context);

  /** Dimensions that are padding at step t of episode b (the view's mask says so), held in rollouts. */
  const frozenAt = (views: Episodes['views'], b: number, t: number): Uint8Array => {
    const frozen = new Uint8Array(D);
    if (maskName && views[maskName]) {
      const m = block(views[maskName], b, t);
      const per = D / m.length;
      for (let d = 0; d < D; d++) frozen[d] = m[Math.floor(d / per)] ? 0 : 1;
    }
    return frozen;
  };

  return {
    async fit(data: Episodes, run: RunContext): Promise<FitReport> {
      state.batches = [data];
      adopt(fitBatches(state.batches));
      run.log(`possible-worlds: ${state.libraryNote}; selected ${state.worlds[0]?.id}`);
      return {
        params: state.worlds[0]?.k ?? 0,
        backend: 'js',
        notes: {
          library: state.libraryNote,
          selected: state.worlds[0]?.id,
          ...(state.search ? { search: state.search } : {}),
        },
      };
    },

    async act(history: Episodes, run: RunContext) {
      if (!state.worlds.length) throw new Error('possible-worlds: act before fit');
      if (!spec.action) throw new Error(`possible-worlds: ${spec.id} has no actions to choose`);
      const action = spec.action;
      const B = episodeCount(history);
      const out = tensor([B, ...action.shape]);
      const rng = createRng(`${run.seed}/act/${state.actCalls++}`);
      // the leading hypotheses: those with posterior mass, and always the runner-up, so there is something to
      // separate (with the search, the runner-up is often a form that fits almost as well and extrapolates
      // differently: where the data cannot tell them apart, that is the reason to go and look); at most 4
      const leading = state.worlds
        .map((_, i) => i)
        .filter((i) => i < 2 || state.weights[i] > 1e-3)
        .slice(0, 4);
      const hist = history.views[view];
      const T = hist.shape[1];
      const K = Math.min(T, Math.max(spec.historySteps, 2));
      // receding horizon: the plans of the previous call warm-start this one when it is the next step of the same
      // episodes
      const horizon = state.config.actHorizon;
      const warm =
        state.plans && state.plans.B === B && state.plans.T === T - 1
          ? shiftPlans(state.plans.plans, B, horizon)
          : null;
      const worldsOf: PlanWorld[][] = [],
        frozenOf: Uint8Array[] = [];
      for (let b = 0; b < B; b++) {
        const obs = Array.from({ length: K }, (_, t) => Float64Array.from(block(hist, b, T - K + t)));
        const past = Array.from({ length: K - 1 }, (_, t) =>
          history.actions
            ? Float64Array.from(block(history.actions, b, history.actions.shape[1] - (K - 1) + t))
            : new Float64Array(A),
        );
        const context = Object.fromEntries(Object.entries(history.context).map(([k, v]) => [k, block(v, b)]));
        const frozen = frozenAt(history.views, b, T - 1);
        frozenOf.push(frozen);
        worldsOf.push(
          leading.map((i) => {
            const start = windowStart(state.worlds[i], obs, past, frozen, context);
            return {
              weight: Math.max(state.weights[i], 1e-3),
              noiseVariance: state.worlds[i].noiseVariance,
              rollout: (actions) => rollFrom(start, actions, frozen, context),
            };
          }),
        );
      }
      const search = { horizon, candidates: state.config.actCandidates, iterations: state.config.actIterations };
      const scorer = planScorer(state.config.actObjective, worldsOf, frozenOf, horizon, A);
      const { plans } = await searchPlans(action, B, search, scorer, rng, warm); //     [B, H, A]
      for (let b = 0; b < B; b++) block(out, b).set(plans.subarray(b * horizon * A, b * horizon * A + A));
      state.plans = { B, T, plans };
      return out;
    },

    async update(recent: Episodes, run: RunContext) {
      if (!state.worlds.length) throw new Error('possible-worlds: update before fit');
      // Bayes-factor change test: "the recent window comes from another world than the past" (the past's fit
      // and a fit of the recent window alone) against "one world made both" (a fit of everything). It catches a
      // change of law and a change of a law's parameters alike (code-trace's dialect, life-like's rule: one
      // family whose fitted assignment changes). Above changeThreshold nats: forget the past.
      // With the search library the laws already found are refitted (a new search costs seconds), and the law is
      // searched afresh on the recent window only once a change is declared.
      const searched = state.library === 'search' && !isCategorical(spec.views[view]);
      const refit = (batches: Episodes[]) =>
        (searched ? refitSearchWorlds(searchContext(), state.worlds, batches) : null) ?? fitBatches(batches);
      const recentWorlds = refit([recent]);
      const allWorlds = refit([...state.batches, recent]);
      const top = (worlds: CandidateWorld[]) => worlds.reduce((a, b) => (b.logEvidence > a.logEvidence ? b : a));
      if (
        state.worlds[0].logEvidence + top(recentWorlds).logEvidence - top(allWorlds).logEvidence >
        state.config.changeThreshold
      ) {
        const fresh = searched ? fitBatches([recent]) : recentWorlds;
        const to = top(fresh).id;
        run.log(`possible-worlds: change detected (${state.worlds[0].id} -> ${to}); refitting on the recent window`);
        state.changes.push({ at: state.updates, from: state.worlds[0].id, to });
        state.batches = [recent];
        adopt(fresh);
      } else {
        state.batches.push(recent);
        adopt(allWorlds);
      }
      state.updates++;
    },

    async forecast(q: Query): Promise<{ mean: ReturnType<typeof tensor>; std?: ReturnType<typeof tensor> }> {
      if (!state.worlds.length) throw new Error('possible-worlds: forecast before fit');
      const hist = q.history.views[view];
      const B = episodeCount(q.history),
        K = hist.shape[1],
        H = q.horizon;
      const mean = tensor([B, H, ...spec.views[view].shape]),
        std = tensor([B, H, ...spec.views[view].shape]);
      for (let b = 0; b < B; b++) {
        const obs = Array.from({ length: K }, (_, t) => Float64Array.from(block(hist, b, t)));
        const pastActions = Array.from({ length: K - 1 }, (_, t) =>
          q.history.actions ? Float64Array.from(block(q.history.actions, b, t)) : new Float64Array(A),
        );
        const future = Array.from({ length: H }, (_, h) =>
          q.actions ? Float64Array.from(block(q.actions, b, h)) : new Float64Array(A),
        );
        const frozen = frozenAt(q.history.views, b, K - 1);
        const context = Object.fromEntries(Object.entries(q.history.context).map(([k, v]) => [k, block(v, b)]));
        const { weights, steppers } = windowWeights(obs, pastActions, frozen, context);
        const best = weights.reduce((arg, w, i) => (w > weights[arg] ? i : arg), 0);
        const used =
          state.config.prediction === 'map' ? [best] : weights.map((w, i) => (w > 1e-3 ? i : -1)).filter((i) => i >= 0);
        const total = used.reduce((s, i) => s + weights[i], 0);
        const m1 = new Float64Array(H * D),
          m2 = new Float64Array(H * D);
        for (const i of used) {
          const w = weights[i] / total;
          const world = state.worlds[i];
          const path = rollout(world, obs, pastActions, future, frozen, context, steppers[i]);
          path.forEach((x, h) => {
            for (let d = 0; d < D; d++) {
              // the law's noise, compounding as a random walk
              const v = frozen[d] ? 0 : world.noiseVariance[d] * (h + 1);
              m1[h * D + d] += w * x[d];
              m2[h * D + d] += w * (v + x[d] * x[d]);
            }
          });
        }
        for (let h = 0; h < H; h++) {
          const mu = block(mean, b, h),
            sd = block(std, b, h);
          for (let d = 0; d < D; d++) {
            mu[d] = m1[h * D + d];
            sd[d] = Math.sqrt(Math.max(m2[h * D + d] - m1[h * D + d] ** 2, 0));
          }
        }
      }
      return isCategorical(spec.views[view]) ? { mean } : { mean, std };
    },

    /**
     * Held-out log-likelihood of each scenario world on other episodes (for identification figures; not part of
     * WorldModel).
     */
    heldOutLogLik(episodes: Episodes): Record<string, number> {
      if (state.library !== 'scenario')
        throw new Error('possible-worlds: held-out log-likelihood is computed for scenario worlds');
      const byEpisode = scenarioTransitions(libraryContext(), [episodes]);
      return Object.fromEntries(state.worlds.map((w) => [w.id, w.heldOutLogLik ? w.heldOutLogLik(byEpisode) : NaN]));
    },

    explain() {
      return {
        library: state.libraryNote,
        ...(state.search ? { search: state.search } : {}),
        prediction: state.config.prediction,
        ...(state.changes.length ? { changes: state.changes } : {}),
        ranked: state.worlds.slice(0, 10).map((w, i) => ({
          id: w.id,
          posterior: state.weights[i],
          logEvidence: w.logEvidence,
          params: w.k,
          statement: w.statement,
          ...(w.details ? w.details() : {}),
        })),
      };
    },

    async save(dir: string) {
      mkdirSync(dir, { recursive: true });
      const { spec: s, view: v, config, weights, library, libraryNote } = state;
      writeFileSync(
        join(dir, 'possible-worlds.json'),
        JSON.stringify({
          format: SAVE_FORMAT,
          spec: s,
          view: v,
          config,
          weights,
          library,
          libraryNote,
          worlds: state.worlds.map((w) => w.toJSON()),
          seen: state.seen,
        }),
      );
    },
  };
}

/** A fresh model of one (scenario, view), before any fit; `hypotheses` only for the oracle (library 'scenario'). */
export function freshModel(
  spec: ScenarioSpec,
  view: string,
  config: PossibleWorldsConfig,
  hypotheses?: HypothesisSpace,
): PossibleWorldsModel {
  return createModel({
    spec,
    view,
    config,
    hypotheses,
    worlds: [],
    weights: [],
    library: null,
    libraryNote: '',
    batches: [],
    actCalls: 0,
    updates: 0,
    changes: [],
    seen: [],
  });
}

/**
 * Version of possible-worlds.json. 2: generic laws carry the feature range they were fitted on (a save without
 * it, format 1, had no `format` field; its laws cannot be trusted anywhere, so it is refused, not guessed).
 * 3: law families carry a noise variance per component. 4: the largest magnitude of each component in the data
 * fitted (`seen`, the scale of the rollout bound).
 */
export const SAVE_FORMAT = 4;

/** Restores a saved model; scenario worlds need the same hypotheses the model was created with. */
export function loadModel(dir: string, hypotheses?: HypothesisSpace): PossibleWorldsModel {
  const file = join(dir, 'possible-worlds.json');
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  if (saved.format !== SAVE_FORMAT)
    throw new Error(
      `possible-worlds: ${file} has save ` +
        `format ${saved.format ?? 1}, this version reads ` +
        `format ${SAVE_FORMAT}: refit the model (saved by an older version)`,
    );
  const state: ModelState = {
    spec: saved.spec,
    view: saved.view,
    config: saved.config,
    hypotheses,
    worlds: [],
    weights: saved.weights,
    library: saved.library,
    libraryNote: saved.libraryNote,
    batches: [],
    actCalls: 0,
    updates: 0,
    changes: [],
    seen: saved.seen,
  };
  state.worlds = saved.worlds.map((w: any) => {
    if (saved.library === 'search')
      return searchWorldFromJSON(
        { spec: saved.spec, view: saved.view, evidence: saved.config.evidence, effort: saved.config.searchEffort },
        w,
      );
    if (w.kind === 'generic') return genericWorldFromJSON(w);
    if (!hypotheses)
      throw new Error("possible-worlds: this model was fitted with the scenario's hypotheses; load it with them");
    return scenarioWorldFromJSON(
      { spec: saved.spec, view: saved.view, hypotheses, evidence: saved.config.evidence },
      w,
    );
  });
  return createModel(state);
}
