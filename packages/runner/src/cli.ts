// `pnpm bench`: parse flags, plan, run what is not stored yet, print the tables (docs/protocols.md);
// `pnpm bench merge`: join the shards of a plan (docs/scaling.md).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  configSchemaOf,
  discoverPlugins,
  findWorkspaceRoot,
  forecastViews,
  isUserError,
  privilegedInfo,
  UserError,
  type Registry,
} from '@worldbench/core';
import { runCheck } from './check';
import { formatConfigTable } from './config-table';
import {
  COMMANDS,
  DEFAULT_JOB_TIMEOUT_SECONDS,
  DEFAULT_OUT,
  flagsOf,
  helpText,
  LARGE_SWEEP_JOBS,
  OPTIONS,
  type Command,
  type OptionName,
} from './cli-options';
import { runEnv } from './env';
import { estimatePlan, readTimings, timingFiles, type PlanEstimate } from './estimate';
import { EXPORT_FORMATS, exportRuns, type ExportFormat } from './export';
import { isGeneralist, PROTOCOLS, SPECIALIST_PROTOCOLS, splitList, type Protocol } from './jobs';
import { grouped, MAX_BUDGET, MAX_EPISODES, MAX_SEED, MAX_SEEDS } from './limits';
import { describeMerge, mergeShards } from './merge';
import { checkOutFolder, fromUser } from './paths';
import { FULL_BUDGETS, modelEntry, planJobs, QUICK_BUDGETS, type PlanOptions } from './plan';
import { poolSize } from './pool';
import { formatDuration, HEARTBEAT_SECONDS, sweepProgress, sweepSummary } from './progress';
import type { JobResult } from './result';
import { modelModule, scenarioModule, type PlannedJob } from './run-job';
import { parseShard, planRecord, planUnits, resultsFileName, shardJobs, writePlanRecord, type Shard } from './shard';
import { describeRepairs, newestByKey, readResultLines, ResultsStore } from './store';
import { isDone, runSweep } from './sweep';
import { writeReport } from './report';
import { withDerived } from './summarize';
import { checkCompare, formatTables } from './table';

export { DEFAULT_JOB_TIMEOUT_SECONDS, DEFAULT_OUT, LARGE_SWEEP_JOBS };

type ParseOption<O> = O extends { multiple: true }
  ? { type: 'string'; multiple: true }
  : O extends { type: infer T }
    ? { type: T; short?: string }
    : never;

/** The parser's view of the options table: parseArgs takes only these fields. */
const PARSE_OPTIONS = Object.fromEntries(
  Object.entries(OPTIONS).map(([name, o]) => [
    name,
    { type: o.type, ...('multiple' in o ? { multiple: true } : {}), ...('short' in o ? { short: o.short } : {}) },
  ]),
) as { [K in OptionName]: ParseOption<(typeof OPTIONS)[K]> };

function positiveInt(text: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) <= 0 || Number(text) > max)
    throw new UserError(
      `${flag} takes positive integers${max < Number.MAX_SAFE_INTEGER ? ` up to ${grouped(max)}` : ''}, got "${text}"`,
    );
  return Number(text);
}

const SEED_BOUNDS = `seeds are 0..${grouped(MAX_SEED)}, at most ${grouped(MAX_SEEDS)} in one run`;

/** Refuses seeds out of bounds from their count and largest value, before any list of them is made. */
function checkSeedBounds(text: string, count: number, largest: number): void {
  if (count > MAX_SEEDS)
    throw new UserError(
      `--seeds ${text} asks for ${count > 1e15 ? 'more than 10^15' : grouped(count)} seeds; ${SEED_BOUNDS}: split ` +
        `the sweep into several runs`,
    );
  if (largest > MAX_SEED) throw new UserError(`--seeds ${text} goes beyond seed ${grouped(MAX_SEED)}; ${SEED_BOUNDS}`);
}

