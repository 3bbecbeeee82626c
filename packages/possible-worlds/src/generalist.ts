// One possible-worlds model of several worlds (the generalist protocols, docs/protocols.md). The worlds it is given
// are specs; which world made each training episode it is told only with --tell-world. Otherwise the evidence
// decides, as a mixture over worlds:
//   1. an episode can only come from a world whose view, action and context have its shapes (its class);
//   2. inside a class of k > 1 worlds the episodes are clustered into k by how well each cluster's law explains
//      them: seeded farthest-point starts and Lloyd rounds with a linear law per cluster (cheap), then rounds with the
//      full possible-worlds model per cluster (its default search), each episode going to the cluster whose law
//      gives it the highest one-step log-likelihood, until no episode moves;
//   3. a test window is forecast by the world whose law best explains its own history (the cluster's share of the
//      training episodes as the prior), so a window is never told its world either.
import {
  block,
  concatEpisodes,
  createRng,
  episodeCount,
  episodeShapes,
  isCategorical,
  lengthOf,
  selectEpisodes,
  sizeOf,
  tensor,
  type Episodes,
  type FitReport,
  type Forecast,
  type GeneralistEpisode,
  type GeneralistModel,
  type GeneralistWorld,
  type Query,
  type RunContext,
  type ScenarioSpec,
  type Tensor,
  worldShapes,
} from '@worldbench/core';
import { fitRidge, predictRidge, type RidgeFit } from '@worldbench/baselines';
import type { PossibleWorldsConfig } from './config';
import { freshModel, type PossibleWorldsModel } from './model';
import { transitionData, type TransitionData } from './transitions';

/** Lloyd rounds of the linear start, and rounds with the full model after it (each round fits k models). */
const LINEAR_ROUNDS = 10;
const MODEL_ROUNDS = 2;
/** Ridge penalty of the linear start's laws (on standardised features). */
const LINEAR_RIDGE = 1e-3;
/** A categorical element forecast wrong has this probability (right: 1 - it), for the log-likelihood of a step. */
const CATEGORICAL_ERROR = 0.01;

/** A world found in the training data: the spec it is read with, the episodes it explains, its fitted model. */
interface FoundWorld {
  world: number;
  signature: string;
  episodes: number[];
  model: PossibleWorldsModel;
  report: FitReport;
}

// region linear start

/** Rows of a linear law: [x_t, a_t, 1] -> x_{t+1} - x_t over the valid transitions of some episodes. */
function linearRows(parts: readonly TransitionData[]): { x: Float64Array; y: Float64Array; n: number; F: number } {
  const { D, A } = parts[0];
  const F = D + A;
  const n = parts.reduce((s, p) => s + p.n, 0);
  const x = new Float64Array(n * F),
    y = new Float64Array(n * D);
  let i = 0;
  for (const p of parts)
    for (let r = 0; r < p.n; r++, i++) {
      for (let d = 0; d < D; d++) {
        const ok = p.valid[r * D + d];
        x[i * F + d] = ok ? p.cur[r * D + d] : 0;
        y[i * D + d] = ok ? p.next[r * D + d] - p.cur[r * D + d] : 0;
      }
      for (let a = 0; a < A; a++) x[i * F + D + a] = p.action[r * A + a];
    }
  return { x, y, n, F };
}

interface LinearLaw {
  fit: RidgeFit;
  /** [D] residual variance per dimension (floored). */
  variance: Float64Array;
}

function fitLinearLaw(parts: readonly TransitionData[]): LinearLaw {
  const { D } = parts[0];
  const { x, y, n, F } = linearRows(parts);
  const fit = fitRidge(x, y, n, F, D, LINEAR_RIDGE);
  const pred = predictRidge(fit, x, new Float64Array(n * D), n);
  const variance = new Float64Array(D),
    count = new Float64Array(D);
  let i = 0;
  for (const p of parts)
    for (let r = 0; r < p.n; r++, i++)
      for (let d = 0; d < D; d++)
        if (p.valid[r * D + d]) {
          variance[d] += (y[i * D + d] - pred[i * D + d]) ** 2;
          count[d]++;
        }
  for (let d = 0; d < D; d++) variance[d] = Math.max(count[d] ? variance[d] / count[d] : 1, 1e-8);
  return { fit, variance };
}

