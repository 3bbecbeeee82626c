// Planning: from the CLI's choices to the sorted list of jobs, validated before anything runs.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  findModel,
  findScenario,
  forecastViews,
  privilegedInfo,
  schemeEntry,
  UserError,
  type PluginEntry,
  type PrivilegedInfo,
  type Registry,
  type Scenario,
  type ScenarioSpec,
  type Support,
  type WorldModelModule,
} from '@worldbench/core';
import { CodeFingerprints, workspacePackages } from './fingerprint';
import { grouped, MAX_PLAN_JOBS } from './limits';
import {
  canonicalJson,
  fitKey,
  isGeneralist,
  jobKey,
  modelLabel,
  parseModelChoice,
  resolveConfig,
  type EvaluationSettings,
  type Job,
  type Protocol,
} from './jobs';
import { userCwd } from './paths';
import { modelModule, scenarioModule, type PlannedJob } from './run-job';

export const QUICK_BUDGETS = [64, 256, 1024];
export const FULL_BUDGETS = [16, 64, 256, 1024, 4096, 16384];

export interface PlanOptions {
  /** --model entries (ids with optional overrides); empty = every registered model. */
  models: string[];
  /** --scenario names; empty = every registered scenario. */
  scenarios: string[];
  /** --view filter; empty = every view each model supports. */
  views: string[];
  protocols: Protocol[];
  budgets: number[];
  seeds: number[];
  /** --tell-world: generalist protocols tell the model each episode's world. */
  tellWorld?: boolean;
  /** --horizon; null = each scenario's default. */
  horizon: number | null;
  testEpisodes: number;
  oodEpisodes: number;
}

const coreDir = dirname(dirname(createRequire(import.meta.url).resolve('@worldbench/core')));
const runnerDir = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * A --model that names a module file rather than a registered id: "./my-model.ts", "../x/src/index.ts", "/abs/m.ts".
 */
export function isModelPath(id: string): boolean {
  return /^(\.{1,2})?\//.test(id) || /\.[cm]?[jt]s$/.test(id);
}

/**
 * The plug-in entry of `--model ./path/to/module.ts`: a module that default-exports a WorldModelModule.
 * Its id is the module's card.id; its code fingerprint covers that file, the local files it imports (and
 * theirs), and the workspace packages they import (fingerprint.ts). A relative path is read from the folder
 * pnpm was started in (INIT_CWD), as the user typed it.
 */
