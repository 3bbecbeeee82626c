// The commands and flags of `pnpm bench`, in one table: the parser (cli.ts, node:util parseArgs) reads its
// types from it, which command takes which flag is checked against it, and --help is written from it, so
// the help cannot drift from what the parser accepts (test/cli-help.test.ts).
import { PROTOCOLS, SPECIALIST_PROTOCOLS } from './jobs';
import { grouped, MAX_BUDGET, MAX_EPISODES, MAX_PLAN_JOBS, MAX_SEED, MAX_SEEDS } from './limits';
import { FULL_BUDGETS, QUICK_BUDGETS } from './plan';

/** A job still running after an hour is taken for hung. */
export const DEFAULT_JOB_TIMEOUT_SECONDS = 3600;

/** Where results go without --out, under the workspace root. */
export const DEFAULT_OUT = 'results/default';

/** A sweep of more new jobs than this says its count and estimate before it starts. */
export const LARGE_SWEEP_JOBS = 500;

export const COMMANDS = {
  run: {
    synopsis: 'pnpm bench',
    takes: null,
    summary: 'plan the jobs, run those not in the results file yet, print a table per (scenario, view)',
  },
  list: {
    synopsis: 'pnpm bench list [--config MODEL]',
    takes: null,
    summary:
      "the models, the scenarios, and which model reads which view; with --config MODEL, that model's config keys",
  },
  check: {
    synopsis: 'pnpm bench check MODEL | SCENARIO',
    takes: 'one model or scenario',
    summary:
      'the conformance checks as a command: a model against every scenario it reads, or a scenario with the ' +
      'baselines; exit 1 on a failure',
  },
  merge: {
    synopsis: 'pnpm bench merge DIR... --out DIR',
    takes: 'shard folders',
    summary:
      'adds the results of shard folders to --out DIR/results.jsonl, keeping what it holds; refuses shards of other ' +
      'plans or code, and two different results of one job',
  },
  report: {
    synopsis: 'pnpm bench report DIR...',
    takes: 'run folders',
    summary: 'writes DIR/report.html and DIR/leaderboard.md (of several runs together with --out DIR)',
  },
  export: {
    synopsis: 'pnpm bench export DIR... [--out FILE]',
    takes: 'run folders',
    summary:
      'a tidy table for pandas or a spreadsheet: one row per (job, split, metric, horizon) of the ok jobs, config ' +
      'flattened into columns',
  },
} as const;
export type Command = keyof typeof COMMANDS;

interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: true;
  short?: string;
  /** The value's name in the help (string flags). */
  arg?: string;
  /** The commands that take it; absent: every command. */
  commands?: readonly Command[];
  help: string;
}