/** Gaussian log-likelihood of one episode's transitions under a linear law. */
function linearLogLik(law: LinearLaw, part: TransitionData): number {
  const { D } = part;
  const { x, y, n } = linearRows([part]);
  const pred = predictRidge(law.fit, x, new Float64Array(n * D), n);
  let ll = 0;
  for (let r = 0; r < n; r++)
    for (let d = 0; d < D; d++)
      if (part.valid[r * D + d])
        ll -= 0.5 * ((y[r * D + d] - pred[r * D + d]) ** 2 / law.variance[d] + Math.log(2 * Math.PI * law.variance[d]));
  return ll;
}

/**
 * k clusters of episodes by linear laws: a first episode drawn from the seed, then each next start the episode the
 * laws so far explain worst; Lloyd rounds (assign each episode to the law that explains it best, refit) until stable.
 */
function linearClusters(parts: readonly TransitionData[], k: number, seed: number): number[] {
  const n = parts.length;
  const rng = createRng(`${seed}/generalist/start`);
  const laws: LinearLaw[] = [fitLinearLaw([parts[rng.int(n)]])];
  while (laws.length < k) {
    let worst = 0,
      worstLl = Infinity;
    for (let e = 0; e < n; e++) {
      const best = Math.max(...laws.map((l) => linearLogLik(l, parts[e])));
      if (best < worstLl) [worst, worstLl] = [e, best];
    }
    laws.push(fitLinearLaw([parts[worst]]));
  }
  let assignment = new Array<number>(n).fill(-1);
  for (let round = 0; round < LINEAR_ROUNDS; round++) {
    const next = parts.map((p) => argmax(laws.map((l) => linearLogLik(l, p))));
    if (next.every((c, e) => c === assignment[e])) break;
    assignment = next;
    for (let c = 0; c < k; c++) {
      const mine = parts.filter((_, e) => assignment[e] === c);
      if (mine.length) laws[c] = fitLinearLaw(mine);
    }
  }
  return assignment;
}

// endregion

const argmax = (xs: readonly number[]): number => xs.reduce((best, x, i) => (x > xs[best] ? i : best), 0);

/**
 * Log-likelihood of each episode of `ep` under a fitted model, over its steps 1 .. end(e) - 1, each forecast one step
 * ahead from up to K steps before it (Gaussian with the forecast's std and the observation noise; categorical
 * elements right with probability 1 - CATEGORICAL_ERROR); padding is left out. One batched forecast per history
 * length (the first steps have fewer than K before them). Returns [E].
 */
async function episodeLogLiks(
  model: PossibleWorldsModel,
  spec: ScenarioSpec,
  view: string,
  ep: Episodes,
  end: (e: number) => number,
  run: RunContext,
): Promise<Float64Array> {
  const K = spec.historySteps;
  const mask = spec.views[view].mask;
  const names = mask && ep.views[mask] ? [view, mask] : [view];
  const categorical = isCategorical(spec.views[view]);
  const D = sizeOf(spec.views[view]);
  const obsVar = (spec.observationNoise?.[view] ?? 0) ** 2;
  const E = episodeCount(ep);
  const ll = new Float64Array(E);
  const byLength = new Map<number, Array<[number, number]>>(); // history length -> (episode, target step)
  for (let e = 0; e < E; e++)
    for (let t = 1; t < end(e); t++) {
      const len = Math.min(K, t);
      byLength.set(len, [...(byLength.get(len) ?? []), [e, t]]);
    }
  for (const [len, targets] of byLength) {
    const B = targets.length;
    const views = Object.fromEntries(
      names.map((n) => {
        const out = tensor([B, len, ...ep.views[n].shape.slice(2)]);
        targets.forEach(([e, t], b) => {
          for (let s = 0; s < len; s++) block(out, b, s).set(block(ep.views[n], e, t - len + s));
        });
        return [n, out];
      }),
    );
    const past = ep.actions ? tensor([B, len - 1, ...ep.actions.shape.slice(2)]) : null;
    const next = ep.actions ? tensor([B, 1, ...ep.actions.shape.slice(2)]) : null;
    if (ep.actions)
      targets.forEach(([e, t], b) => {
        for (let s = 0; s < len - 1; s++) block(past!, b, s).set(block(ep.actions!, e, t - len + s));
        block(next!, b, 0).set(block(ep.actions!, e, t - 1));
      });
    const context = Object.fromEntries(
      Object.entries(ep.context).map(([k, c]) => {
        const out = tensor([B, ...c.shape.slice(1)]);
        targets.forEach(([e], b) => block(out, b).set(block(c, e)));
        return [k, out];
      }),
    );
    const f = await model.forecast(
      { view, history: { views, actions: past, context }, actions: next, horizon: 1 },
      run,
    );
    targets.forEach(([e, t], b) => {
      const truth = block(ep.views[view], e, t);
      const m = mask && ep.views[mask] ? block(ep.views[mask], e, t) : null;
      const per = m ? D / m.length : 1;
      const mean = block(f.mean, b, 0);
      const std = f.std ? block(f.std, b, 0) : null;
      for (let d = 0; d < D; d++) {
        if (m && m[Math.floor(d / per)] === 0) continue;
        if (categorical)
          ll[e] += Math.log(Math.round(mean[d]) === Math.round(truth[d]) ? 1 - CATEGORICAL_ERROR : CATEGORICAL_ERROR);
        else {
          const v = (std ? std[d] ** 2 : 0) + obsVar + 1e-6;
          ll[e] -= 0.5 * ((truth[d] - mean[d]) ** 2 / v + Math.log(2 * Math.PI * v));
        }
      }
    });
  }
  return ll;
}

