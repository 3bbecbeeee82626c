// `pnpm bench`: parse flags, plan, run what is not stored yet, print the tables (docs/protocols.md);
// `pnpm bench merge`: join the shards of a plan (docs/scaling.md).
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { discoverPlugins, findWorkspaceRoot, forecastViews, isUserError, privilegedInfo, UserError, type Registry } from '@worldbench/core';
import { runEnv } from './env';
import { PROTOCOLS, splitList, type Protocol } from './jobs';
import { grouped, MAX_BUDGET, MAX_EPISODES, MAX_PLAN_JOBS, MAX_SEED, MAX_SEEDS } from './limits';
import { describeMerge, mergeShards } from './merge';
import { checkOutFolder, fromUser } from './paths';
import { FULL_BUDGETS, planJobs, QUICK_BUDGETS, type PlanOptions } from './plan';
import { poolSize } from './pool';
import { sweepProgress } from './progress';
import { modelModule, scenarioModule } from './run-job';
import { parseShard, planRecord, resultsFileName, shardJobs, writePlanRecord, type Shard } from './shard';
import { describeRepairs, ResultsStore } from './store';
import { runSweep } from './sweep';
import { writeReport } from './report';
import { withDerived } from './summarize';
import { formatTables } from './table';

/** A job still running after an hour is taken for hung. */
export const DEFAULT_JOB_TIMEOUT_SECONDS = 3600;

/** Where results go without --out, under the workspace root. */
export const DEFAULT_OUT = 'results/default';

const USAGE = `usage: pnpm bench [list] [--model a,b] [--scenario x,y] [--view v] [--protocol p] [--budgets 256,1024]
                  [--seeds N | A-B | a,b,c] [--horizon H] [--out DIR] [--json] [--full]
                  [--test-episodes N] [--ood-episodes N]
                  [--workers N] [--job-timeout SECONDS] [--shard i/n] [--take-lock]
       pnpm bench merge DIR... --out DIR [--json] [--take-lock]
       pnpm bench report DIR... [--out DIR]
  --model       model ids, with typed overrides: 'linear[ridge=0.01]' (default: every registered model);
                or the path of a module that default-exports a WorldModelModule: --model ./my-model.ts
  --scenario    scenario names or versioned ids (default: every registered scenario)
  --view        only these views (default: every view each model reads)
  --protocol    ${PROTOCOLS.join(' | ')} | all (default: offline)
                (--model, --scenario, --view and --protocol may be given several times; any other flag once)
  --budgets     training transitions per job, each at most ${grouped(MAX_BUDGET)} (default: quick grid ${QUICK_BUDGETS.join(',')}; --full: ${FULL_BUDGETS.join(',')})
  --seeds       N means seeds 0..N-1; A-B a range; a,b,c a list (default 1; --full 5). Leaderboard: 1000-1004.
                Seeds are 0..${grouped(MAX_SEED)}, at most ${grouped(MAX_SEEDS)} in one run
  --horizon     forecast steps (default: each scenario's own)
  --test-episodes, --ood-episodes
                evaluation windows per split (default 64, at most ${grouped(MAX_EPISODES)})
  --out         run directory, relative to where you stand (default: ${DEFAULT_OUT} in the workspace root);
                results go to DIR/results.jsonl
  --json        print { "results": [...] } on stdout instead of tables
  --full        the full grid: budgets ${FULL_BUDGETS.join(',')} x 5 seeds
  --workers     jobs at once, each in its own child process on one thread (default: the number of cores;
                never more than the jobs planned); 0 runs them one by one inside this process (debugging: no
                timeout, no crash isolation)
  --job-timeout seconds after which a job's process is killed and the job recorded as failed (default ${DEFAULT_JOB_TIMEOUT_SECONDS})
  --shard       i/n: only the jobs at places i, i+n, i+2n, ... of the sorted plan (0 <= i < n), stored in
                DIR/results.shard-i-of-n.jsonl; join the shards with merge (docs/scaling.md)
  --take-lock   write the results file even though its lock names a run on another host (or a lock that
                names no one): only when that run is gone. A lock of a dead process on this host is taken
                over without it
  A plan of more than ${grouped(MAX_PLAN_JOBS)} jobs is refused: split such a sweep into several runs.
  merge         adds the results of shard folders to --out DIR/results.jsonl, keeping what it holds; refuses
                shards of other plans or code, and two different results of one job
  report        writes DIR/report.html and DIR/leaderboard.md: a self-contained HTML report of the run in DIR;
                of several runs together with --out DIR (docs/protocols.md)`;