export const OPTIONS = {
  model: {
    type: 'string',
    multiple: true,
    arg: 'a,b',
    commands: ['run'],
    help:
      "model ids, with typed overrides: 'linear[ridge=0.01]' (default: every registered model); or the path of " +
      'a module that default-exports a WorldModelModule: --model ./my-model.ts; or an ONNX file: --model ' +
      'onnx:model.onnx',
  },
  scenario: {
    type: 'string',
    multiple: true,
    arg: 'x,y',
    commands: ['run'],
    help: 'scenario names or versioned ids (default: every registered scenario)',
  },
  view: {
    type: 'string',
    multiple: true,
    arg: 'v',
    commands: ['run'],
    help: 'only these views (default: every view each model reads)',
  },
  protocol: {
    type: 'string',
    multiple: true,
    arg: 'p',
    commands: ['run'],
    help:
      `${PROTOCOLS.join(' | ')} | all (default: offline; all: ${SPECIALIST_PROTOCOLS.join(', ')}; the generalist ` +
      `protocols fit one model on every chosen scenario at once). --model, --scenario, --view and --protocol may be ` +
      `given several times; any other flag once`,
  },
  'tell-world': {
    type: 'boolean',
    commands: ['run'],
    help:
      'generalist protocols: tell the model which world each training episode and test window came from ' +
      '(default: it is not told, and must infer it)',
  },
  budgets: {
    type: 'string',
    arg: '256,1024',
    commands: ['run'],
    help:
      `training transitions per job, each ` +
      `at most ${grouped(MAX_BUDGET)} (default: the ` +
      `quick grid ${QUICK_BUDGETS.join(',')}; --full: ${FULL_BUDGETS.join(',')})`,
  },
  seeds: {
    type: 'string',
    arg: 'N | A-B | a,b,c',
    commands: ['run'],
    help:
      `N means seeds 0..N-1 (--seeds 50 is 50 seeds: check with --dry-run); A-B a range; a,b,c a list (default ` +
      `1; --full 5). Seeds are 0..${grouped(MAX_SEED)}, at most ${grouped(MAX_SEEDS)} in one run; leaderboard seeds ` +
      `are 1000 on`,
  },
  horizon: { type: 'string', arg: 'H', commands: ['run'], help: "forecast steps (default: each scenario's own)" },
  'test-episodes': {
    type: 'string',
    arg: 'N',
    commands: ['run'],
    help: `evaluation windows of the test split (default 64, at most ${grouped(MAX_EPISODES)})`,
  },
  'ood-episodes': {
    type: 'string',
    arg: 'N',
    commands: ['run'],
    help: `evaluation windows of the out-of-distribution split (default 64, at most ${grouped(MAX_EPISODES)})`,
  },
  full: { type: 'boolean', commands: ['run'], help: `the full grid: budgets ${FULL_BUDGETS.join(',')} x 5 seeds` },
  out: {
    type: 'string',
    arg: 'DIR',
    commands: ['run', 'merge', 'report', 'export'],
    help:
      `run: the run folder, relative to where you stand (default: ${DEFAULT_OUT} in the workspace root), ` +
      `results in DIR/results.jsonl; merge: the folder merged into; report: where report.html and leaderboard.md go ` +
      `(default: the one run folder); export: the FILE written (default: DIR/results.csv or .parquet of the one ` +
      `run folder)`,
  },
  json: { type: 'boolean', commands: ['run', 'merge'], help: 'print { "results": [...] } on stdout instead of tables' },
  'dry-run': {
    type: 'boolean',
    commands: ['run'],
    help:
      'plan only: print how many jobs are new, already done and to retry, and the wall time past results ' +
      'suggest; run and write nothing',
  },
  config: {
    type: 'string',
    arg: 'MODEL',
    commands: ['list'],
    help:
      'list: the config table of MODEL (an id, ./path/to/model.ts): each key with its default, what it takes ' +
      '(range or choices) and why',
  },
  compare: {
    type: 'string',
    arg: 'MODEL',
    commands: ['run', 'report'],
    help:
      'beside every row, its paired difference in skill to MODEL (a model label as in the tables) over the ' +
      'seeds both have, with a 95% interval',
  },
  verbose: {
    type: 'boolean',
    commands: ['run', 'check'],
    help: 'the stack of every failed job (or check) in the summary',
  },
  workers: {
    type: 'string',
    arg: 'N',
    commands: ['run'],
    help:
      'jobs at once, each in its own child process on one thread (default: the number of cores; never more than ' +
      'the jobs planned); 0 runs them one by one inside this process (debugging: no timeout, no crash isolation)',
  },
  'job-timeout': {
    type: 'string',
    arg: 'SECONDS',
    commands: ['run'],
    help:
      `seconds after which a job's process is killed and the job recorded as failed ` +
      `(default ${DEFAULT_JOB_TIMEOUT_SECONDS})`,
  },
  shard: {
    type: 'string',
    arg: 'i/n',
    commands: ['run'],
    help:
      'only the jobs at places i, i+n, i+2n, ... of the sorted plan (0 <= i < n), stored in ' +
      'DIR/results.shard-i-of-n.jsonl; join the shards with merge (docs/scaling.md)',
  },
  'take-lock': {
    type: 'boolean',
    commands: ['run', 'merge'],
    help:
      'write the results file even though its lock names a run on another host (or a lock that names no one): ' +
      'only when that run is gone. A lock of a dead process on this host is taken over without it',
  },
  format: { type: 'string', arg: 'csv|parquet', commands: ['export'], help: 'export: the file format (default csv)' },
  all: {
    type: 'boolean',
    commands: ['export'],
    help:
      'export: failed and unsupported jobs in the same file (a row each, with status and reason); without it ' +
      'they go to a second file beside it, FILE.failed.csv',
  },
  version: { type: 'boolean', help: 'the version of worldbench, its commit and Node' },
  help: { type: 'boolean', short: 'h', help: 'this text' },
} as const satisfies Record<string, OptionSpec>;
export type OptionName = keyof typeof OPTIONS;

