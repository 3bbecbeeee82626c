// The benchmark figures of possible-worlds' default (library 'search', told only the spec) on the discrete
// views, leaderboard seeds 1000-1019 (docs/experiments/2026-12-06-possible-worlds-discrete.md). Each job is
// derived exactly as `pnpm bench` derives it (core's evaluateModel); fit times at budget 4096 are timed on the
// training set the bench would hand the model (offline: the expert's data).
// Run: pnpm exec tsx scripts/figures/possible-worlds-discrete.ts [life-like] [code-trace] [sprite-world] [fit-time]
import { loadavg } from 'node:os';
import {
  evaluateModel,
  evaluationSet,
  forecastWindows,
  jobWorld,
  quietRun,
  trainingSet,
  type PolicyName,
  type Scenario,
} from '@worldbench/core';
import { ruleNotation, type LifeWorld } from '@worldbench/life-like';
import possibleWorlds from '@worldbench/possible-worlds';
import { fmt, median, scenarioNamed, SEEDS, sections } from './common';

const seeds = SEEDS;
const load = scenarioNamed;
const run = sections();
const job = (scenario: Scenario, budget: number, seed: number, policy: PolicyName = 'behavior', horizon?: number) =>
  evaluateModel(possibleWorlds, scenario, { view: 'state', budget, seed, policy, horizon });

if (run('life-like')) {
  const scenario = await load('life-like');
  const notes: string[] = [];
  let exact = 0,
    readBack = 0,
    withNotation = 0;
  const h1: number[] = [];
  for (const seed of seeds) {
    const r = await job(scenario, 256, seed, 'behavior', 32);
    const acc = Array.from({ length: 32 }, (_, h) => r.metrics.test.accStep[String(h + 1)]!);
    const best = (r.explain as any).ranked[0];
    if (acc.every((a) => a === 1)) exact++;
    else
      notes.push(
        `${seed}: first wrong step ` +
          `at h = ${acc.findIndex((a) => a < 1) + 1}, accStep ` +
          `h = 32 ` +
          `${fmt(acc[31])}; ${best.id}, ${JSON.stringify(best.table.notation ?? best.table)}; answered ` +
          `${JSON.stringify(best.answered)}`,
      );
    h1.push(r.metrics.test.skill['1']!);
    // the rule read back against the world's (life-like's own B/S notation, digits without commas)
    const truth = ruleNotation((r.world as LifeWorld).rule);
    if (best.table.notation) withNotation++, best.table.notation.replaceAll(',', '') === truth && readBack++;
    notes.push(
      `${seed}: ${best.id} ${best.table.notation ?? ''} (world ${truth}; ood ` +
        `accStep h = 1 ${fmt(r.metrics.ood.accStep['1']!)})`,
    );
  }
  console.log(
    `life-like-v1 state, budget 256: every step exact to h ` +
      `= 32 in ${exact}/20 seeds; median ` +
      `skill h = 1 ${fmt(median(h1))}; B/S read back equal to the world's ` +
      `rule in ${readBack} of the ${withNotation} seeds whose first world is outer-totalistic`,
  );
  for (const n of notes) console.log(`  ${n}`);
}

if (run('code-trace')) {
  const scenario = await load('code-trace');
  const acc: number[] = [],
    ood: number[] = [],
    accH: number[] = [],
    oodH: number[] = [],
    notes: string[] = [];
  let read = 0;
  for (const seed of seeds) {
    const r = await job(scenario, 1024, seed);
    const best = (r.explain as any).ranked[0];
    acc.push(r.metrics.test.accStep['1']!),
      ood.push(r.metrics.ood.accStep['1']!),
      accH.push(r.metrics.test.accStep['8']!),
      oodH.push(r.metrics.ood.accStep['8']!);
    const wrong = Object.entries(best.programs ?? {}).filter(([, p]) => / wrong\)/.test(p as string));
    // the machine read as it is: the pointer x0, the opcode in column 0, the world's modulus, every program exact
    if (
      best.layout?.pointer === 'x0' &&
      best.layout.opcodeColumn === 0 &&
      best.layout.modulus === (r.world as { modulus: number }).modulus &&
      !wrong.length
    )
      read++;
    notes.push(
      `${seed}: accStep h = 1 ` +
        `${fmt(acc.at(-1)!)} (ood ` +
        `${fmt(ood.at(-1)!)}), h = 8 ` +
        `${fmt(accH.at(-1)!)} (ood ` +
        `${fmt(oodH.at(-1)!)}); ` +
        `${best.id}; modulus ` +
        `${best.layout?.modulus} (world ` +
        `${(r.world as { modulus: number }).modulus}); ` +
        `${Object.keys(best.programs ?? {}).length} instructions, ` +
        `${wrong.length} inexact; fallback answers (test ` +
        `and ood) ` +
        `${best.answered?.fallback}${seed === seeds[0] ? `; programs ` + `${JSON.stringify(best.programs)}` : ''}`,
    );
  }
  console.log(
    `code-trace-v1 state, budget 1024: accStep h = 1 >= 0.99 in ${acc.filter((a) => a >= 0.99).length}/20 seeds ` +
      `(median ${fmt(median(acc))}, min ${fmt(Math.min(...acc))}); ood accStep h = 1 ` +
      `median ${fmt(median(ood))}, min ${fmt(Math.min(...ood))}; h = 8 ` +
      `median ${fmt(median(accH))} (ood ${fmt(median(oodH))}); pointer, opcode column, modulus and every ` +
      `program right in ${read}/20`,
  );
  for (const n of notes) console.log(`  ${n}`);
}

