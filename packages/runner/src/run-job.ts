// Running one job: data, fit, evaluation on test and ood, cost, and a result line whatever happens.
import {
  findWorkspaceRoot,
  loadModelModule,
  loadScenario,
  loadSchemeModel,
  metricScale,
  privilegedInfo,
  type PluginEntry,
  type RunContext,
  type Scenario,
  type WorldModel,
  type WorldModelModule,
} from '@worldbench/core';
import { evaluationSet, jobWorld, trainingSet } from './collect';
import { runEnv } from './env';
import { scoreSplit } from './evaluate';
import { filmstrips } from './filmstrip';
import type { Job } from './jobs';
import { liveStream, onPolicyTraining } from './protocols';
import { statePlaneHistogram } from './state-plane';
import { failureFrom, RESULTS_FORMAT, type JobFailure, type JobPhase, type JobResult } from './result';

/** What a pretrained model (card.pretrained) is shown (it ignores it). */
export const PRETRAINED_BUDGET = 1024;

/** A job with what is needed to run and store it. */
export interface PlannedJob {
  job: Job;
  key: string;
  fingerprint: string;
  modelEntry: PluginEntry;
  scenarioEntry: PluginEntry;
  /** Set when the model does not read the job's view: recorded as "unsupported" without running. */
  unsupported?: string;
  /** Generalist protocols: the key of the one fit this row belongs to (jobs.ts fitKey); its rows run together. */
  fit?: string;
  /** The unit the sweep runs for a generalist fit: every row of the fit, in plan order (this job is the first). */
  fitRows?: PlannedJob[];
}

const modules = new Map<string, Promise<WorldModelModule>>();
const scenarios = new Map<string, Promise<Scenario>>();

export function modelModule(entry: PluginEntry): Promise<WorldModelModule> {
  // a scheme entry (onnx:x.onnx) shares its module file with every model of its scheme: key by the id
  const key = entry.kind === 'scheme' ? entry.id : entry.entry;
  if (!modules.has(key))
    modules.set(
      key,
      entry.kind === 'scheme'
        ? loadSchemeModel(entry, findWorkspaceRoot(entry.packageDir))
        : loadModelModule(entry.entry, `model ${entry.id}`),
    );
  return modules.get(key)!;
}

export function scenarioModule(entry: PluginEntry): Promise<Scenario> {
  if (!scenarios.has(entry.entry)) scenarios.set(entry.entry, loadScenario(entry.entry, `scenario ${entry.id}`));
  return scenarios.get(entry.entry)!;
}