/** The flags a command takes (--help and --version go with any). */
export function flagsOf(command: Command): OptionName[] {
  return (Object.keys(OPTIONS) as OptionName[]).filter((name) => {
    const commands = (OPTIONS[name] as OptionSpec).commands;
    return commands === undefined || commands.includes(command);
  });
}

const EXAMPLES = [
  ['pnpm bench --model jepa', 'jepa on every scenario view it reads, on the quick grid'],
  ['pnpm bench --model linear,persistence --scenario bouncing-balls --budgets 256,1024 --seeds 2', ''],
  ["pnpm bench --model 'linear[ridge=0.1]' --view state --json > results.json", ''],
  ['pnpm bench --full --seeds 1000-1004 --dry-run', 'how many jobs, and how long, before anything runs'],
  ['pnpm bench --model jepa,linear --compare linear', 'each row beside its paired difference to linear'],
  ['pnpm bench report results/default --compare persistence', ''],
  ['pnpm bench export results/default --format parquet', 'results/default/results.parquet, for pandas'],
  ['pnpm bench check ./my-model.ts', 'the conformance checks of a model file on every scenario it reads'],
] as const;

/** Words wrapped to `width` columns, every line after the first indented by `indent`. */
function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width - indent) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join('\n' + ' '.repeat(indent));
}

const flagText = (name: OptionName) => {
  const o = OPTIONS[name] as OptionSpec;
  return `--${name}${o.arg ? ` ${o.arg}` : ''}`;
};

/** The usage line of one command: its synopsis and flags. */
export function usageOf(command: Command): string {
  const synopsis: string = COMMANDS[command].synopsis;
  // a flag the synopsis spells out itself (merge's --out DIR, export's --out FILE) is not listed again
  const flags = flagsOf(command)
    .filter((f) => f !== 'help' && f !== 'version' && !synopsis.includes(`--${f} `))
    .map((f) => `[${flagText(f)}]`);
  return wrap([synopsis, ...flags].join(' '), 110, 6);
}

/** `pnpm bench --help`. */
export function helpText(): string {
  const commands = (Object.keys(COMMANDS) as Command[]).map(
    (c) => `  ${c.padEnd(7)} ${wrap(COMMANDS[c].summary, 110, 10)}`,
  );
  const width = Math.max(...(Object.keys(OPTIONS) as OptionName[]).map((n) => flagText(n).length)) + 2;
  const options = (Object.keys(OPTIONS) as OptionName[]).map((n) => {
    const o = OPTIONS[n] as OptionSpec;
    const short = 'short' in o && o.short ? `, -${o.short}` : '';
    const where = o.commands ? ` [${o.commands.join(', ')}]` : '';
    return `  ${(flagText(n) + short).padEnd(width)}${wrap(o.help + where, 110, width + 2)}`;
  });
  const examples = EXAMPLES.map(([cmd, what]) => `  ${cmd}${what ? `\n      ${what}` : ''}`);
  return [
    'usage:',
    ...(Object.keys(COMMANDS) as Command[]).map((c) => `  ${usageOf(c)}`),
    '',
    'commands:',
    ...commands,
    '',
    'flags ([the commands that take them]):',
    ...options,
    `  A plan of more than ${grouped(MAX_PLAN_JOBS)} jobs is refused: split such a sweep into several runs. A plan ` +
      `of more than ${LARGE_SWEEP_JOBS} new jobs`,
    '  says its count and estimated time before it starts.',
    '',
    'examples:',
    ...examples,
    '',
    'Exit code: 0 every job ok; 1 a job (or check) failed, or merge found jobs missing; 2 bad input (nothing written).',
    'Docs: docs/protocols.md (jobs, protocols, the CLI), docs/metrics.md (metrics, the results format), ' +
      'docs/scaling.md.',
  ].join('\n');
}
