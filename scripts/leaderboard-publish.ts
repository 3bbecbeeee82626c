// Writes the leaderboard sweep's figures into the docs, each between its markers, from the committed results
// (docs/leaderboard/README.md), so that no figure of the docs is typed by hand:
// - README.md: the leaderboard tables, from docs/leaderboard/leaderboard.md (which
//   `pnpm bench report docs/leaderboard/results/*/ --out docs/leaderboard` writes), under a line that says which
//   commit they were run at and how many of the planned jobs are done;
// - docs/leaderboard/README.md: the sweep's wall time per part, from docs/leaderboard/results/wall-times.tsv, and
//   where it went: the jobs' own wall seconds summed per run folder and budget.
//
//   pnpm exec tsx scripts/leaderboard-publish.ts            # writes the three blocks
//   pnpm exec tsx scripts/leaderboard-publish.ts --check    # writes nothing; exit 1 if a block is not up to date
//   ... --root DIR                                          # another checkout (the tests' scratch copies)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../packages/runner/src/atomic';
import { runCoverage } from '../packages/runner/src/coverage';
import { newestByKey, readResultLines, RESULTS_FILE } from '../packages/runner/src/store';

const args = process.argv.slice(2);
const check = args.includes('--check');
const rootAt = args.indexOf('--root');
const root = rootAt >= 0 ? args[rootAt + 1] : '.';
const board = join(root, 'docs/leaderboard');
const results = join(board, 'results');

function fail(message: string): never {
  console.error(`leaderboard-publish: ${message}`);
  process.exit(2);
}

if (!existsSync(join(board, 'leaderboard.md')))
  fail(
    `no ${join(board, 'leaderboard.md')}; pack the sweep and report it first (docs/leaderboard/README.md):\n` +
      '  pnpm exec tsx scripts/leaderboard-pack.ts results/leaderboard docs/leaderboard/results\n' +
      '  pnpm bench report docs/leaderboard/results/*/ --out docs/leaderboard',
  );
const folders = existsSync(results)
  ? readdirSync(results)
      .filter((name) => existsSync(join(results, name, 'results.jsonl')))
      .sort()
  : [];
if (!folders.length) fail(`no run folder in ${results}; pack the sweep first (docs/leaderboard/README.md)`);

/** The README's leaderboard: which commit, how much of the plan is done, then the report's tables. */
function leaderboardBlock(): string {
  const coverage = folders.map((name) => runCoverage(join(results, name)));
  const commits = [...new Set(coverage.flatMap((c) => c.commits))].sort();
  const planned = coverage.reduce((sum, c) => sum + (c.planned ?? 0), 0);
  const done = coverage.reduce((sum, c) => sum + c.done.ok + c.done.unsupported, 0);
  const ok = coverage.reduce((sum, c) => sum + c.done.ok, 0);
  const complete = coverage.every((c) => c.planned !== null && c.done.ok + c.done.unsupported === c.planned);
  const text = readFileSync(join(board, 'leaderboard.md'), 'utf8');
  const start = text.indexOf('\n| scenario / view |');
  if (start < 0) fail(`${join(board, 'leaderboard.md')} has no table; regenerate it with pnpm bench report`);
  return (
    `Run at ${commits.join(', ') || 'an unrecorded commit'} on the 2-core machine, seeds 1000-1004: ` +
    `${done} of ${planned} planned jobs done (${ok} ok, ${done - ok} unsupported) in ${folders.length} run folders` +
    `${complete ? ', every one complete' : '; NOT COMPLETE'}.\nWritten by scripts/leaderboard-publish.ts from ` +
    `[docs/leaderboard/leaderboard.md](docs/leaderboard/leaderboard.md).\n${text.slice(start)}`
  );
}

const two = (n: number) => String(n).padStart(2, '0');
const clock = (s: number) => `${Math.floor(s / 3600)}h ${two(Math.floor((s % 3600) / 60))}m ${two(s % 60)}s`;

