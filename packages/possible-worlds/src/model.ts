// The possible-worlds world model: hold candidate worlds, fit each, keep a posterior by evidence, forecast
// with the most probable world (or the posterior mixture) after filtering the noisy history through it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { block, episodeCount, isCategorical, sizeOf, tensor, type Episodes, type FitReport, type HypothesisSpace, type Query, type RunContext, type ScenarioSpec, type WorldModel } from '@worldbench/core';
import type { PossibleWorldsConfig } from './config';
import { posterior } from './evidence';
import { smoothHistory } from './filter';
import { fitScenarioWorlds, scenarioWorldFromJSON, type ScenarioLibraryContext } from './scenario-library';
import { transitionData } from './transitions';
import { fitGenericWorlds, genericWorldFromJSON, type CandidateWorld } from './worlds';

export interface ModelState {
  spec: ScenarioSpec;
  view: string;
  config: PossibleWorldsConfig;
  hypotheses?: HypothesisSpace;
  worlds: CandidateWorld[];
  weights: number[];
  library: 'scenario' | 'generic' | null;
  libraryNote: string;
}

/** Which library a job uses, and why (said in explain()). */
export function chooseLibrary(spec: ScenarioSpec, view: string, config: PossibleWorldsConfig, hypotheses?: HypothesisSpace): { library: 'scenario' | 'generic'; note: string } {
  if (config.library === 'scenario' && hypotheses && hypotheses.view === view) return { library: 'scenario', note: `the scenario's ${hypotheses.candidates.length} candidate laws (privileged)` };
  if (isCategorical(spec.views[view])) throw new Error(`possible-worlds: view ${view} is categorical and has no scenario hypotheses to read; the generic library needs a real-valued view`);
  const why = config.library === 'generic' ? 'asked for' : hypotheses ? `the scenario's hypotheses describe view ${hypotheses.view}, not ${view}` : 'the scenario states no hypotheses';
  return { library: 'generic', note: `generic library (${why})` };
}

