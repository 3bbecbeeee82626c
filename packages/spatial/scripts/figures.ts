// Benchmark figures for the README: spatial (and the persistence and linear baselines) on one image view,
// offline protocol, evaluated exactly as `pnpm bench` does (evaluateModel), one line per seed, then the medians.
// Run: pnpm exec tsx packages/spatial/scripts/figures.ts <scenario> <budget> [seeds=1000-1004] [config JSON]
//   e.g. pnpm exec tsx packages/spatial/scripts/figures.ts sprite-world 4096 1000-1004 '{"actionFree":true}'
import { discoverPlugins, evaluateModel, findWorkspaceRoot, loadScenario } from '@worldbench/core';
import { linear, persistence } from '@worldbench/baselines';
import { loadavg } from 'node:os';
import spatial from '../src/index';

const [name, budgetText, seedText = '1000-1004', configText = '{}'] = process.argv.slice(2);
if (!name || !budgetText) throw new Error('usage: figures.ts <scenario> <budget> [seeds A-B] [config JSON]');
const entry = discoverPlugins(findWorkspaceRoot()).scenarios.find((s) => s.id === name || s.id.startsWith(`${name}-v`));
if (!entry) throw new Error(`no scenario "${name}"`);
const scenario = await loadScenario(entry.entry);
const budget = Number(budgetText),
  config = JSON.parse(configText);
const [lo, hi] = seedText.split('-').map(Number);
const seeds = Array.from({ length: (hi ?? lo) - lo + 1 }, (_, i) => lo + i);
const view = 'frame';

type Row = Record<string, number | null>;
const rows: Row[] = [];
for (const seed of seeds) {
  const t0 = performance.now();
  const r = await evaluateModel(spatial, scenario, { view, budget, seed, config });
  const seconds = (performance.now() - t0) / 1000;
  const latent = (r.explain?.latentActions ?? {}) as Record<string, unknown>;
  const tokenizer = (r.explain?.tokenizer ?? {}) as Record<string, unknown>;
  const base = async (m: typeof linear) => {
    const b = await evaluateModel(m, scenario, { view, budget, seed });
    await b.model.dispose?.();
    return b.metrics.test;
  };
  const lin = await base(linear),
    per = await base(persistence);
  const row: Row = {
    seed,
    skill1: r.metrics.test.skill['1'],
    skillH: r.metrics.test.skill[String(scenario.spec.horizon)],
    psnr1: r.metrics.test.psnr?.['1'] ?? null,
    dtPsnr4: r.metrics.test.dtPsnr?.['4'] ?? null,
    nmi: typeof latent.nmi === 'number' ? latent.nmi : null,
    codesUsed: typeof latent.used === 'number' ? latent.used : null,
    tokenPerplexity: typeof tokenizer.perplexity === 'number' ? tokenizer.perplexity : null,
    tokenReconstructionMse: typeof tokenizer.reconstructionMse === 'number' ? tokenizer.reconstructionMse : null,
    linearSkill1: lin.skill['1'],
    linearSkillH: lin.skill[String(scenario.spec.horizon)],
    persistenceMse1: per.mse['1'],
    mse1: r.metrics.test.mse['1'],
    seconds,
  };
  await r.model.dispose?.();
  rows.push(row);
  console.log(JSON.stringify(row), `load ${loadavg()[0].toFixed(1)}`);
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const keys = Object.keys(rows[0]).filter((k) => k !== 'seed');
const medians = Object.fromEntries(
  keys.map((k) => [k, rows.every((r) => r[k] !== null) ? +median(rows.map((r) => r[k] as number)).toFixed(4) : null]),
);
console.log(
  `${entry.id} ${view} budget ${budget} seeds ${seedText} config ${configText}: median`,
  JSON.stringify(medians),
);