export function parseSeeds(text: string): number[] {
  const t = text.trim();
  const range = /^(\d+)-(\d+)$/.exec(t);
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (b < a) throw new UserError(`--seeds ${t}: the range must go up (A-B with A <= B)`);
    checkSeedBounds(t, b - a + 1, b);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  if (t.includes(',')) {
    const seeds = t.split(',').map((s) => {
      if (!/^\d+$/.test(s.trim()))
        throw new UserError(`--seeds takes N, A-B or a,b,c with non-negative integers, got "${text}"`);
      return Number(s);
    });
    checkSeedBounds(t, new Set(seeds).size, Math.max(...seeds));
    return [...new Set(seeds)];
  }
  if (t === '0')
    throw new UserError('--seeds 0 asks for no seeds (N means seeds 0..N-1); for seed 0 alone write --seeds 0-0');
  if (!/^\d+$/.test(t))
    throw new UserError(`--seeds takes N (>= 1), A-B or a,b,c with non-negative integers, got "${text}"`);
  checkSeedBounds(t, Number(t), Number(t) - 1);
  return Array.from({ length: Number(t) }, (_, i) => i);
}

function workerCount(text: string): number {
  if (!/^\d+$/.test(text.trim()))
    throw new UserError(`--workers takes a whole number of processes (0: run in this process), got "${text}"`);
  return Number(text);
}

/** The longest timer Node keeps (2^31 - 1 ms, about 24.8 days); a longer one would fire at once. */
const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function seconds(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_SECONDS)
    throw new UserError(
      `${flag} takes a positive number of seconds up to ${MAX_TIMEOUT_SECONDS} (24 days), got "${text}"`,
    );
  return value;
}

function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap(splitList);
}

export interface ParsedArgs {
  command: Command | 'help' | 'version';
  plan: PlanOptions;
  /**
   * --out as typed (relative to where the user stands), or null: the default (DEFAULT_OUT in the workspace root;
   * report: its one run folder).
   */
  out: string | null;
  json: boolean;
  /** Worker processes at once; 0 = one job after the other in this process. */
  workers: number;
  jobTimeoutSeconds: number;
  shard: Shard | null;
  /** --take-lock: write even though a lock names a run elsewhere. */
  takeLock: boolean;
  /** merge: the shard folders; report and export: the run folders. */
  mergeDirs: string[];
  /** --dry-run: plan, count and estimate; run and write nothing. */
  dryRun: boolean;
  /** --compare MODEL: the model label each row is compared with, or null. */
  compare: string | null;
  /** --verbose: stacks of failed jobs and checks. */
  verbose: boolean;
  /** export: the file format, and whether failed and unsupported jobs go into the same file. */
  format: ExportFormat;
  all: boolean;
  /** check: the model or scenario. */
  target: string | null;
  /** list --config MODEL: the model whose config table to print, or null. */
  configOf: string | null;
}

/** Refuses a flag the command does not take, naming those it does. */
function refuseForeignFlags(command: Command, given: readonly string[]): void {
  const allowed = flagsOf(command);
  for (const flag of given) {
    if ((allowed as string[]).includes(flag)) continue;
    const takes = allowed.filter((f) => f !== 'help' && f !== 'version').map((f) => `--${f}`);
    const list =
      takes.length > 1 ? `${takes.slice(0, -1).join(', ')} and ${takes[takes.length - 1]}` : (takes[0] ?? 'no flags');
    const what = COMMANDS[command].takes;
    const goes =
      (OPTIONS[flag as OptionName] as { commands?: readonly string[] }).commands?.filter((c) => c !== command) ?? [];
    throw new UserError(
      command === 'run'
        ? `--${flag} is not a flag of a run: it ` +
            `goes with ${goes.map((c) => `pnpm bench ${c}`).join(', ')} (pnpm bench --help)`
        : `${command} takes ${what ? `${what}, ` : ''}${list}, not --${flag}`,
    );
  }
}

const LIST_FLAGS = Object.entries(OPTIONS)
  .filter(([, o]) => 'multiple' in o)
  .map(([name]) => name);
const USAGE = helpText();

/** Refuses a single-valued flag given more than once (parseArgs would silently keep the last). */
function refuseRepeatedFlags(tokens: ReadonlyArray<{ kind: string; name?: string; value?: string }>): void {
  const given = new Map<string, string[]>();
  for (const t of tokens)
    if (
      t.kind === 'option' &&
      t.name &&
      OPTIONS[t.name as keyof typeof OPTIONS]?.type === 'string' &&
      !LIST_FLAGS.includes(t.name)
    )
      given.set(t.name, [...(given.get(t.name) ?? []), t.value ?? '']);
  for (const [name, values] of given)
    if (values.length > 1)
      throw new UserError(
        `--${name} is given ${values.length} times (${values.map((v) => JSON.stringify(v)).join(', ')}); give it ` +
          `once (only ${LIST_FLAGS.map((f) => `--${f}`).join(', ')} take several)`,
      );
}

