// The generalist protocols (docs/protocols.md): one model fitted once on the union of several worlds' training
// data, then scored on each world's usual test and ood windows, one row per world.
//   generalist        every world's expert (`behavior`) data at the job's budget: N worlds, N x the transitions
//   generalist-equal  budget / N transitions of each world: the same total as one specialist
// The episodes come interleaved in a seeded order, each told its world only with --tell-world.
import {
  createRng,
  episodeCount,
  lengthOf,
  metricScale,
  selectEpisodes,
  type Episodes,
  type GeneralistEpisode,
  type GeneralistModel,
  type RunContext,
  type Scenario,
  type WorldModel,
} from '@worldbench/core';
import { evaluationSet, jobWorld, trainingSet } from './collect';
import { runEnv } from './env';
import { scoreSplit } from './evaluate';
import type { Protocol } from './jobs';
import { failureFrom, RESULTS_FORMAT, type JobPhase, type JobResult } from './result';
import { failedResult, jobCost, modelModule, PhaseTracker, scenarioModule, type PlannedJob } from './run-job';
import { statePlaneHistogram } from './state-plane';

/**
 * Transitions of each of `worlds` worlds: the budget each (`generalist`), or the budget split as evenly as whole
 * transitions allow (`generalist-equal`: the first budget mod N worlds get one more), at least one each.
 */
export function worldBudgets(protocol: Protocol, budget: number, worlds: number): number[] {
  if (protocol !== 'generalist-equal') return Array.from({ length: worlds }, () => budget);
  const base = Math.floor(budget / worlds);
  return Array.from({ length: worlds }, (_, i) => Math.max(1, base + (i < budget % worlds ? 1 : 0)));
}

/** One world's episodes as E = 1 entries holding only the view and its mask (what a generalist reads). */
function singleEpisodes(observed: Episodes, view: string, mask: string | undefined): Episodes[] {
  const names = mask ? [view, mask] : [view];
  const narrowed: Episodes = {
    ...observed,
    views: Object.fromEntries(names.map((n) => [n, observed.views[n]])),
  };
  return Array.from({ length: episodeCount(observed) }, (_, e) => {
    const one = selectEpisodes(narrowed, [e]);
    // a whole episode needs no lengths; a cut one keeps its own (the steps past it hold NaN)
    return lengthOf(observed, e) === observed.views[view].shape[1] - 1 ? { ...one, lengths: undefined } : one;
  });
}

/**
 * The training data of a generalist fit: every world's episodes, interleaved in an order drawn from the seed, each
 * with its world's index only when `tell`.
 */
export function generalistData(perWorld: readonly Episodes[][], seed: number, tell: boolean): GeneralistEpisode[] {
  const all = perWorld.flatMap((episodes, world) => episodes.map((episode) => ({ episode, world })));
  const rng = createRng(`${seed}/generalist/order`);
  for (let i = all.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.map(({ episode, world }) => ({ episode, world: tell ? world : null }));
}

/** One world's face of a generalist: what scoreSplit calls. */
function worldFace(model: GeneralistModel, world: number | null, phases: PhaseTracker): WorldModel {
  const refuse = async (): Promise<never> => {
    throw new Error('a generalist is fitted once, on every world: the runner only asks it to forecast');
  };
  return {
    fit: refuse,
    save: refuse,
    forecast: (q, run) => phases.during('forecast', () => model.forecast(q, world, run)),
  };
}

/**
 * Runs one generalist fit: creates the model on every world of `rows` (one row per world, in plan order), fits it
 * once, scores each world's windows. A failure before the scoring fails every row; a failure scoring one world
 * fails that row only (a rerun runs the whole fit again).
 */
export async function runGeneralistFit(
  rows: readonly PlannedJob[],
  root: string,
  run: RunContext,
  onPhase: (phase: JobPhase) => void = () => {},
): Promise<JobResult[]> {
  const job = rows[0].job;
  const tell = job.tellWorld === true;
  const phases = new PhaseTracker(onPhase);
  let model: GeneralistModel | null = null;
  let backend = 'unknown';
  try {
    const module = await modelModule(rows[0].modelEntry);
    const scenarios: Scenario[] = await Promise.all(rows.map((r) => scenarioModule(r.scenarioEntry)));
    if (typeof module.createGeneralist !== 'function')
      throw new Error(`${job.modelId} does not declare createGeneralist: it reads one world at a time`);
    phases.stage('create');
    model = await module.createGeneralist(
      scenarios.map((s) => ({ spec: s.spec, view: job.view })),
      job.config,
    );
    phases.stage('data');
    const budgets = worldBudgets(job.protocol, job.budget as number, rows.length);
    const worlds = scenarios.map((s) => jobWorld(s, job.seed));
    const sets = scenarios.map((s, i) => trainingSet(s, worlds[i], 'offline', budgets[i], job.seed));
    const observed = sets.map((set) => set.observed);
    const data = generalistData(
      observed.map((o, i) => singleEpisodes(o, job.view, scenarios[i].spec.views[job.view].mask)),
      job.seed,
      tell,
    );
    phases.stage('fit');
    const t0 = performance.now();
    const fitted = model;
    const report = await phases.during('fit', () => fitted.fit(data, run));
    const fitSeconds = (performance.now() - t0) / 1000;
    backend = report.backend ?? 'unknown';
    const results: JobResult[] = [];
    const explained: { value?: Record<string, unknown> } = {};
    for (const [i, row] of rows.entries()) {
      const spec = scenarios[i].spec;
      try {
        phases.stage('forecast');
        const face = worldFace(fitted, tell ? i : null, phases);
        const evaluation = row.job.evaluation;
        const test = evaluationSet(scenarios[i], worlds[i], 'test', job.seed, evaluation);
        const ood = evaluationSet(scenarios[i], worlds[i], 'ood', job.seed, evaluation);
        // the seed's metric scale, the same as its specialist's rows whatever share of the data the generalist saw
        const scale = metricScale(test, spec, job.view);
        const testScore = await scoreSplit(face, spec, job.view, test, evaluation.horizon, scale, run);
        const oodScore = await scoreSplit(face, spec, job.view, ood, evaluation.horizon, scale, run);
        phases.stage('explain');
        explained.value ??= fitted.explain?.();
        const statePlane = statePlaneHistogram(spec, sets[i].clean);
        results.push({
          format: RESULTS_FORMAT,
          ...row.job,
          key: row.key,
          fingerprint: row.fingerprint,
          privileged: false,
          status: 'ok',
          metrics: { test: testScore.metrics, ood: oodScore.metrics },
          cost: jobCost(fitSeconds, testScore, report.params),
          env: runEnv(root, backend),
          ...(explained.value ? { explain: explained.value } : {}),
          notes: {
            ...(report.notes ?? {}),
            generalist: {
              worlds: rows.map((r) => r.job.scenario),
              transitions: budgets,
              told: tell,
              // fitSeconds is the one fit's, the same in every row of it: the cost of all N worlds together
              fitShared: true,
            },
          },
          ...(statePlane ? { statePlane } : {}),
          finishedAt: new Date().toISOString(),
        });
      } catch (err) {
        results.push(failedResult(row, root, failureFrom(err, phases.current), backend));
      }
    }
    return results;
  } catch (err) {
    const failure = failureFrom(err, phases.current);
    return rows.map((row) => failedResult(row, root, failure, backend));
  } finally {
    await model?.dispose?.().catch(() => {});
  }
}
