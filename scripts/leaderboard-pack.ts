// Packs the leaderboard sweep's run folders for the repository (docs/leaderboard/README.md): each part's
// results.jsonl without its filmstrips (the frames of a few test windows, as PNG data: most of a frame job's bytes,
// and no table reads them) and without failed jobs' stacks (they name the machine's folders), its plan.json (the
// jobs its command planned, which the report counts), and the sweep's wall-times.tsv. The report is then regenerated
// from the packed folders by one command.
//
//   pnpm exec tsx scripts/leaderboard-pack.ts [FROM] [TO]
//   e.g. pnpm exec tsx scripts/leaderboard-pack.ts results/leaderboard docs/leaderboard/results
//   then pnpm bench report docs/leaderboard/results/* --out docs/leaderboard
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../packages/runner/src/atomic';

const [from = 'results/leaderboard', to = 'docs/leaderboard/results'] = process.argv.slice(2);
if (!existsSync(from) || !statSync(from).isDirectory()) {
  console.error(`leaderboard-pack: ${from} is not a folder; give the sweep's folder (scripts/leaderboard.sh's OUT)`);
  process.exit(2);
}
const parts = readdirSync(from)
  .filter((name) => existsSync(join(from, name, 'results.jsonl')))
  .sort();
if (!parts.length) {
  console.error(`leaderboard-pack: no run folder (with a results.jsonl) in ${from}`);
  process.exit(2);
}
let before = 0,
  after = 0;
for (const part of parts) {
  const source = join(from, part, 'results.jsonl');
  const lines = readFileSync(source, 'utf8').split('\n').filter(Boolean);
  const packed = lines.map((line) => {
    const { filmstrip: _strips, ...rest } = JSON.parse(line);
    // a failed job's stack names files by the paths of the machine that ran it: the message and phase say why
    if (rest.error && typeof rest.error === 'object') delete rest.error.stack;
    return JSON.stringify(rest);
  });
  mkdirSync(join(to, part), { recursive: true });
  // each file whole or not at all: a pack cut short leaves no half-written results for the report to read
  writeFileAtomic(join(to, part, 'results.jsonl'), `${packed.join('\n')}\n`);
  const plan = join(from, part, 'plan.json');
  if (existsSync(plan)) writeFileAtomic(join(to, part, 'plan.json'), readFileSync(plan));
  before += statSync(source).size;
  after += statSync(join(to, part, 'results.jsonl')).size;
  console.log(`${part}: ${lines.length} results`);
}
const times = join(from, 'wall-times.tsv');
if (existsSync(times)) writeFileAtomic(join(to, 'wall-times.tsv'), readFileSync(times));
console.log(`${parts.length} folders, ${(before / 1e6).toFixed(1)} MB -> ${(after / 1e6).toFixed(1)} MB in ${to}`);