export function parseCli(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: PARSE_OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    // whole: its later lines say how to fix it
    throw new UserError(`${(err as Error).message.replace(/\n/g, ' ')}\n${USAGE}`);
  }
  const { values, positionals, tokens } = parsed;
  refuseRepeatedFlags(tokens);
  const named = positionals[0] as Command | undefined;
  const subcommand: Command = named && named !== 'run' && named in COMMANDS ? named : 'run';
  const command = values.help ? 'help' : values.version ? 'version' : subcommand;
  if (subcommand === 'run' && positionals.length > 0)
    throw new UserError(
      `unknown command "${positionals.join(' ')}"; valid: ${Object.keys(COMMANDS)
        .filter((c) => c !== 'run')
        .join(', ')} (or none to run)\n${USAGE}`,
    );
  if (subcommand === 'list' && positionals.length > 1)
    throw new UserError(`list takes nothing more, got "${positionals.slice(1).join(' ')}"`);
  if (command === 'help' || command === 'version') return { ...defaults(), command };
  refuseForeignFlags(subcommand, Object.keys(values));
  if (values.out !== undefined && values.out.trim() === '')
    throw new UserError('--out is empty; give the folder results go to, e.g. --out results/my-run');
  if (subcommand === 'report' || subcommand === 'export') {
    if (positionals.length < 2)
      throw new UserError(
        `${subcommand} takes run folders: ` +
          `pnpm bench ${subcommand} DIR (the --out of a pnpm bench run), or ` +
          `DIR... --out ${subcommand === 'report' ? 'DIR' : 'FILE'}`,
      );
    if (positionals.length > 2 && values.out === undefined)
      throw new UserError(
        `${subcommand} of ${positionals.length - 1} runs: say where it goes ` +
          `with --out ${subcommand === 'report' ? 'DIR' : 'FILE'}`,
      );
  }
  if (subcommand === 'merge') {
    if (positionals.length < 2)
      throw new UserError(`merge needs the folders of the shards: pnpm bench merge DIR... --out DIR`);
    if (values.out === undefined)
      throw new UserError('merge needs --out DIR: the folder the merged results.jsonl goes to');
  }
  if (subcommand === 'check' && positionals.length !== 2)
    throw new UserError(
      'check takes one model or scenario: pnpm bench check MODEL (an id, ./path/to/model.ts or onnx:file.onnx) or ' +
        'pnpm bench check SCENARIO',
    );
  const format = values.format ?? 'csv';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw new UserError(`--format ${format}: export writes ${EXPORT_FORMATS.join(' or ')}`);
  if (values.compare !== undefined && values.compare.trim() === '')
    throw new UserError('--compare is empty; give the model to compare with, e.g. --compare persistence');
  const protocols = list(values.protocol).flatMap((p) => (p === 'all' ? [...SPECIALIST_PROTOCOLS] : [p]));
  for (const p of protocols)
    if (!(PROTOCOLS as readonly string[]).includes(p))
      throw new UserError(`unknown protocol "${p}"; valid: ${PROTOCOLS.join(', ')}, all`);
  const tellWorld = values['tell-world'] === true;
  if (tellWorld && !protocols.some(isGeneralist))
    throw new UserError(
      '--tell-world is for the generalist protocols (it tells a model fitted on several worlds which one each ' +
        'episode came from); add --protocol generalist or generalist-equal, or drop it',
    );
  const budgets =
    values.budgets !== undefined
      ? splitList(values.budgets).map((b) => positiveInt(b, '--budgets', MAX_BUDGET))
      : values.full
        ? FULL_BUDGETS
        : QUICK_BUDGETS;
  if (values.budgets !== undefined && budgets.length === 0)
    throw new UserError('--budgets is empty; give e.g. --budgets 256,1024');
  const seeds = values.seeds !== undefined ? parseSeeds(values.seeds) : values.full ? [0, 1, 2, 3, 4] : [0];
  return {
    command: subcommand,
    plan: {
      models: list(values.model),
      scenarios: list(values.scenario),
      views: list(values.view),
      protocols: protocols.length ? ([...new Set(protocols)] as Protocol[]) : ['offline'],
      budgets: [...new Set(budgets)].sort((a, b) => a - b),
      seeds,
      tellWorld,
      horizon: values.horizon !== undefined ? positiveInt(values.horizon, '--horizon') : null,
      testEpisodes:
        values['test-episodes'] !== undefined
          ? positiveInt(values['test-episodes'], '--test-episodes', MAX_EPISODES)
          : 64,
      oodEpisodes:
        values['ood-episodes'] !== undefined ? positiveInt(values['ood-episodes'], '--ood-episodes', MAX_EPISODES) : 64,
    },
    out: values.out ?? null,
    json: values.json === true,
    workers: values.workers !== undefined ? workerCount(values.workers) : availableParallelism(),
    jobTimeoutSeconds:
      values['job-timeout'] !== undefined
        ? seconds(values['job-timeout'], '--job-timeout')
        : DEFAULT_JOB_TIMEOUT_SECONDS,
    shard: values.shard !== undefined ? parseShard(values.shard) : null,
    takeLock: values['take-lock'] === true,
    mergeDirs: subcommand === 'merge' || subcommand === 'report' || subcommand === 'export' ? positionals.slice(1) : [],
    dryRun: values['dry-run'] === true,
    compare: values.compare ?? null,
    configOf: values.config ?? null,
    verbose: values.verbose === true,
    format: format as ExportFormat,
    all: values.all === true,
    target: subcommand === 'check' ? positionals[1] : null,
  };
}