const OPTIONS = {
  model: { type: 'string', multiple: true },
  scenario: { type: 'string', multiple: true },
  view: { type: 'string', multiple: true },
  protocol: { type: 'string', multiple: true },
  budgets: { type: 'string' },
  seeds: { type: 'string' },
  horizon: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  full: { type: 'boolean' },
  'test-episodes': { type: 'string' },
  'ood-episodes': { type: 'string' },
  workers: { type: 'string' },
  'job-timeout': { type: 'string' },
  shard: { type: 'string' },
  'take-lock': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function positiveInt(text: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) <= 0 || Number(text) > max)
    throw new UserError(`${flag} takes positive integers${max < Number.MAX_SAFE_INTEGER ? ` up to ${grouped(max)}` : ''}, got "${text}"`);
  return Number(text);
}

const SEED_BOUNDS = `seeds are 0..${grouped(MAX_SEED)}, at most ${grouped(MAX_SEEDS)} in one run`;

/** Refuses seeds out of bounds from their count and largest value, before any list of them is made. */
function checkSeedBounds(text: string, count: number, largest: number): void {
  if (count > MAX_SEEDS) throw new UserError(`--seeds ${text} asks for ${count > 1e15 ? 'more than 10^15' : grouped(count)} seeds; ${SEED_BOUNDS}: split the sweep into several runs`);
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
      if (!/^\d+$/.test(s.trim())) throw new UserError(`--seeds takes N, A-B or a,b,c with non-negative integers, got "${text}"`);
      return Number(s);
    });
    checkSeedBounds(t, new Set(seeds).size, Math.max(...seeds));
    return [...new Set(seeds)];
  }
  if (t === '0') throw new UserError('--seeds 0 asks for no seeds (N means seeds 0..N-1); for seed 0 alone write --seeds 0-0');
  if (!/^\d+$/.test(t)) throw new UserError(`--seeds takes N (>= 1), A-B or a,b,c with non-negative integers, got "${text}"`);
  checkSeedBounds(t, Number(t), Number(t) - 1);
  return Array.from({ length: Number(t) }, (_, i) => i);
}

function workerCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UserError(`--workers takes a whole number of processes (0: run in this process), got "${text}"`);
  return Number(text);
}

/** The longest timer Node keeps (2^31 - 1 ms, about 24.8 days); a longer one would fire at once. */
const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function seconds(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_SECONDS)
    throw new UserError(`${flag} takes a positive number of seconds up to ${MAX_TIMEOUT_SECONDS} (24 days), got "${text}"`);
  return value;
}

function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap(splitList);
}

export interface ParsedArgs {
  command: 'run' | 'list' | 'help' | 'merge' | 'report';
  plan: PlanOptions;
  /** --out as typed (relative to where the user stands), or null: the default (DEFAULT_OUT in the workspace root; report: its one run folder). */
  out: string | null;
  json: boolean;
  /** Worker processes at once; 0 = one job after the other in this process. */
  workers: number;
  jobTimeoutSeconds: number;
  shard: Shard | null;
  /** --take-lock: write even though a lock names a run elsewhere. */
  takeLock: boolean;
  /** merge: the shard folders; report: the run folders. */
  mergeDirs: string[];
}

const LIST_FLAGS = Object.entries(OPTIONS).filter(([, o]) => 'multiple' in o).map(([name]) => name);

/** Refuses a single-valued flag given more than once (parseArgs would silently keep the last). */
function refuseRepeatedFlags(tokens: ReadonlyArray<{ kind: string; name?: string; value?: string }>): void {
  const given = new Map<string, string[]>();
  for (const t of tokens)
    if (t.kind === 'option' && t.name && OPTIONS[t.name as keyof typeof OPTIONS]?.type === 'string' && !LIST_FLAGS.includes(t.name))
      given.set(t.name, [...(given.get(t.name) ?? []), t.value ?? '']);
  for (const [name, values] of given)
    if (values.length > 1)
      throw new UserError(`--${name} is given ${values.length} times (${values.map((v) => JSON.stringify(v)).join(', ')}); give it once (only ${LIST_FLAGS.map((f) => `--${f}`).join(', ')} take several)`);
}

