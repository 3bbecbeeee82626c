// The ok jobs of runs of the bench, one line per (model, scenario, view, protocol, budget, commit): skill at
// h = 1 and at the largest horizon, accStep at h = 1 where the view has it, fit and wall seconds, each as the
// median over the seeds with every seed's value beside it. What docs/experiments quote from a sweep's raw results.
//
//   pnpm exec tsx scripts/figures/jobs-table.ts results/a [results/b ...]
import { readResultLines } from '@worldbench/runner';
import { join } from 'node:path';
import { fmt, median } from './common';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: jobs-table.ts DIR [DIR ...] (folders holding results.jsonl)');
  process.exit(2);
}

type Metric = Record<string, number | null> | undefined;
interface Row {
  seed: number;
  skill1: number | null;
  skillH: number | null;
  H: number;
  accStep1: number | null;
  fit: number;
  wall: number;
}

const groups = new Map<string, Row[]>();
for (const dir of dirs)
  for (const r of readResultLines(join(dir, 'results.jsonl')).results) {
    if (r.status !== 'ok' || !r.metrics) continue;
    const skill = r.metrics.test.skill as Metric;
    const H = Math.max(...Object.keys(skill ?? {}).map(Number));
    const commit = (r.env as { commit?: string } | undefined)?.commit?.slice(0, 7) ?? '?';
    const key = [r.model, r.scenario, r.view, r.protocol, String(r.budget).padStart(5), `@${commit}`].join(' ');
    const rows = groups.get(key) ?? [];
    rows.push({
      seed: r.seed,
      skill1: skill?.['1'] ?? null,
      skillH: skill?.[String(H)] ?? null,
      H,
      accStep1: (r.metrics.test.accStep as Metric)?.['1'] ?? null,
      fit: r.cost?.fitSeconds ?? Number.NaN,
      wall: r.cost?.wallSeconds ?? Number.NaN,
    });
    groups.set(key, rows);
  }

/** The median over the seeds, then every seed's value in seed order. */
function cell(rows: Row[], pick: (r: Row) => number | null, format = fmt): string {
  const values = rows.map(pick);
  if (values.some((v) => v === null)) return '-';
  return `${format(median(values as number[]))} (${(values as number[]).map(format).join(', ')})`;
}

const seconds = (x: number) => x.toFixed(0);
console.log('| job | seeds | skill h=1 | skill h=H | accStep h=1 | fit s | wall s |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const key of [...groups.keys()].sort()) {
  const rows = (groups.get(key) as Row[]).sort((a, b) => a.seed - b.seed);
  const H = rows[0].H;
  const cells = [
    key,
    rows.map((r) => r.seed).join(', '),
    cell(rows, (r) => r.skill1),
    `h=${H}: ${cell(rows, (r) => r.skillH)}`,
    cell(rows, (r) => r.accStep1),
    cell(rows, (r) => r.fit, seconds),
    cell(rows, (r) => r.wall, seconds),
  ];
  console.log(`| ${cells.join(' | ')} |`);
}