/**
 * The test windows a model gets wrong at h = 1, by what truly happened: a push (3 cells change), a walk (2), nothing.
 */
async function wrongByKind(
  scenario: Scenario,
  r: Awaited<ReturnType<typeof job>>,
  seed: number,
): Promise<Record<string, number>> {
  const set = evaluationSet(scenario, r.world, 'test', seed, { count: 64, horizon: scenario.spec.horizon });
  const w = forecastWindows(scenario.spec, 'state', set.observed, set.clean, set.starts, scenario.spec.historySteps, 1);
  const f = await r.model.forecast(w.query, quietRun(seed));
  const D = f.mean.data.length / set.starts.length,
    kinds: Record<string, number> = {};
  for (let b = 0; b < set.starts.length; b++) {
    const cells = (t: ArrayLike<number>) => Array.from(t).slice(b * D, (b + 1) * D);
    const [pred, truth, last] = [cells(f.mean.data), cells(w.truth.data), cells(w.lastObserved.data)];
    if (pred.every((v, i) => v === truth[i])) continue;
    const changed = truth.filter((v, i) => v !== last[i]).length;
    const kind = { 0: 'nothing moved', 2: 'walk', 3: 'push' }[changed] ?? `${changed} cells changed`;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

if (run('sprite-world')) {
  const scenario = await load('sprite-world');
  for (const policy of ['explore', 'behavior'] as const) {
    const h1: number[] = [],
      h8: number[] = [],
      ood1: number[] = [],
      notes: string[] = [];
    const wrong: Record<string, number> = {};
    for (const seed of seeds) {
      const r = await job(scenario, 1024, seed, policy);
      const best = (r.explain as any).ranked[0];
      h1.push(r.metrics.test.skill['1']!), h8.push(r.metrics.test.skill['8']!), ood1.push(r.metrics.ood.skill['1']!);
      const kinds = await wrongByKind(scenario, r, seed);
      for (const [k, n] of Object.entries(kinds)) wrong[k] = (wrong[k] ?? 0) + n;
      notes.push(
        `${seed}: skill h = 1 ` +
          `${fmt(h1.at(-1)!)}, h = 8 ` +
          `${fmt(h8.at(-1)!)}, ood h = 1 ` +
          `${fmt(ood1.at(-1)!)}; ${best.id}; wrong ` +
          `at h = 1 ` +
          `${JSON.stringify(kinds)}${best.assumptions ? `; assumed: ${best.assumptions.join(' | ')}` : ''}`,
      );
    }
    console.log(
      `sprite-world-v1 state, ` +
        `budget 1024, ${policy === 'explore' ? 'offline-explore' : 'offline'}: median ` +
        `skill h = 1 ` +
        `${fmt(median(h1))} (min ` +
        `${fmt(Math.min(...h1))}), h = 8 ` +
        `${fmt(median(h8))}; ood h = 1 ` +
        `${fmt(median(ood1))}; test windows wrong at h = 1 over the 20 seeds (of 1280), by what truly ` +
        `happened: ${JSON.stringify(wrong)}`,
    );
    for (const n of notes) console.log(`  ${n}`);
  }
}

if (run('fit-time')) {
  // wall and CPU seconds of fit() at budget 4096, offline (the expert's data), the default config
  for (const name of ['life-like', 'code-trace', 'sprite-world']) {
    const scenario = await load(name);
    const wall: number[] = [],
      cpu: number[] = [];
    for (const seed of seeds) {
      const train = trainingSet(scenario, jobWorld(scenario, seed), 'behavior', 4096, seed);
      const model = await possibleWorlds.create(scenario.spec, 'state', possibleWorlds.defaults);
      const t0 = performance.now(),
        c0 = process.cpuUsage();
      await model.fit(train.observed, quietRun(seed));
      wall.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e6);
    }
    console.log(
      `${scenario.spec.id} state, fit at budget 4096: ` +
        `median ` +
        `${median(wall).toFixed(2)} s wall (max ` +
        `${Math.max(...wall).toFixed(2)}), ${median(cpu).toFixed(2)} s CPU; load ${loadavg()[0].toFixed(1)}`,
    );
  }
}
