// The on-policy gains of runs of the bench, paired by seed: per (model, scenario, view, budget), the runner's derived
// gains of `on-policy` over `offline`, `offline-explore` and `on-policy-random` (skill at h = 1, docs/protocols.md),
// and the same differences at the largest horizon, each as mean ± standard error over the seeds that have both jobs,
// with mean - 2 SE (the issue's bar: > 0 says the gain is there at about 95% one-sided). Beside them the median skill
// of each protocol at h = 1 and at the largest horizon (a rollout that diverges on one seed swamps a mean, not a
// median). What docs/experiments quote for on-policy learning.
//
//   pnpm exec tsx scripts/figures/on-policy-gains.ts [--per-seed] results/a [results/b ...]
// --per-seed: then each seed's skill at h = 1 / h = H under each protocol, and the world each job selected.
import { join } from 'node:path';
import { readResultLines, type JobResult } from '@worldbench/runner';
import { withDerived } from '../../packages/runner/src/summarize';
import { fmt, median, paired } from './common';

const perSeed = process.argv.includes('--per-seed');
const dirs = process.argv.slice(2).filter((a) => a !== '--per-seed');
if (dirs.length === 0) {
  console.error('usage: on-policy-gains.ts [--per-seed] DIR [DIR ...] (folders holding results.jsonl)');
  process.exit(2);
}

const PROTOCOLS = ['offline', 'offline-explore', 'on-policy-random', 'on-policy'] as const;
const skill = (r: JobResult | undefined, h: number | string): number | null =>
  r?.status === 'ok' ? (r.metrics?.test.skill?.[String(h)] ?? null) : null;

const results = withDerived(dirs.flatMap((dir) => readResultLines(join(dir, 'results.jsonl')).results));
const groups = new Map<string, JobResult[]>();
for (const r of results) {
  if (!(PROTOCOLS as readonly string[]).includes(r.protocol)) continue;
  const key = [r.model, r.scenario, r.view, String(r.budget)].join(' ');
  groups.set(key, [...(groups.get(key) ?? []), r]);
}

const header = [
  'model scenario view budget',
  ...PROTOCOLS.map((p) => `${p} h=1 (median)`),
  ...PROTOCOLS.map((p) => `${p} h=H (median)`),
  'on-policy - offline h=1: mean ± SE (mean - 2 SE)',
  'on-policy - offline-explore h=1',
  'on-policy - on-policy-random h=1',
  'on-policy - offline-explore h=H',
  'on-policy - on-policy-random h=H',
  'seeds',
];
console.log(`| ${header.join(' | ')} |`);
console.log(`| ${header.map(() => '---').join(' | ')} |`);
for (const [key, rs] of [...groups].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
  const bySeed = (p: string) => new Map(rs.filter((r) => r.protocol === p).map((r) => [r.seed, r]));
  const of = Object.fromEntries(PROTOCOLS.map((p) => [p, bySeed(p)]));
  const medianSkill = (p: string, atH = false) => {
    const xs = [...of[p].values()]
      .map((r) => skill(r, atH ? r.evaluation.horizon : 1))
      .filter((x): x is number => x !== null);
    return xs.length ? fmt(median(xs)) : 'n/a';
  };
  const onPolicy = [...of['on-policy'].values()].filter((r) => r.status === 'ok');
  const gains = (field: 'onPolicyGain' | 'onPolicyGainExplore' | 'onPolicyGainRandom') =>
    paired(onPolicy.map((r) => r[field]).filter((x): x is number => typeof x === 'number'));
  const atHorizon = (against: string) =>
    paired(
      onPolicy
        .map((r) => {
          const H = r.evaluation.horizon;
          const a = skill(r, H),
            b = skill(of[against].get(r.seed), H);
          return a === null || b === null ? null : a - b;
        })
        .filter((x): x is number => x !== null),
    );
  const seeds = new Set(rs.map((r) => r.seed));
  console.log(
    `| ${[
      key,
      ...PROTOCOLS.map((p) => medianSkill(p)),
      ...PROTOCOLS.map((p) => medianSkill(p, true)),
      gains('onPolicyGain'),
      gains('onPolicyGainExplore'),
      gains('onPolicyGainRandom'),
      atHorizon('offline-explore'),
      atHorizon('on-policy-random'),
      `${seeds.size} (${Math.min(...seeds)}-${Math.max(...seeds)})`,
    ].join(' | ')} |`,
  );
}

// Two models' on-policy rows side by side (e.g. act() at two commits run under distinct model ids), paired by seed:
// the later-named model minus the first, per (scenario, view, budget) where both ran on-policy.
const onPolicyRows = results.filter((r) => r.protocol === 'on-policy' && r.status === 'ok');
const models = [...new Set(onPolicyRows.map((r) => r.model))];
if (models.length > 1) {
  console.log(`\non-policy of each model minus on-policy of ${models[0]}, paired by seed`);
  console.log(
    '| model | scenario view budget | h=1 (median each) | h=1: mean ± SE (mean - 2 SE) | h=H (median each) | ' +
      'h=H | seeds |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const where = (r: JobResult) => [r.scenario, r.view, String(r.budget)].join(' ');
  for (const model of models.slice(1))
    for (const place of [...new Set(onPolicyRows.filter((r) => r.model === model).map(where))].sort()) {
      const base = new Map(
        onPolicyRows.filter((r) => r.model === models[0] && where(r) === place).map((r) => [r.seed, r]),
      );
      const pairs = onPolicyRows
        .filter((r) => r.model === model && where(r) === place && base.has(r.seed))
        .map((r) => [r, base.get(r.seed)!] as const);
      if (!pairs.length) continue;
      const at = (h: (r: JobResult) => number | string) => {
        const xs = pairs.map(([a, b]) => [skill(a, h(a)), skill(b, h(b))] as const);
        const ok = xs.filter((x): x is readonly [number, number] => x[0] !== null && x[1] !== null);
        return [
          `${fmt(median(ok.map((x) => x[0])))} vs ${fmt(median(ok.map((x) => x[1])))}`,
          paired(ok.map(([a, b]) => a - b)),
        ];
      };
      console.log(
        `| ${[model, place, ...at(() => 1), ...at((r) => r.evaluation.horizon), String(pairs.length)].join(' | ')} |`,
      );
    }
}

if (perSeed) {
  const cell = (r: JobResult | undefined) => {
    const [a, b] = [skill(r, 1), r ? skill(r, r.evaluation.horizon) : null];
    const selected = (r?.notes as { selected?: string } | undefined)?.selected;
    return a === null || b === null ? 'n/a' : `${fmt(a)} / ${b.toPrecision(3)}${selected ? ` (${selected})` : ''}`;
  };
  for (const [key, rs] of [...groups].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    console.log(`\n${key}: skill h = 1 / h = H (the world selected)`);
    console.log(`| seed | ${PROTOCOLS.join(' | ')} |`);
    console.log(`| --- | ${PROTOCOLS.map(() => '---').join(' | ')} |`);
    for (const seed of [...new Set(rs.map((r) => r.seed))].sort((a, b) => a - b))
      console.log(
        `| ${seed} | ${PROTOCOLS.map((p) => cell(rs.find((r) => r.protocol === p && r.seed === seed))).join(' | ')} |`,
      );
  }
}