export function parseCli(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw new UserError(`${(err as Error).message.replace(/\n/g, ' ')}\n${USAGE}`); // whole: its later lines say how to fix it
  }
  const { values, positionals, tokens } = parsed;
  refuseRepeatedFlags(tokens);
  const command = values.help ? 'help' : positionals[0] === 'list' ? 'list' : positionals[0] === 'merge' ? 'merge' : positionals[0] === 'report' ? 'report' : 'run';
  if (command !== 'merge' && command !== 'report' && positionals.length > (command === 'list' ? 1 : 0))
    throw new UserError(`unknown command "${positionals.join(' ')}"; valid: list, merge, report (or none to run)\n${USAGE}`);
  if (values.out !== undefined && values.out.trim() === '') throw new UserError('--out is empty; give the folder results go to, e.g. --out results/my-run');
  if (command === 'report') {
    if (positionals.length < 2) throw new UserError('report takes run folders: pnpm bench report DIR (the --out of a pnpm bench run), or DIR... --out DIR');
    if (positionals.length > 2 && values.out === undefined) throw new UserError(`report of ${positionals.length - 1} runs: say where it goes with --out DIR`);
    const other = Object.keys(values).filter((k) => k !== 'out');
    if (other.length) throw new UserError(`report takes run folders and --out, not --${other.join(', --')}`);
  }
  if (command === 'merge') {
    const other = Object.keys(values).filter((k) => k !== 'out' && k !== 'json' && k !== 'take-lock');
    if (other.length) throw new UserError(`merge takes shard folders, --out, --json and --take-lock, not --${other.join(', --')}: the shards' plan records say what ran`);
    if (positionals.length < 2) throw new UserError(`merge needs the folders of the shards: pnpm bench merge DIR... --out DIR`);
    if (values.out === undefined) throw new UserError('merge needs --out DIR: the folder the merged results.jsonl goes to');
  }
  const protocols = list(values.protocol).flatMap((p) => (p === 'all' ? [...PROTOCOLS] : [p]));
  for (const p of protocols) if (!(PROTOCOLS as readonly string[]).includes(p)) throw new UserError(`unknown protocol "${p}"; valid: ${PROTOCOLS.join(', ')}`);
  const budgets = values.budgets !== undefined ? splitList(values.budgets).map((b) => positiveInt(b, '--budgets', MAX_BUDGET)) : values.full ? FULL_BUDGETS : QUICK_BUDGETS;
  if (values.budgets !== undefined && budgets.length === 0) throw new UserError('--budgets is empty; give e.g. --budgets 256,1024');
  const seeds = values.seeds !== undefined ? parseSeeds(values.seeds) : values.full ? [0, 1, 2, 3, 4] : [0];
  return {
    command,
    plan: {
      models: list(values.model),
      scenarios: list(values.scenario),
      views: list(values.view),
      protocols: protocols.length ? [...new Set(protocols)] as Protocol[] : ['offline'],
      budgets: [...new Set(budgets)].sort((a, b) => a - b),
      seeds,
      horizon: values.horizon !== undefined ? positiveInt(values.horizon, '--horizon') : null,
      testEpisodes: values['test-episodes'] !== undefined ? positiveInt(values['test-episodes'], '--test-episodes', MAX_EPISODES) : 64,
      oodEpisodes: values['ood-episodes'] !== undefined ? positiveInt(values['ood-episodes'], '--ood-episodes', MAX_EPISODES) : 64,
    },
    out: values.out ?? null,
    json: values.json === true,
    workers: values.workers !== undefined ? workerCount(values.workers) : availableParallelism(),
    jobTimeoutSeconds: values['job-timeout'] !== undefined ? seconds(values['job-timeout'], '--job-timeout') : DEFAULT_JOB_TIMEOUT_SECONDS,
    shard: values.shard !== undefined ? parseShard(values.shard) : null,
    takeLock: values['take-lock'] === true,
    mergeDirs: command === 'merge' || command === 'report' ? positionals.slice(1) : [],
  };
}