export function createGeneralist(worlds: readonly GeneralistWorld[], config: PossibleWorldsConfig): GeneralistModel {
  const view = worlds[0].view;
  if (worlds.some((w) => w.view !== view))
    throw new Error(
      `possible-worlds generalist: every world is read on one view name; got ${worlds.map((w) => w.view)}`,
    );
  const signatures = worlds.map((w) => worldShapes(w.spec, w.view));
  let found: FoundWorld[] = [];
  let told = false;
  let data: readonly GeneralistEpisode[] = [];

  /** Fits one model per group of episodes (group j read as world worldOf[j]). */
  const fitGroups = async (groups: number[][], worldOf: number[], run: RunContext): Promise<FoundWorld[]> => {
    const out: FoundWorld[] = [];
    for (const [j, episodes] of groups.entries()) {
      if (!episodes.length) continue;
      const w = worlds[worldOf[j]];
      // told only its spec, as the specialist is
      const model = freshModel(w.spec, view, config);
      const report = await model.fit(concatEpisodes(episodes.map((e) => data[e].episode)), run);
      out.push({ world: worldOf[j], signature: signatures[worldOf[j]], episodes, model, report });
    }
    return out;
  };

  /** The candidates of a class (k worlds of one signature): its episodes clustered by evidence into k worlds. */
  const inferClass = async (candidates: number[], episodes: number[], run: RunContext): Promise<FoundWorld[]> => {
    const k = Math.min(candidates.length, episodes.length);
    if (k <= 1) return fitGroups([episodes], [candidates[0]], run);
    const spec = worlds[candidates[0]].spec;
    const parts = episodes.map((e) => transitionData(spec, view, data[e].episode, true));
    let assignment = linearClusters(parts, k, run.seed);
    let fitted: FoundWorld[] = [];
    for (let round = 0; round < MODEL_ROUNDS; round++) {
      const groups = Array.from({ length: k }, (_, c) => episodes.filter((_, i) => assignment[i] === c));
      fitted = await fitGroups(groups, candidates.slice(0, k), run);
      run.progress(round + 1, MODEL_ROUNDS, `generalist: ${fitted.length} worlds over ${episodes.length} episodes`);
      if (fitted.length < 2) break;
      const all = concatEpisodes(episodes.map((e) => data[e].episode));
      const lls: Float64Array[] = [];
      for (const f of fitted)
        lls.push(await episodeLogLiks(f.model, worlds[f.world].spec, view, all, (e) => lengthOf(all, e) + 1, run));
      const next = episodes.map((_, i) => candidates.indexOf(fitted[argmax(lls.map((l) => l[i]))].world));
      if (next.every((c, i) => c === assignment[i])) break;
      assignment = next;
      if (round === MODEL_ROUNDS - 1) {
        const regroup = Array.from({ length: k }, (_, c) => episodes.filter((_, i) => assignment[i] === c));
        fitted = await fitGroups(regroup, candidates.slice(0, k), run);
      }
    }
    return fitted;
  };

  /** Forecasts windows of an unnamed world: each by the found world whose law best explains its history. */
  const forecastUnnamed = async (q: Query, run: RunContext): Promise<Forecast> => {
    const signature = episodeShapes(q.history, q.view);
    const mine = found.filter((f) => f.signature === signature);
    if (!mine.length)
      throw new Error(
        `possible-worlds generalist: no world fitted shows a view of this window's shapes (${signature}); fitted: ` +
          `${[...new Set(found.map((f) => f.signature))].join(', ')}`,
      );
    if (mine.length === 1) return mine[0].model.forecast(q, run);
    const B = episodeCount(q.history);
    const K = q.history.views[q.view].shape[1];
    const total = mine.reduce((s, f) => s + f.episodes.length, 0);
    // the history's own steps as evidence (none when K = 1: then the shares of the training episodes decide)
    const scores: Float64Array[] = [];
    for (const f of mine) {
      const ll = K > 1 ? await episodeLogLiks(f.model, worlds[f.world].spec, view, q.history, () => K, run) : null;
      scores.push(Float64Array.from({ length: B }, (_, b) => Math.log(f.episodes.length / total) + (ll?.[b] ?? 0)));
    }
    const choice = Array.from({ length: B }, (_, b) => argmax(scores.map((s) => s[b])));
    const shape = q.history.views[q.view].shape.slice(2);
    const mean = tensor([B, q.horizon, ...shape]);
    let std: Tensor | undefined = tensor([B, q.horizon, ...shape]);
    for (const [j, f] of mine.entries()) {
      const rows = choice.flatMap((c, b) => (c === j ? [b] : []));
      if (!rows.length) continue;
      const sub: Query = {
        ...q,
        history: selectEpisodes(q.history, rows),
        actions: q.actions
          ? selectEpisodes({ views: { a: q.actions }, actions: null, context: {} }, rows).views.a
          : null,
      };
      const out = await f.model.forecast(sub, run);
      rows.forEach((b, i) => {
        block(mean, b).set(block(out.mean, i));
        if (std && out.std) block(std, b).set(block(out.std, i));
      });
      if (!out.std) std = undefined;
    }
    return std ? { mean, std } : { mean };
  };

  return {
    async fit(given, run) {
      data = given;
      told = given.length > 0 && given.every((d) => d.world !== null);
      if (!told && given.some((d) => d.world !== null))
        throw new Error(
          'possible-worlds generalist: some episodes name their world and others do not; name all or none',
        );
      if (told) {
        const groups = worlds.map((_, w) => given.flatMap((d, e) => (d.world === w ? [e] : [])));
        found = await fitGroups(
          groups,
          worlds.map((_, w) => w),
          run,
        );
      } else {
        // each episode's class: the worlds whose shapes it has
        const classes = new Map<string, number[]>();
        given.forEach((d, e) => {
          const signature = episodeShapes(d.episode, view);
          if (!signatures.includes(signature))
            throw new Error(
              `possible-worlds generalist: training episode ${e} shows shapes ${signature}, which no world given has ` +
                `(${[...new Set(signatures)].join(', ')})`,
            );
          classes.set(signature, [...(classes.get(signature) ?? []), e]);
        });
        found = [];
        for (const [signature, episodes] of classes) {
          const candidates = signatures.flatMap((s, w) => (s === signature ? [w] : []));
          found.push(...(await inferClass(candidates, episodes, run)));
        }
      }
      return {
        params: found.reduce((s, f) => s + f.report.params, 0),
        backend: 'js',
        notes: {
          told,
          worlds: found.map((f) => ({
            world: worlds[f.world].spec.id,
            episodes: f.episodes.length,
            selected: f.report.notes?.selected,
          })),
        },
      };
    },

    async forecast(q, world, run) {
      if (!found.length) throw new Error('possible-worlds generalist: forecast before fit');
      if (world === null) return forecastUnnamed(q, run);
      const f = found.find((x) => x.world === world);
      if (!f)
        throw new Error(
          `possible-worlds generalist: world ${world} (${worlds[world]?.spec.id}) had no training episodes`,
        );
      return f.model.forecast(q, run);
    },

    explain() {
      // assignment: the world each training episode was read as, in the order given (told: as told)
      const assignment = new Array<string | null>(data.length).fill(null);
      for (const f of found) for (const e of f.episodes) assignment[e] = worlds[f.world].spec.id;
      return {
        told,
        worlds: found.map((f) => ({
          world: worlds[f.world].spec.id,
          episodes: f.episodes.length,
          explain: f.model.explain?.(),
        })),
        assignment,
      };
    },
  };
}