/** What a --help or --version needs of the parsed arguments: nothing; the rest at its defaults. */
function defaults(): ParsedArgs {
  return parseCli([]);
}

async function printList(registry: Registry, write: (s: string) => void): Promise<void> {
  write('models:\n');
  for (const m of registry.models) {
    const module = await modelModule(m);
    write(`  ${m.id.padEnd(18)} ${module.card.school.padEnd(16)} ${module.card.summary}\n`);
  }
  write('\nscenarios:\n');
  const scenarios = await Promise.all(
    registry.scenarios.map(async (s) => ({ entry: s, scenario: await scenarioModule(s) })),
  );
  for (const { entry, scenario } of scenarios) {
    const views = forecastViews(scenario.spec).map(
      (v) => `${v} [${scenario.spec.views[v].shape}] ${scenario.spec.views[v].kind}`,
    );
    write(`  ${entry.id.padEnd(22)} ${scenario.spec.summary}\n  ${''.padEnd(22)} views: ${views.join('; ')}\n`);
  }
  write('\nwhich model reads which view:\n');
  for (const m of registry.models) {
    const module = await modelModule(m);
    for (const { entry, scenario } of scenarios) {
      const s = module.supports(scenario.spec, privilegedInfo(module, module.defaults, scenario));
      const views = s.views.length ? s.views.join(', ') : `none: ${'reason' in s ? s.reason : ''}`;
      write(`  ${m.id.padEnd(18)} ${entry.id.padEnd(22)} ${views}\n`);
    }
  }
}

/** The results folder of a run: --out from where the user stands, or the default under the workspace root. */
function outFolder(args: ParsedArgs, root: string): string {
  return args.out === null ? join(root, DEFAULT_OUT) : fromUser(args.out);
}

/** `pnpm bench --version`: the runner's version, the commit of the checkout, Node. */
function versionLine(root: string): string {
  const pkg = JSON.parse(
    readFileSync(join(dirname(dirname(fileURLToPath(import.meta.url))), 'package.json'), 'utf8'),
  ) as { version: string };
  return (
    `worldbench ` +
    `${pkg.version} (commit ${runEnv(root, 'none').commit ?? 'unknown: not a git checkout'}, node ${process.version})`
  );
}

/** "1000 new, 12 already done, 3 to retry" and a line per model: what a plan will run. */
function describePlan(
  planned: readonly PlannedJob[],
  stored: ReadonlyMap<string, JobResult>,
): { text: string; todo: PlannedJob[] } {
  const todo = planned.filter((p) => !isDone(stored.get(p.key)));
  const retry = todo.filter((p) => stored.get(p.key)?.status === 'failed').length;
  const byModel = new Map<string, number>();
  for (const p of todo) byModel.set(p.job.model, (byModel.get(p.job.model) ?? 0) + 1);
  const models = [...byModel].map(([m, n]) => `${m} ${n}`).join(', ');
  return {
    text:
      `${planned.length} job(s) ` +
      `planned: ${todo.length - retry} new, ${planned.length - todo.length} already done (ok or ` +
      `unsupported), ${retry} to retry (failed)${todo.length ? `; to run by model: ${models}` : ''}`,
    todo,
  };
}

