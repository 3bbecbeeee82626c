// Whether two runs of the bench measured the same thing: every job of the first results file against the same job
// (model label, scenario, view, protocol, budget, seed) of the second, field by field, timing and memory left out
// (cost.fitSeconds, cost.forecastStepsPerSecond, cost.peakMemoryMB, any `...Seconds` or `.seconds` a model explains,
// when it finished), and so are what name the code rather than its results (key, fingerprint, env.commit). A refactor
// that claims to change no number passes when every job prints "identical".
//
//   pnpm exec tsx scripts/figures/compare-results.ts results/before results/after
import { join } from 'node:path';
import { readResultLines } from '@worldbench/runner';

const [before, after] = process.argv.slice(2);
if (!before || !after) {
  console.error('usage: compare-results.ts DIR_BEFORE DIR_AFTER (folders holding results.jsonl)');
  process.exit(2);
}

/** Paths whose values may differ between runs of the same code. */
const IGNORED = [
  /^(key|fingerprint|finishedAt|env\.commit)$/,
  /^cost\.(fitSeconds|forecastStepsPerSecond|peakMemoryMB)$/,
  /Seconds$/,
  // a time a model reports under its own name (explain.search.seconds, ...)
  /(^|\.)seconds$/,
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * Every leaf path where `a` and `b` differ (ignored paths left out), with the numeric difference where both are
 * numbers.
 */
function differences(a: Json, b: Json, path = '', out: Array<{ path: string; delta: number | null }> = []): typeof out {
  if (IGNORED.some((r) => r.test(path))) return out;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys)
      differences(
        (a as Record<string, Json>)[k] ?? null,
        (b as Record<string, Json>)[k] ?? null,
        path ? `${path}.${k}` : k,
        out,
      );
  } else if (a !== b)
    out.push({ path, delta: typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) : null });
  return out;
}

const read = (dir: string) => {
  const lines = readResultLines(join(dir, 'results.jsonl'));
  const jobs = new Map<string, Json>();
  // the newest line of a job wins, as in the store
  for (const r of lines.results)
    jobs.set([r.model, r.scenario, r.view, r.protocol, r.budget, r.seed].join(' '), r as unknown as Json);
  return jobs;
};

const first = read(before);
const second = read(after);
let differing = 0;
console.log('| job | status | metrics | other fields that differ |');
console.log('| --- | --- | --- | --- |');
for (const [job, a] of [...first].sort(([x], [y]) => x.localeCompare(y))) {
  const b = second.get(job);
  const status = (a as { status: string }).status;
  if (!b) {
    console.log(`| ${job} | ${status} | missing in ${after} | |`);
    differing++;
    continue;
  }
  const diff = differences(a, b);
  if (diff.length) differing++;
  const metrics = diff.filter((d) => d.path.startsWith('metrics.'));
  const largest = Math.max(0, ...metrics.map((d) => d.delta ?? Infinity));
  const others = diff.filter((d) => !d.path.startsWith('metrics.')).map((d) => d.path);
  const metricText = metrics.length ? `${metrics.length} differ, largest by ${largest.toExponential(2)}` : 'identical';
  console.log(`| ${job} | ${status} | ${metricText} | ${others.join(', ') || 'none'} |`);
}
for (const job of second.keys()) if (!first.has(job)) console.log(`| ${job} | | missing in ${before} |`), differing++;
console.log(`\n${first.size} job(s) compared; ${differing} differ`);
process.exitCode = differing ? 1 : 0;