function peakMemoryMB(): number {
  // maxRSS is the process's peak so far (KiB): the job's own peak in a pool worker (one process per job,
  // Node and the loaded modules included); with --workers 0 the peak of the whole sweep so far
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** The cost columns of an ok line: the fit's seconds, the test split's forecast throughput, params, peak memory. */
export function jobCost(
  fitSeconds: number,
  test: { forecastSteps: number; forecastSeconds: number },
  params: number,
): NonNullable<JobResult['cost']> {
  return {
    fitSeconds,
    forecastStepsPerSecond: test.forecastSteps / Math.max(test.forecastSeconds, 1e-9),
    params,
    peakMemoryMB: peakMemoryMB(),
  };
}

/** The line of a job that did not finish: it threw, forecast NaN, timed out, or its worker process died. */
export function failedResult(planned: PlannedJob, root: string, error: JobFailure, backend = 'unknown'): JobResult {
  const { job } = planned;
  return {
    format: RESULTS_FORMAT,
    ...job,
    key: planned.key,
    fingerprint: planned.fingerprint,
    privileged: false,
    metrics: null,
    cost: null,
    status: 'failed',
    error,
    env: runEnv(root, backend),
    finishedAt: new Date().toISOString(),
  };
}

/** The lines of a unit that did not finish: one failed line per row of a generalist fit, else the job's one. */
export function failedResults(planned: PlannedJob, root: string, error: JobFailure, backend = 'unknown'): JobResult[] {
  return (planned.fitRows ?? [planned]).map((row) => failedResult(row, root, error, backend));
}

/**
 * The phase a job is in, told to `onChange` (the worker sends it to the parent, which shows it and records it
 * if the process dies). `stage` is the runner's step; `during` runs one model method as its own phase and
 * goes back to the stage after it.
 */
export class PhaseTracker {
  current: JobPhase = 'load';
  private stageNow: JobPhase = 'load';

  constructor(private readonly onChange: (phase: JobPhase) => void) {
    onChange('load');
  }

  private set(phase: JobPhase): void {
    if (phase === this.current) return;
    this.current = phase;
    this.onChange(phase);
  }

  stage(phase: JobPhase): void {
    this.stageNow = phase;
    this.set(phase);
  }

  async during<T>(phase: JobPhase, call: () => Promise<T> | T): Promise<T> {
    this.set(phase);
    const out = await call(); // on a throw the phase stays: it is the one the failure is recorded under
    this.set(this.stageNow);
    return out;
  }
}

/** The model with each method call marked as its phase, wherever the runner calls it (protocols.ts included). */
export function tracked(model: WorldModel, phases: PhaseTracker): WorldModel {
  return {
    ...model,
    fit: (data, run) => phases.during('fit', () => model.fit(data, run)),
    forecast: (q, run) => phases.during('forecast', () => model.forecast(q, run)),
    act: model.act && ((history, run) => phases.during('act', () => model.act!(history, run))),
    update: model.update && ((recent, run) => phases.during('update', () => model.update!(recent, run))),
    explain: model.explain && (() => model.explain!()),
    save: (dir) => model.save(dir),
    dispose: model.dispose && (() => model.dispose!()),
  };
}

/** `onPhase` hears each phase the job enters (for progress, and for the parent to know where a dead worker was). */
export async function runJob(
  planned: PlannedJob,
  root: string,
  run: RunContext,
  onPhase: (phase: JobPhase) => void = () => {},
): Promise<JobResult> {
  const { job } = planned;
  const base = {
    format: RESULTS_FORMAT,
    ...job,
    key: planned.key,
    fingerprint: planned.fingerprint,
    privileged: false,
    metrics: null,
    cost: null,
  };
  const unsupported = (reason: string): JobResult => ({
    ...base,
    status: 'unsupported',
    reason,
    env: runEnv(root, 'none'),
    finishedAt: new Date().toISOString(),
  });
  if (planned.unsupported) return unsupported(planned.unsupported);
  let model: WorldModel | null = null;
  let backend = 'unknown';
  const phases = new PhaseTracker(onPhase);
  try {
    const [module, scenario] = await Promise.all([
      modelModule(planned.modelEntry),
      scenarioModule(planned.scenarioEntry),
    ]);
    const spec = scenario.spec;
    // the runner decides privilege: a scenario's hypotheses go only to a config that asks for them (an oracle)
    const privileged = privilegedInfo(module, job.config, scenario);
    phases.stage('create');
    const created = await module.create(spec, job.view, job.config, privileged);
    model = created;
    // before any data is made: the evaluation sets of an image view take seconds, and this answer needs none
    if (job.protocol === 'on-policy' && typeof model.act !== 'function')
      return unsupported(
        `${job.modelId} has no act(): ${model.actUnavailable ?? 'it cannot choose its own experience'}`,
      );
    const watched = tracked(created, phases);
    phases.stage('data');
    const world = jobWorld(scenario, job.seed);
    const test = evaluationSet(scenario, world, 'test', job.seed, job.evaluation);
    const ood = evaluationSet(scenario, world, 'ood', job.seed, job.evaluation);
    // the data fitted: the protocol's (a pretrained model is shown 1024 expert transitions, which it ignores)
    let observed, clean, fitSeconds, report;
    if (job.protocol === 'on-policy' || job.protocol === 'on-policy-random') {
      phases.stage('on-policy');
      ({ observed, clean, fitSeconds, report } = await onPolicyTraining(
        watched,
        scenario,
        world,
        job.view,
        job.budget ?? PRETRAINED_BUDGET,
        job.seed,
        job.protocol === 'on-policy' ? 'model' : 'random',
        run,
      ));
    } else {
      ({ observed, clean } = trainingSet(
        scenario,
        world,
        job.protocol === 'offline-explore' ? 'offline-explore' : 'offline',
        job.budget ?? PRETRAINED_BUDGET,
        job.seed,
      ));
      phases.stage('fit');
      const t0 = performance.now();
      report = await watched.fit(observed, run);
      fitSeconds = (performance.now() - t0) / 1000;
    }
    backend = report.backend ?? 'unknown';
    const scale = metricScale(test, spec, job.view);
    const statePlane = statePlaneHistogram(spec, clean);

    // a forecast that is NaN or of the wrong shape is found after forecast() returns: still its phase
    phases.stage('forecast');
    const testScore = await scoreSplit(watched, spec, job.view, test, job.evaluation.horizon, scale, run);
    const oodScore = await scoreSplit(watched, spec, job.view, ood, job.evaluation.horizon, scale, run);
    if (job.protocol === 'live') phases.stage('live');
    const live =
      job.protocol === 'live' ? await liveStream(watched, scenario, world, job.view, job.seed, scale, run) : undefined;
    phases.stage('explain');
    const explain = model.explain?.();
    const strips = testScore.samples ? filmstrips(testScore.samples.truth, testScore.samples.forecast) : [];
    return {
      ...base,
      status: 'ok',
      privileged: privileged !== undefined,
      metrics: { test: testScore.metrics, ood: oodScore.metrics },
      cost: jobCost(fitSeconds, testScore, report.params),
      env: runEnv(root, backend),
      ...(explain ? { explain } : {}),
      ...(report.notes ? { notes: report.notes } : {}),
      ...(live ? { live } : {}),
      ...(strips.length ? { filmstrip: strips } : {}),
      ...(statePlane ? { statePlane } : {}),
      finishedAt: new Date().toISOString(),
    };
  } catch (err) {
    return failedResult(planned, root, failureFrom(err, phases.current), backend);
  } finally {
    await model?.dispose?.().catch(() => {});
  }
}
