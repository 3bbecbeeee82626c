// Benchmark figures: jepa (and the linear baseline) on one state view, offline protocol, evaluated exactly as
// `pnpm bench` does (evaluateModel), one line per seed, then the medians.
// Run: pnpm exec tsx packages/jepa/scripts/figures.ts <scenario> <budget> [seeds=1000-1004] [config JSON]
//   e.g. pnpm exec tsx packages/jepa/scripts/figures.ts life-like 4096 1000-1004 '{"gridEncoder":"patches"}'
import { loadavg } from 'node:os';
import { linear } from '@worldbench/baselines';
import { evaluateModel } from '@worldbench/core';
import { median, scenarioNamed } from '../../../scripts/figures/common';
import jepa from '../src/index';

const [name, budgetText, seedText = '1000-1004', configText = '{}'] = process.argv.slice(2);
if (!name || !budgetText) {
  console.error('usage: figures.ts <scenario> <budget> [seeds A-B] [config JSON]');
  process.exit(2);
}
const scenario = await scenarioNamed(name);
const budget = Number(budgetText),
  config = JSON.parse(configText);
const [lo, hi] = seedText.split('-').map(Number);
const seeds = Array.from({ length: (hi ?? lo) - lo + 1 }, (_, i) => lo + i);
const view = 'state';
const H = scenario.spec.horizon;

type Row = Record<string, number | null>;
const rows: Row[] = [];
for (const seed of seeds) {
  const t0 = performance.now();
  const r = await evaluateModel(jepa, scenario, { view, budget, seed, config });
  const seconds = (performance.now() - t0) / 1000;
  await r.model.dispose?.();
  const lin = await evaluateModel(linear, scenario, { view, budget, seed });
  const at = (m: Record<string, number | null> | undefined, h: number) => m?.[String(h)] ?? null;
  const row: Row = {
    seed,
    skill1: at(r.metrics.test.skill, 1),
    [`skill${H}`]: at(r.metrics.test.skill, H),
    accStep1: at(r.metrics.test.accStep, 1),
    accElement1: at(r.metrics.test.accElement, 1),
    oodSkill1: at(r.metrics.ood.skill, 1),
    linearSkill1: at(lin.metrics.test.skill, 1),
    [`linearSkill${H}`]: at(lin.metrics.test.skill, H),
    seconds,
  };
  rows.push(row);
  console.log(JSON.stringify(row), `load ${loadavg()[0].toFixed(1)}`);
}
const keys = Object.keys(rows[0]).filter((k) => k !== 'seed');
const medians = Object.fromEntries(
  keys.map((k) => [k, rows.every((r) => r[k] !== null) ? +median(rows.map((r) => r[k] as number)).toFixed(4) : null]),
);
console.log(`median over seeds ${seedText} (${scenario.spec.id} ${view}, budget ${budget}):`, JSON.stringify(medians));