export function createModel(state: ModelState): WorldModel {
  const { spec, view } = state;
  const D = sizeOf(spec.views[view]);
  const A = spec.action ? sizeOf(spec.action) : 0;
  const maskName = spec.views[view].mask;
  const obsStd = spec.observationNoise?.[view] ?? 0;
  const range = spec.views[view].range ?? (spec.views[view].kind === 'image' ? [0, 1] : undefined);
  const libraryContext = (): ScenarioLibraryContext => ({ spec, view, hypotheses: state.hypotheses!, evidence: state.config.evidence });

  /** Rolls one world out from a window's history; returns [H][D]. */
  const rollout = (world: CandidateWorld, obs: Float64Array[], pastActions: Float64Array[], future: Float64Array[], frozen: Uint8Array, context: Record<string, Float32Array>): Float64Array[] => {
    const stepper = world.inContext ? world.inContext(obs, pastActions, context) : world.step;
    let states = obs;
    if (state.config.filterHistory && obsStd > 0) {
      const observationVariance = Float64Array.from({ length: D }, (_, d) => (frozen[d] ? 0 : obsStd * obsStd));
      const processVariance = Float64Array.from(world.noiseVariance, (v, d) => Math.max(v - 2 * observationVariance[d], 0.01 * v, 1e-10));
      states = smoothHistory(obs, pastActions, (p, c, a) => stepper(p, c, a, context), { observationVariance, processVariance, frozen }, world.usesPrevious);
    }
    let prev = states[Math.max(states.length - 2, 0)], cur = states[states.length - 1];
    const out: Float64Array[] = [];
    for (const a of future) {
      const next = stepper(prev, cur, a, context);
      for (let d = 0; d < D; d++) {
        if (frozen[d]) next[d] = cur[d];
        else if (range) next[d] = Math.min(range[1], Math.max(range[0], next[d]));
        else if (!Number.isFinite(next[d])) next[d] = cur[d];
      }
      out.push(next);
      prev = cur;
      cur = next;
    }
    return out;
  };

  return {
    async fit(data: Episodes, run: RunContext): Promise<FitReport> {
      const { library, note } = chooseLibrary(spec, view, state.config, state.hypotheses);
      const transitions = transitionData(spec, view, data);
      run.log(`possible-worlds: fitting ${library} library on ${transitions.n} transitions`);
      state.worlds = library === 'scenario' ? fitScenarioWorlds(libraryContext(), transitions, data) : fitGenericWorlds(transitions, state.config.evidence);
      state.worlds.sort((a, b) => b.logEvidence - a.logEvidence);
      state.weights = posterior(state.worlds.map((w) => w.logEvidence));
      state.library = library;
      state.libraryNote = note;
      return { params: state.worlds[0]?.k ?? 0, backend: 'js', privileged: library === 'scenario', notes: { library: note, selected: state.worlds[0]?.id } };
    },

    async forecast(q: Query): Promise<{ mean: ReturnType<typeof tensor>; std?: ReturnType<typeof tensor> }> {
      if (!state.worlds.length) throw new Error('possible-worlds: forecast before fit');
      const hist = q.history.views[view];
      const B = episodeCount(q.history), K = hist.shape[1], H = q.horizon;
      const mean = tensor([B, H, ...spec.views[view].shape]), std = tensor([B, H, ...spec.views[view].shape]);
      const used = state.config.prediction === 'map' ? [0] : state.weights.map((w, i) => (w > 1e-3 ? i : -1)).filter((i) => i >= 0);
      const total = used.reduce((s, i) => s + state.weights[i], 0);
      for (let b = 0; b < B; b++) {
        const obs = Array.from({ length: K }, (_, t) => Float64Array.from(block(hist, b, t)));
        const pastActions = Array.from({ length: K - 1 }, (_, t) => (q.history.actions ? Float64Array.from(block(q.history.actions, b, t)) : new Float64Array(A)));
        const future = Array.from({ length: H }, (_, h) => (q.actions ? Float64Array.from(block(q.actions, b, h)) : new Float64Array(A)));
        const frozen = new Uint8Array(D);
        if (maskName && q.history.views[maskName]) {
          const m = block(q.history.views[maskName], b, K - 1);
          const per = D / m.length;
          for (let d = 0; d < D; d++) frozen[d] = m[Math.floor(d / per)] ? 0 : 1;
        }
        const context = Object.fromEntries(Object.entries(q.history.context).map(([k, v]) => [k, block(v, b)]));
        const m1 = new Float64Array(H * D), m2 = new Float64Array(H * D);
        for (const i of used) {
          const w = state.weights[i] / total;
          const world = state.worlds[i];
          const path = rollout(world, obs, pastActions, future, frozen, context);
          path.forEach((x, h) => {
            for (let d = 0; d < D; d++) {
              const v = frozen[d] ? 0 : world.noiseVariance[d] * (h + 1); // the law's noise, compounding as a random walk
              m1[h * D + d] += w * x[d];
              m2[h * D + d] += w * (v + x[d] * x[d]);
            }
          });
        }
        for (let h = 0; h < H; h++) {
          const mu = block(mean, b, h), sd = block(std, b, h);
          for (let d = 0; d < D; d++) {
            mu[d] = m1[h * D + d];
            sd[d] = Math.sqrt(Math.max(m2[h * D + d] - m1[h * D + d] ** 2, 0));
          }
        }
      }
      return isCategorical(spec.views[view]) ? { mean } : { mean, std };
    },

    explain() {
      return {
        library: state.libraryNote,
        prediction: state.config.prediction,
        ranked: state.worlds.slice(0, 10).map((w, i) => ({ id: w.id, posterior: state.weights[i], logEvidence: w.logEvidence, params: w.k, statement: w.statement, ...(w.details ? w.details() : {}) })),
      };
    },

    async save(dir: string) {
      mkdirSync(dir, { recursive: true });
      const { spec: s, view: v, config, weights, library, libraryNote } = state;
      writeFileSync(join(dir, 'possible-worlds.json'), JSON.stringify({ spec: s, view: v, config, weights, library, libraryNote, worlds: state.worlds.map((w) => w.toJSON()) }));
    },
  };
}

/** Restores a saved model; scenario worlds need the same hypotheses the model was created with. */
export function loadModel(dir: string, hypotheses?: HypothesisSpace): WorldModel {
  const saved = JSON.parse(readFileSync(join(dir, 'possible-worlds.json'), 'utf8'));
  const state: ModelState = { spec: saved.spec, view: saved.view, config: saved.config, hypotheses, worlds: [], weights: saved.weights, library: saved.library, libraryNote: saved.libraryNote };
  state.worlds = saved.worlds.map((w: any) => {
    if (w.kind === 'generic') return genericWorldFromJSON(w);
    if (!hypotheses) throw new Error('possible-worlds: this model was fitted with the scenario\'s hypotheses; load it with them');
    return scenarioWorldFromJSON({ spec: saved.spec, view: saved.view, hypotheses, evidence: saved.config.evidence }, w);
  });
  return createModel(state);
}