/** What past timings say about the jobs to run, as a sentence. */
function describeEstimate(e: PlanEstimate, workers: number): string {
  const lanes = Math.max(1, workers);
  if (e.seconds === null)
    return (
      `estimated wall time: unknown (no past timing of these jobs' setups in this run folder or the ones ` +
      `beside it)`
    );
  const parts = [
    `${e.known} from the same setup`,
    ...(e.scaled ? [`${e.scaled} scaled from another budget`] : []),
    ...(e.unknown ? [`${e.unknown} with no timing, not counted`] : []),
  ];
  return (
    `estimated wall ` +
    `time with ${lanes} worker(s): about ${formatDuration(e.seconds)} (past timings of ${parts.join(', ')})`
  );
}

/** Runs the CLI; returns the exit code (0 ok, 1 a job failed or is missing, 2 bad input). */
export async function main(argv: string[], io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    const args = parseCli(argv);
    if (args.command === 'help') {
      io.stdout.write(USAGE + '\n');
      return 0;
    }
    if (args.command === 'version') {
      io.stdout.write(versionLine(findWorkspaceRoot()) + '\n');
      return 0;
    }
    const lock = { takeOver: args.takeLock, command: `pnpm bench ${argv.join(' ')}` };
    if (args.command === 'merge') {
      const out = fromUser(args.out!);
      checkOutFolder(out);
      const summary = mergeShards(args.mergeDirs.map(fromUser), out, lock);
      const repaired = describeRepairs(summary.repairs, summary.file);
      if (repaired) io.stderr.write(repaired + '\n');
      const merged = withDerived(summary.results);
      if (args.json) io.stdout.write(JSON.stringify({ results: merged }, null, 1) + '\n');
      else io.stdout.write(formatTables(merged) + `\n\nresults: ${summary.file}\n`);
      io.stderr.write(describeMerge(summary) + '\n');
      return summary.missing.size > 0 || summary.results.some((r) => r.status === 'failed') ? 1 : 0;
    }
    if (args.command === 'report') {
      const out = fromUser(args.out ?? args.mergeDirs[0]); // one run's report goes into its folder
      checkOutFolder(out, args.out === null ? 'report' : '--out');
      // folders named as typed (not made absolute): the report then names no folder of this machine
      const names = args.mergeDirs.map((dir) => normalize(dir).replace(/(.)\/$/, '$1'));
      const report = await writeReport(args.mergeDirs.map(fromUser), out, { compare: args.compare, names });
      for (const s of report.skipped)
        io.stderr.write(
          `skipped ${s.lines} line(s) of ${s.file} that are not results (e.g. ${s.problem}); a pnpm bench run into ` +
            `that folder sets them aside\n`,
        );
      io.stdout.write(`report: ${report.file}\n`);
      return 0;
    }
    if (args.command === 'export') {
      const file = args.out !== null ? fromUser(args.out) : join(fromUser(args.mergeDirs[0]), `results.${args.format}`);
      if (existsSync(file) && statSync(file).isDirectory())
        throw new UserError(
          `--out ${file} is a folder; export writes a file: give its name, ` +
            `e.g. --out ${join(file, `results.${args.format}`)}`,
        );
      const summary = exportRuns(args.mergeDirs.map(fromUser), file, { format: args.format, all: args.all });
      for (const s of summary.skipped)
        io.stderr.write(`skipped ${s.lines} line(s) of ${s.file} that are not results (e.g. ${s.problem})\n`);
      io.stdout.write(
        `export: ${summary.file} (${summary.rows} rows: one per job, split, metric and ` +
          `horizon of ${summary.jobs.ok} ok job(s)${
            args.all ? `, and one per failed or ` + `unsupported job (${summary.jobs.other})` : ''
          })\n`,
      );
      if (summary.failures)
        io.stdout.write(
          `export: ${summary.failures.file} (${summary.failures.rows} failed or unsupported job(s), one row each)\n`,
        );
      return 0;
    }
    const registry = discoverPlugins(findWorkspaceRoot());
    if (args.command === 'list' && args.configOf !== null) {
      const id = args.configOf.trim();
      const module = await modelModule(await modelEntry(registry, id));
      io.stdout.write(formatConfigTable(module.card.id, configSchemaOf(module.card.id, module)));
      return 0;
    }
    if (args.command === 'list') {
      await printList(registry, (s) => io.stdout.write(s));
      return 0;
    }
    if (args.command === 'check')
      return await runCheck(registry, args.target!, {
        verbose: args.verbose,
        write: (line) => io.stdout.write(line + '\n'),
      });
    const dir = outFolder(args, registry.root);
    checkOutFolder(dir);
    const plan = await planJobs(registry, args.plan);
    if (plan.length === 0) throw new UserError('nothing to run: no chosen model reads any chosen view');
    const compare =
      args.compare === null
        ? null
        : checkCompare(
            args.compare,
            plan.map((p) => p.job.model),
          );
    const planned = args.shard ? shardJobs(plan, args.shard, planUnits(plan) ?? undefined) : plan;
    const pool = poolSize(args.workers, planned.length, availableParallelism());
    const file = join(dir, resultsFileName(args.shard));
    // read only: a dry run writes nothing, and a real run opens (and locks) the store only after this
    const { text: planText, todo } = describePlan(planned, newestByKey(readResultLines(file).results));
    const estimate = estimatePlan(
      todo.map((p) => p.job),
      readTimings(timingFiles(dir)),
      pool.workers,
    );
    // the ETA starts from the estimate only when it covers every job to run: a partial one would mislead
    if (args.dryRun) {
      io.stdout.write(
        `dry run of ${file}: nothing was run or written\n${planText}\n${describeEstimate(estimate, pool.workers)}\n`,
      );
      return 0;
    }
    if (todo.length > LARGE_SWEEP_JOBS)
      io.stderr.write(
        `this sweep runs ${todo.length} new job(s): ${planText}\n${describeEstimate(estimate, pool.workers)}\n(stop ` +
          `it with Ctrl-C; pnpm bench ... --dry-run shows a plan without running it)\n`,
      );
    // everything is validated: only now touch the disk (the results file's lock first)
    const store = ResultsStore.open(dir, resultsFileName(args.shard), lock);
    try {
      writePlanRecord(dir, planRecord(plan, args.shard, runEnv(registry.root, 'none').commit, argv));
      const repaired = describeRepairs(store.repairs, store.file);
      if (repaired) io.stderr.write(repaired + '\n');
      if (pool.warning) io.stderr.write(pool.warning + '\n');
      if (args.shard && planned.length === 0)
        io.stderr.write(`shard ${args.shard.index}/${args.shard.count} has no jobs: the plan has ${plan.length}\n`);
      const progress = sweepProgress(io.stderr, { heartbeatSeconds: heartbeatSeconds() });
      const t0 = performance.now();
      const results = withDerived(
        await runSweep(
          planned,
          store,
          {
            workers: pool.workers,
            jobTimeoutSeconds: args.jobTimeoutSeconds,
            root: registry.root,
            estimateSeconds: estimate.unknown === 0 ? estimate.seconds : null,
          },
          progress,
        ),
      );
      progress.stop();
      if (args.json) io.stdout.write(JSON.stringify({ results }, null, 1) + '\n');
      else io.stdout.write(formatTables(results, { compare }) + `\n\nresults: ${store.file}\n`);
      io.stderr.write(
        sweepSummary(results, {
          seconds: (performance.now() - t0) / 1000,
          cached: planned.length - todo.length,
          file: store.file,
          verbose: args.verbose,
        }) + '\n',
      );
      return results.some((r) => r.status === 'failed') ? 1 : 0;
    } finally {
      store.close();
    }
  } catch (err) {
    if (isUserError(err)) {
      io.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

/**
 * Seconds between heartbeats of a running job in a log: HEARTBEAT_SECONDS, or WORLDBENCH_HEARTBEAT_SECONDS
 * (a log that wants them more or less often; the tests, to see one without waiting a minute).
 */
function heartbeatSeconds(): number {
  const text = process.env.WORLDBENCH_HEARTBEAT_SECONDS;
  if (text === undefined || text === '') return HEARTBEAT_SECONDS;
  const value = Number(text);
  if (!(value > 0 && value <= MAX_TIMEOUT_SECONDS))
    throw new UserError(`WORLDBENCH_HEARTBEAT_SECONDS is a positive number of seconds, got "${text}"`);
  return value;
}