async function printList(registry: Registry, write: (s: string) => void): Promise<void> {
  write('models:\n');
  for (const m of registry.models) {
    const module = await modelModule(m);
    write(`  ${m.id.padEnd(18)} ${module.card.school.padEnd(16)} ${module.card.summary}\n`);
  }
  write('\nscenarios:\n');
  const scenarios = await Promise.all(registry.scenarios.map(async (s) => ({ entry: s, scenario: await scenarioModule(s) })));
  for (const { entry, scenario } of scenarios) {
    const views = forecastViews(scenario.spec).map((v) => `${v} [${scenario.spec.views[v].shape}] ${scenario.spec.views[v].kind}`);
    write(`  ${entry.id.padEnd(22)} ${scenario.spec.summary}\n  ${''.padEnd(22)} views: ${views.join('; ')}\n`);
  }
  write('\nwhich model reads which view:\n');
  for (const m of registry.models) {
    const module = await modelModule(m);
    for (const { entry, scenario } of scenarios) {
      const s = module.supports(scenario.spec, privilegedInfo(module, module.defaults, scenario));
      write(`  ${m.id.padEnd(18)} ${entry.id.padEnd(22)} ${s.views.length ? s.views.join(', ') : `none: ${'reason' in s ? s.reason : ''}`}\n`);
    }
  }
}

/** The results folder of a run: --out from where the user stands, or the default under the workspace root. */
function outFolder(args: ParsedArgs, root: string): string {
  return args.out === null ? join(root, DEFAULT_OUT) : fromUser(args.out);
}

/** Runs the CLI; returns the exit code (0 ok, 1 a job failed or is missing, 2 bad input). */
export async function main(argv: string[], io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    const args = parseCli(argv);
    if (args.command === 'help') {
      io.stdout.write(USAGE + '\n');
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
      const report = await writeReport(args.mergeDirs.map(fromUser), out);
      for (const s of report.skipped) io.stderr.write(`skipped ${s.lines} line(s) of ${s.file} that are not results (e.g. ${s.problem}); a pnpm bench run into that folder sets them aside\n`);
      io.stdout.write(`report: ${report.file}\n`);
      return 0;
    }
    const registry = discoverPlugins(findWorkspaceRoot());
    if (args.command === 'list') {
      await printList(registry, (s) => io.stdout.write(s));
      return 0;
    }
    const dir = outFolder(args, registry.root);
    checkOutFolder(dir);
    const plan = await planJobs(registry, args.plan);
    if (plan.length === 0) throw new UserError('nothing to run: no chosen model reads any chosen view');
    const planned = args.shard ? shardJobs(plan, args.shard) : plan;
    const pool = poolSize(args.workers, planned.length, availableParallelism());
    // everything is validated: only now touch the disk (the results file's lock first)
    const store = ResultsStore.open(dir, resultsFileName(args.shard), lock);
    try {
      writePlanRecord(dir, planRecord(plan, args.shard, runEnv(registry.root, 'none').commit, argv));
      const repaired = describeRepairs(store.repairs, store.file);
      if (repaired) io.stderr.write(repaired + '\n');
      if (pool.warning) io.stderr.write(pool.warning + '\n');
      if (args.shard && planned.length === 0) io.stderr.write(`shard ${args.shard.index}/${args.shard.count} has no jobs: the plan has ${plan.length}\n`);
      const progress = sweepProgress(io.stderr);
      progress.start(planned.length);
      const results = withDerived(await runSweep(planned, store, { workers: pool.workers, jobTimeoutSeconds: args.jobTimeoutSeconds, root: registry.root }, progress));
      progress.stop();
      if (args.json) io.stdout.write(JSON.stringify({ results }, null, 1) + '\n');
      else io.stdout.write(formatTables(results) + `\n\nresults: ${store.file}\n`);
      const failed = results.filter((r) => r.status === 'failed');
      if (failed.length) io.stderr.write(`${failed.length} job(s) failed; rerun the same command to retry them\n`);
      return failed.length ? 1 : 0;
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
