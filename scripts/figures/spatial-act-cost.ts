// What spatial's act() machinery costs, from runs of the bench: per (scenario, view, budget), over the fits of the
// offline protocols (one fit a job), the seconds the disagreement heads took (explain().act.seconds: their features
// and training) against the whole fit, as medians over jobs; and per seed the wall time of on-policy minus that of
// on-policy-random (the same rounds and fits on other data: mostly the time act() took), as a median.
//
//   pnpm exec tsx scripts/figures/spatial-act-cost.ts results/a [results/b ...]
import { join } from 'node:path';
import { readResultLines, type JobResult } from '@worldbench/runner';
import { median } from './common';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: spatial-act-cost.ts DIR [DIR ...] (folders holding results.jsonl)');
  process.exit(2);
}
const results = dirs
  .flatMap((dir) => readResultLines(join(dir, 'results.jsonl')).results)
  .filter((r) => r.model === 'spatial' && r.status === 'ok');
const place = (r: JobResult) => `${r.scenario} ${r.view} ${r.budget}`;
const headSeconds = (r: JobResult) => (r.explain?.act as { seconds?: number } | undefined)?.seconds ?? null;
const oneDecimal = (x: number) => x.toFixed(1);

console.log(
  '| scenario view budget | fits | heads s (median) | fit s (median) | heads / fit (median) | ' +
    'on-policy - on-policy-random wall s (median, seeds) |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const key of [...new Set(results.map(place))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
  const here = results.filter((r) => place(r) === key);
  const fits = here.filter((r) => r.protocol.startsWith('offline') && headSeconds(r) !== null && r.cost);
  const wall = (protocol: string) => new Map(here.filter((r) => r.protocol === protocol).map((r) => [r.seed, r]));
  const [own, random] = [wall('on-policy'), wall('on-policy-random')];
  const act = [...own]
    .filter(([seed]) => random.has(seed))
    .map(([seed, r]) => (r.cost?.wallSeconds ?? NaN) - (random.get(seed)!.cost?.wallSeconds ?? NaN));
  const heads = fits.map((r) => headSeconds(r) as number);
  const fit = fits.map((r) => r.cost!.fitSeconds);
  console.log(
    `| ${key} | ${fits.length} | ${fits.length ? oneDecimal(median(heads)) : 'n/a'} | ` +
      `${fits.length ? oneDecimal(median(fit)) : 'n/a'} | ` +
      `${fits.length ? median(heads.map((h, i) => h / fit[i])).toFixed(2) : 'n/a'} | ` +
      `${act.length ? `${oneDecimal(median(act))} (${act.length})` : 'n/a'} |`,
  );
}