export async function modelPathEntry(registry: Registry, path: string, from = userCwd()): Promise<PluginEntry> {
  const file = resolve(from, path);
  if (!existsSync(file) || !statSync(file).isFile())
    throw new UserError(
      `--model ${path}: no such file (${file}); give a registered id (pnpm bench list) or the path of a module that ` +
        `default-exports a WorldModelModule`,
    );
  const extension = /\.([^./]+)$/.exec(file)?.[1];
  const scheme = registry.schemes.find((s) => s.id === extension);
  if (scheme)
    throw new UserError(
      `--model ${path}: a .${extension} file is not a module; run it through its scheme: --model ${scheme.id}:${path}`,
    );
  const module = await modelModule({ id: path, kind: 'model', packageName: file, packageDir: file, entry: file });
  const id = (module.card as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string' || id === '' || /[[\],]/.test(id))
    throw new UserError(
      `--model ${path}: its default export has no usable card.id (got ${JSON.stringify(id)}); set card: { id: ` +
        `'my-model', ... } without brackets or commas`,
    );
  const clash = registry.models.find((m) => m.id === id);
  if (clash)
    throw new UserError(
      `--model ${path}: its ` +
        `card.id "${id}" is already the id of the registered ` +
        `model of ${clash.packageName}; give the module a distinct card.id`,
    );
  return { id, kind: 'model', packageName: file, packageDir: file, entry: file };
}

/**
 * `--model onnx:path/to/model.onnx`: the registered scheme's entry, its argument read as a path from the folder
 * pnpm was started in when it names a file there. Null when the id names no scheme.
 */
/** The entry of a --model id: a module path, a scheme model (onnx:file) or a registered id (exit 2 listing them). */
export async function modelEntry(registry: Registry, id: string): Promise<PluginEntry> {
  return isModelPath(id) ? modelPathEntry(registry, id) : (schemeModelEntry(registry, id) ?? findModel(registry, id));
}

export function schemeModelEntry(registry: Registry, id: string, from = userCwd()): PluginEntry | null {
  const entry = schemeEntry(registry, id);
  if (!entry) return null;
  const asPath = resolve(from, entry.arg!);
  return existsSync(asPath) ? { ...entry, arg: asPath } : entry;
}

/** Files whose content decides a scheme model's behaviour: the argument (a model file) and its sidecar, if any. */
function schemeFiles(entry: PluginEntry): string[] {
  if (!entry.arg || !existsSync(entry.arg)) return [];
  const sidecar = entry.arg.replace(/\.[^./]+$/, '') + '.worldbench.json';
  return existsSync(sidecar) ? [entry.arg, sidecar] : [entry.arg];
}

/** Why a protocol does not apply to a (model, scenario), or undefined when it does. */
function protocolProblem(
  protocol: Protocol,
  pretrained: boolean,
  spec: { action: unknown; id: string },
  hasShift: boolean,
): string | undefined {
  if ((protocol === 'on-policy' || protocol === 'on-policy-random') && !spec.action)
    return `${spec.id} has no actions: the on-policy protocols need them`;
  if ((protocol === 'on-policy' || protocol === 'on-policy-random' || protocol === 'offline-explore') && pretrained)
    return 'pretrained: it does not learn from the training data';
  if (protocol === 'live' && !hasShift) return `${spec.id} has no shift(): the live protocol needs a change of law`;
  return undefined;
}

/** A plug-in's answer to supports(), with the plug-in named when it throws or answers nonsense. */
function askSupports(
  module: WorldModelModule,
  label: string,
  spec: ScenarioSpec,
  privileged: PrivilegedInfo | undefined,
): Support {
  let support: Support;
  try {
    support = module.supports(spec, privileged);
  } catch (err) {
    throw new UserError(`${label}: supports(${spec.id}) threw: ${(err as Error)?.message ?? err}`, { cause: err });
  }
  if (!support || !Array.isArray(support.views))
    throw new UserError(
      `${label}: supports(${spec.id}) returned ${JSON.stringify(support)}; it must return { views: [...] } or { ` +
        `views: [], reason }`,
    );
  return support;
}

/** Code-unit order: the same on every machine whatever its locale (shards partition this order). */
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * One (scenario, model) pair of a plan, with the views it runs: the plan's jobs are its cells times protocols, budgets
 * and seeds.
 */
interface PlanCell {
  scenarioEntry: PluginEntry;
  scenario: Scenario;
  evaluation: EvaluationSettings;
  model: {
    choice: { id: string };
    entry: PluginEntry;
    module: WorldModelModule;
    config: Record<string, unknown>;
    label: string;
  };
  views: string[];
  /** Why the model does not read a view it was asked for (the view's jobs are recorded unsupported). */
  unsupported: Map<string, string>;
}

/** How many jobs the cells make: counted, so that a plan too large is refused before it is built. */
function countJobs(cells: readonly PlanCell[], opts: PlanOptions): number {
  return cells.reduce(
    (n, c) =>
      n +
      c.views.length *
        opts.protocols.length *
        (c.model.module.card.pretrained === true ? 1 : opts.budgets.length) *
        opts.seeds.length,
    0,
  );
}

export async function planJobs(registry: Registry, opts: PlanOptions): Promise<PlannedJob[]> {
  const modelChoices = (opts.models.length ? opts.models : registry.models.map((m) => m.id)).map(parseModelChoice);
  const scenarioEntries = (opts.scenarios.length ? opts.scenarios : registry.scenarios.map((s) => s.id)).map((s) =>
    findScenario(registry, s),
  );
  const models = await Promise.all(
    modelChoices.map(async (given) => {
      const entry = await modelEntry(registry, given.id);
      const choice = { ...given, id: entry.id };
      const module = await modelModule(entry);
      const config = resolveConfig(choice.id, module, choice.overrides);
      const label = modelLabel(choice);
      return { choice, entry, module, config, label };
    }),
  );
  for (const m of models) {
    const other = models.find((o) => o.choice.id === m.choice.id && o.entry.entry !== m.entry.entry);
    if (other)
      throw new UserError(
        `two --model entries have the id "${m.choice.id}": ${m.entry.entry} and ${other.entry.entry}; give them ` +
          `distinct card.id`,
      );
  }
  const knownViews = new Set<string>();
  const cells: PlanCell[] = [];
  const refusals = new Map<string, string[]>(); // model label -> why each scenario was refused
  for (const scenarioEntry of scenarioEntries) {
    const scenario = await scenarioModule(scenarioEntry);
    const spec = scenario.spec;
    const views = forecastViews(spec);
    views.forEach((v) => knownViews.add(v));
    const maxHorizon = spec.episodeLength - spec.historySteps + 1;
    if (opts.horizon !== null && opts.horizon > maxHorizon)
      throw new UserError(
        `--horizon ${opts.horizon} does ` +
          `not fit ${spec.id} (K = ${spec.historySteps} observed steps ` +
          `of T = ${spec.episodeLength}); at most ${maxHorizon}`,
      );
    const evaluation: EvaluationSettings = {
      testEpisodes: opts.testEpisodes,
      oodEpisodes: opts.oodEpisodes,
      horizon: opts.horizon ?? Math.min(spec.horizon, maxHorizon),
    };
    for (const m of models) {
      const support = askSupports(m.module, m.label, spec, privilegedInfo(m.module, m.config, scenario));
      const supported = new Set<string>(support.views);
      if (!supported.size)
        refusals.set(m.label, [
          ...(refusals.get(m.label) ?? []),
          `${spec.id}: ${'reason' in support && support.reason ? support.reason : 'no reason given'}`,
        ]);
      // a scenario the model reads none of is recorded unsupported on each of its views, so that the table says
      // why; a view it does not read of a scenario it does read is simply not its (unless asked for with --view)
      const wanted = opts.views.length
        ? views.filter((v) => opts.views.includes(v))
        : supported.size
          ? [...supported]
          : views;
      const why = 'reason' in support && support.reason ? support.reason : undefined;
      const unsupported = new Map(
        wanted.filter((v) => !supported.has(v)).map((v) => [v, why ?? `${m.choice.id} does not read view ${v}`]),
      );
      cells.push({ scenarioEntry, scenario, evaluation, model: m, views: wanted, unsupported });
    }
  }
  // exit 2 only when no chosen (model, scenario) pair can run at all; otherwise a model that reads none of the
  // chosen scenarios gets unsupported rows and the others run
  if (models.every((m) => refusals.get(m.label)?.length === scenarioEntries.length))
    throw new UserError(
      models
        .map((m) => `${m.label} supports none of the chosen scenarios (${refusals.get(m.label)!.join('; ')})`)
        .join('; ') + '; choose a scenario it reads with --scenario, or check what its supports() returns',
    );
  for (const v of opts.views)
    if (!knownViews.has(v))
      throw new UserError(`unknown view "${v}"; the chosen scenarios have: ${[...knownViews].join(', ')}`);
  const jobs = countJobs(cells, opts);
  if (jobs > MAX_PLAN_JOBS)
    throw new UserError(
      `this plan has ${grouped(jobs)} jobs (${cells.length} model x scenario pair(s) over their ` +
        `views, x ` +
        `${opts.protocols.length} protocol(s), x ` +
        `${opts.budgets.length} budget(s), x ${grouped(opts.seeds.length)} seed(s)); ` +
        `a run takes at most ${grouped(MAX_PLAN_JOBS)}: choose fewer seeds, budgets, models or scenarios, or split ` +
        `the sweep into several runs`,
    );

  const fingerprints = new CodeFingerprints(workspacePackages(registry.root));
  const planned: PlannedJob[] = [];
  const specialist = opts.protocols.filter((p) => !isGeneralist(p));
  const generalist = opts.protocols.filter(isGeneralist);
  if (generalist.length) planned.push(...generalistJobs(cells, generalist, opts, fingerprints));
  for (const { scenarioEntry, scenario, evaluation, model: m, views, unsupported } of cells) {
    const spec = scenario.spec;
    const fingerprint = fingerprints.of([
      coreDir,
      runnerDir,
      m.entry.packageDir,
      scenarioEntry.packageDir,
      ...schemeFiles(m.entry),
    ]);
    const pretrained = m.module.card.pretrained === true;
    // a pretrained model does not learn from the budget: one job per (scenario, view, protocol, seed), budget n/a
    const budgets: Array<number | null> = pretrained ? [null] : opts.budgets;
    for (const view of views)
      for (const protocol of specialist)
        for (const budget of budgets)
          for (const seed of opts.seeds) {
            const job: Job = {
              model: m.label,
              modelId: m.choice.id,
              config: m.config,
              scenario: spec.id,
              view,
              protocol,
              budget,
              seed,
              evaluation,
            };
            const why =
              unsupported.get(view) ??
              protocolProblem(protocol, pretrained, spec, typeof scenario.shift === 'function');
            planned.push({
              job,
              key: jobKey(job, fingerprint),
              fingerprint,
              modelEntry: m.entry,
              scenarioEntry,
              unsupported: why,
            });
          }
  }
  // a deterministic order (sharding partitions this list), each job once (--model a,a names one job)
  const unique = [...new Map(planned.map((p) => [p.key, p])).values()];
  return unique.sort((a, b) => byCodeUnits(canonicalJson(a.job), canonicalJson(b.job)));
}

/**
 * The rows of the generalist protocols: per (model, view, protocol, budget, seed) one fit on every chosen scenario
 * the model reads the view of, and one row per such scenario, keyed with the set of scenarios and whether the model
 * is told each episode's world. A model without `createGeneralist`, or an oracle config (it would read one
 * scenario's hypotheses), gets unsupported rows saying why, and so does a view fewer than two scenarios offer.
 */
function generalistJobs(
  cells: readonly PlanCell[],
  protocols: readonly Protocol[],
  opts: PlanOptions,
  fingerprints: CodeFingerprints,
): PlannedJob[] {
  const planned: PlannedJob[] = [];
  const tellWorld = opts.tellWorld === true;
  for (const label of new Set(cells.map((c) => c.model.label))) {
    const own = cells.filter((c) => c.model.label === label);
    const m = own[0].model;
    const oracle = own.some((c) => privilegedInfo(m.module, m.config, c.scenario) !== undefined);
    for (const view of [...new Set(own.flatMap((c) => c.views))].sort(byCodeUnits)) {
      const rows = own.filter((c) => c.views.includes(view));
      const members = rows.filter((c) => !c.unsupported.has(view));
      const worlds = members.map((c) => c.scenario.spec.id).sort(byCodeUnits);
      const notAGeneralist =
        typeof m.module.createGeneralist !== 'function'
          ? `${m.choice.id} does not declare createGeneralist: it reads one world at a time`
          : oracle
            ? `${label} is an oracle config (it reads a scenario's hypotheses); the generalist protocols are told ` +
              `only the specs`
            : members.length < 2
              ? `the generalist protocols need two or more chosen scenarios whose view ${view} ${m.choice.id} ` +
                `reads; here: ${worlds.join(', ') || 'none'}`
              : undefined;
      const fingerprint = fingerprints.of([
        coreDir,
        runnerDir,
        m.entry.packageDir,
        ...members.map((c) => c.scenarioEntry.packageDir),
        ...schemeFiles(m.entry),
      ]);
      const evaluations = Object.fromEntries(members.map((c) => [c.scenario.spec.id, c.evaluation]));
      for (const protocol of protocols)
        for (const budget of opts.budgets)
          for (const seed of opts.seeds) {
            let fit: string | undefined;
            for (const c of rows) {
              const job: Job = {
                model: m.label,
                modelId: m.choice.id,
                config: m.config,
                scenario: c.scenario.spec.id,
                view,
                protocol,
                budget,
                seed,
                evaluation: c.evaluation,
                worlds,
                tellWorld,
              };
              const why = c.unsupported.get(view) ?? notAGeneralist;
              fit ??= fitKey(job, evaluations, fingerprint);
              planned.push({
                job,
                key: jobKey(job, fingerprint),
                fingerprint,
                modelEntry: m.entry,
                scenarioEntry: c.scenarioEntry,
                unsupported: why,
                ...(why ? {} : { fit }),
              });
            }
          }
    }
  }
  return planned;
}
