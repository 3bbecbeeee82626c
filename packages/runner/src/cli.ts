// `pnpm bench`: parse flags, plan, run what is not stored yet, print the tables (docs/protocols.md).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { discoverPlugins, findWorkspaceRoot, forecastViews, isUserError, UserError, type Registry } from '@worldbench/core';
import { PROTOCOLS, splitList, type Protocol } from './jobs';
import { FULL_BUDGETS, planJobs, QUICK_BUDGETS, type PlanOptions } from './plan';
import { sweepProgress } from './progress';
import type { JobResult } from './result';
import { modelModule, runJob, scenarioModule } from './run-job';
import { ResultsStore } from './store';
import { formatTables } from './table';

const USAGE = `usage: pnpm bench [list] [--model a,b] [--scenario x,y] [--view v] [--protocol p] [--budgets 256,1024]
                  [--seeds N | A-B | a,b,c] [--horizon H] [--out DIR] [--json] [--full]
  --model       model ids, with typed overrides: 'linear[ridge=0.01]' (default: every registered model)
  --scenario    scenario names or versioned ids (default: every registered scenario)
  --view        only these views (default: every view each model reads)
  --protocol    ${PROTOCOLS.join(' | ')} (default: offline)
  --budgets     training transitions per job (default: quick grid ${QUICK_BUDGETS.join(',')}; --full: ${FULL_BUDGETS.join(',')})
  --seeds       N means seeds 0..N-1; A-B a range; a,b,c a list (default 1; --full 5). Leaderboard: 1000-1004
  --horizon     forecast steps (default: each scenario's own)
  --out         run directory (default: results/default); results go to DIR/results.jsonl
  --json        print { "results": [...] } on stdout instead of tables
  --full        the full grid: budgets ${FULL_BUDGETS.join(',')} x 5 seeds`;

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
  help: { type: 'boolean', short: 'h' },
} as const;

function positiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) <= 0) throw new UserError(`${flag} takes positive integers, got "${text}"`);
  return Number(text);
}

export function parseSeeds(text: string): number[] {
  const t = text.trim();
  const range = /^(\d+)-(\d+)$/.exec(t);
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (b < a) throw new UserError(`--seeds ${t}: the range must go up (A-B with A <= B)`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  if (t.includes(',')) {
    const seeds = t.split(',').map((s) => {
      if (!/^\d+$/.test(s.trim())) throw new UserError(`--seeds takes N, A-B or a,b,c with non-negative integers, got "${text}"`);
      return Number(s);
    });
    return [...new Set(seeds)];
  }
  if (!/^\d+$/.test(t) || Number(t) === 0) throw new UserError(`--seeds takes N (>= 1), A-B or a,b,c with non-negative integers, got "${text}"`);
  return Array.from({ length: Number(t) }, (_, i) => i);
}

function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap(splitList);
}

export interface ParsedArgs {
  command: 'run' | 'list' | 'help';
  plan: PlanOptions;
  out: string;
  json: boolean;
}

export function parseCli(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UserError(`${(err as Error).message.split('\n')[0]}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const command = values.help ? 'help' : positionals[0] === 'list' ? 'list' : 'run';
  if (positionals.length > (command === 'list' ? 1 : 0)) throw new UserError(`unknown command "${positionals.join(' ')}"; valid: list (or none to run)\n${USAGE}`);
  const protocols = list(values.protocol);
  for (const p of protocols) if (!(PROTOCOLS as readonly string[]).includes(p)) throw new UserError(`unknown protocol "${p}"; valid: ${PROTOCOLS.join(', ')}`);
  const budgets = values.budgets !== undefined ? splitList(values.budgets).map((b) => positiveInt(b, '--budgets')) : values.full ? FULL_BUDGETS : QUICK_BUDGETS;
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
      testEpisodes: values['test-episodes'] !== undefined ? positiveInt(values['test-episodes'], '--test-episodes') : 64,
      oodEpisodes: values['ood-episodes'] !== undefined ? positiveInt(values['ood-episodes'], '--ood-episodes') : 64,
    },
    out: values.out ?? 'results/default',
    json: values.json === true,
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
      const s = module.supports(scenario.spec, { hypotheses: scenario.hypotheses });
      write(`  ${m.id.padEnd(18)} ${entry.id.padEnd(22)} ${s.views.length ? s.views.join(', ') : `none: ${'reason' in s ? s.reason : ''}`}\n`);
    }
  }
}

/** Runs the CLI; returns the exit code (0 ok, 1 a job failed, 2 bad input). */
export async function main(argv: string[], io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    const args = parseCli(argv);
    if (args.command === 'help') {
      io.stdout.write(USAGE + '\n');
      return 0;
    }
    const registry = discoverPlugins(findWorkspaceRoot());
    if (args.command === 'list') {
      await printList(registry, (s) => io.stdout.write(s));
      return 0;
    }
    const planned = await planJobs(registry, args.plan);
    if (planned.length === 0) throw new UserError('nothing to run: no chosen model reads any chosen view');
    // everything is validated: only now touch the disk
    const store = ResultsStore.open(resolve(args.out));
    if (store.dropped) io.stderr.write(`dropped ${store.dropped} torn or unreadable line(s) from ${store.file}\n`);
    const progress = sweepProgress(io.stderr);
    progress.start(planned.length);
    const results: JobResult[] = [];
    for (const p of planned) {
      const label = `${p.job.model} ${p.job.scenario}/${p.job.view} ${p.job.protocol} b=${p.job.budget} seed=${p.job.seed}`;
      const stored = store.get(p.key);
      if (stored && stored.status !== 'failed') {
        results.push(stored);
        progress.jobFinished(label, stored.status, 0, true);
        continue;
      }
      progress.jobStarted(label);
      const t0 = performance.now();
      const result = await runJob(p, registry.root, {
        seed: p.job.seed,
        signal: new AbortController().signal,
        log: (m) => progress.log(`${label}: ${m}`),
        progress: (d, t, note) => progress.inner(d, t, note),
      });
      store.append(result);
      results.push(result);
      progress.jobFinished(label, result.status === 'failed' ? `failed: ${result.error}` : result.status, (performance.now() - t0) / 1000, false);
    }
    progress.stop();
    if (args.json) io.stdout.write(JSON.stringify({ results }, null, 1) + '\n');
    else io.stdout.write(formatTables(results) + `\n\nresults: ${store.file}\n`);
    const failed = results.filter((r) => r.status === 'failed');
    if (failed.length) io.stderr.write(`${failed.length} job(s) failed; rerun the same command to retry them\n`);
    return failed.length ? 1 : 0;
  } catch (err) {
    if (isUserError(err)) {
      io.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