/** Wall seconds per part (the sum of its invocations' lines), with the commits they ran at, and the total. */
function wallTimesBlock(): string {
  const file = join(results, 'wall-times.tsv');
  if (!existsSync(file)) fail(`no ${file}; scripts/leaderboard.sh writes it and leaderboard-pack.ts copies it`);
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  if (head !== 'part\tfolder\tcommit\tstarted\tseconds') fail(`${file}: unexpected header "${head}"`);
  const parts = new Map<string, { seconds: number; invocations: number; commits: Set<string> }>();
  for (const line of lines) {
    const [part, , commit, , seconds] = line.split('\t');
    const s = Number(seconds);
    if (!part || !Number.isInteger(s) || s < 0) fail(`${file}: cannot read the line "${line}"`);
    const p = parts.get(part) ?? { seconds: 0, invocations: 0, commits: new Set<string>() };
    p.seconds += s;
    p.invocations += 1;
    p.commits.add(commit);
    parts.set(part, p);
  }
  const total = [...parts.values()].reduce((sum, p) => sum + p.seconds, 0);
  const rows = [...parts].map(
    ([part, p]) => `| ${part} | ${clock(p.seconds)} | ${p.seconds} | ${p.invocations} | ${[...p.commits].join(', ')} |`,
  );
  return [
    '| part | wall time | seconds | invocations | commits |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    `| all | ${clock(total)} | ${total} | ${lines.length} | |`,
    '',
  ].join('\n');
}

/**
 * Where the time went: each run folder's jobs' own wall seconds (worker start to result), summed per budget, in
 * minutes ('-': the folder planned no job at that budget). Two workers run two jobs at once, so a folder's sum is
 * about twice its share of the sweep's wall time.
 */
function jobTimesBlock(): string {
  const perFolder = folders.map((name) => {
    // a job without a training budget (a pretrained ONNX file) counts under 0, headed "pretrained"
    const byBudget = new Map<number, number>();
    for (const r of newestByKey(readResultLines(join(results, name, RESULTS_FILE)).results).values())
      byBudget.set(r.budget ?? 0, (byBudget.get(r.budget ?? 0) ?? 0) + (r.cost?.wallSeconds ?? 0));
    return { name, byBudget };
  });
  const budgets = [...new Set(perFolder.flatMap((f) => [...f.byBudget.keys()]))].sort((a, b) => a - b);
  const minutes = (s: number) => (s / 60).toFixed(1);
  const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const all = new Map(budgets.map((b) => [b, perFolder.reduce((s, f) => s + (f.byBudget.get(b) ?? 0), 0)]));
  const row = (name: string, m: Map<number, number>) =>
    `| ${name} | ${budgets.map((b) => (m.has(b) ? minutes(m.get(b) ?? 0) : '-')).join(' | ')} | ${minutes(sum(m))} |`;
  return [
    `| run folder | ${budgets.map((b) => (b === 0 ? 'pretrained' : `b=${b}`)).join(' | ')} | all |`,
    `| --- | ${budgets.map(() => '---:').join(' | ')} | ---: |`,
    ...perFolder.map((f) => row(`\`${f.name}\``, f.byBudget)),
    row('all', all),
    '',
  ].join('\n');
}

/** `text` with the block between `<!-- generated: name ... -->` and `<!-- end: name -->` replaced by `body`. */
function withBlock(file: string, text: string, name: string, body: string): string {
  const begin = text.indexOf(`<!-- generated: ${name} `);
  const end = text.indexOf(`<!-- end: ${name} -->`);
  if (begin < 0 || end < begin) fail(`${file} has no "<!-- generated: ${name} ... -->" ... "<!-- end: ${name} -->"`);
  const open = text.indexOf('-->', begin) + 3;
  return `${text.slice(0, open)}\n${body}${text.slice(end)}`;
}

let stale = 0;
for (const [file, name, body] of [
  [join(root, 'README.md'), 'leaderboard', leaderboardBlock()],
  [join(board, 'README.md'), 'wall-times', wallTimesBlock()],
  [join(board, 'README.md'), 'job-times', jobTimesBlock()],
] as const) {
  const text = readFileSync(file, 'utf8');
  const next = withBlock(file, text, name, body);
  if (next === text) continue;
  stale += 1;
  if (check)
    console.error(
      `${file}: the ${name} block is not what the committed results give; rerun scripts/leaderboard-publish.ts`,
    );
  else {
    writeFileAtomic(file, next);
    console.log(`${file}: ${name} block written`);
  }
}
process.exit(check && stale ? 1 : 0);
