// `pnpm bench merge` never deletes a result (synthetic shard folders: a plan of 4 jobs split in 2 shards).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobResult } from '../src/result';
import type { PlanRecord, Shard } from '../src/shard';
import { bench, jsonl, readLines, scratch, syntheticResult, joined } from './helpers';

const KEYS = ['a', 'b', 'c', 'd']; // shard 0/2 runs a and c, shard 1/2 b and d
const record = (shard: Shard): PlanRecord => ({
  format: 1,
  planHash: 'plan-1',
  codeHash: 'code-1',
  commit: null,
  shard,
  keys: KEYS,
  argv: ['--model', 'm', '--shard', `${shard.index}/${shard.count}`],
});
const ok = (key: string, fields: Partial<JobResult> = {}) =>
  syntheticResult({ key, seed: KEYS.indexOf(key), ...fields });
const failed = (key: string) => ok(key, { status: 'failed', error: 'planted', metrics: null, cost: null });
const withSkill = (skill: number) => ({
  metrics: { test: { mse: { '1': 0.5 }, skill: { '1': skill } }, ood: { mse: { '1': 0.9 }, skill: { '1': 0 } } },
});

/** A folder holding both shards of the plan, with these lines. */
function shardFolder(zero: JobResult[], one: JobResult[]): string {
  const dir = join(scratch(), 'shards');
  mkdirSync(dir);
  for (const [index, lines] of [zero, one].entries()) {
    writeFileSync(join(dir, `plan.shard-${index}-of-2.json`), JSON.stringify(record({ index, count: 2 })));
    writeFileSync(join(dir, `results.shard-${index}-of-2.jsonl`), jsonl(lines));
  }
  return dir;
}

function target(lines: unknown[]): { dir: string; file: string } {
  const dir = join(scratch(), 'target');
  mkdirSync(dir);
  writeFileSync(join(dir, 'results.jsonl'), jsonl(lines));
  return { dir, file: join(dir, 'results.jsonl') };
}

const shards = () => shardFolder([ok('a'), ok('c')], [ok('b'), ok('d')]);

describe('pnpm bench merge', () => {
  it('keeps every line the target holds and adds only what it lacks, merge after merge', () => {
    const from = shards();
    // a result another command wrote there, and job a with the same metrics but other timings
    const { dir, file } = target([
      ok('x', { model: 'other', seed: 9 }),
      ok('a', { cost: { fitSeconds: 9, forecastStepsPerSecond: 1, params: 3, peakMemoryMB: 200 } }),
    ]);
    const before = readFileSync(file, 'utf8');
    const first = bench(['merge', from, '--out', dir]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(
      joined(
        /merged 2 shard\(s\): 4 jobs \(4 ok, 0 failed, 0 unsupported\) into .*; 3 line\(s\) added, 1 /,
        /job\(s\) already there kept/,
      ),
    );
    const after = readFileSync(file, 'utf8');
    // nothing deleted or rewritten: the target's lines come first, as they were
    expect(after.startsWith(before)).toBe(true);
    expect(readLines(file).map((l) => l.key)).toEqual(['x', 'a', 'b', 'c', 'd']);
    expect(readLines(file)[1].cost!.fitSeconds).toBe(9); // equal metrics: the target's line stands

    const again = bench(['merge', from, '--out', dir]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/; 0 line\(s\) added, 4 job\(s\) already there kept/);
    expect(readFileSync(file, 'utf8')).toBe(after);
  });

  it('merges into one of the shard folders, again and again', { tags: ['slow'] }, () => {
    const from = shards();
    for (let round = 0; round < 3; round++) {
      const r = bench(['merge', from, '--out', from]);
      expect(r.code, `round ${round}: ${r.stderr}`).toBe(0);
      expect(readLines(join(from, 'results.jsonl')).map((l) => l.key)).toEqual(['a', 'b', 'c', 'd']);
    }
    expect(readdirSync(from).sort()).toEqual([
      'plan.json',
      'plan.shard-0-of-2.json',
      'plan.shard-1-of-2.json',
      'results.jsonl',
      'results.shard-0-of-2.jsonl',
      'results.shard-1-of-2.jsonl',
    ]);
    // the merged folder is a whole run: coverage counts each job once
    const report = bench(['report', from]);
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(join(from, 'leaderboard.md'), 'utf8')).toMatch(
      /: 4 of 4 planned jobs done \(4 ok, 0 unsupported, 0 failed\), complete/,
    );
  });

  it('an ok line beats a failed one, on either side; of two failed lines the target keeps its own', () => {
    const from = shardFolder([ok('a'), failed('c')], [failed('b'), ok('d')]);
    const { dir, file } = target([failed('a'), ok('c'), failed('b')]);
    const r = bench(['merge', from, '--out', dir, '--json']);
    expect(r.code, r.stderr).toBe(1); // b failed everywhere
    expect(JSON.parse(r.stdout).results.map((x: JobResult) => `${x.key} ${x.status}`)).toEqual([
      'a ok',
      'b failed',
      'c ok',
      'd ok',
    ]);
    // a's failed line stays (the ok line after it wins, as a retry's does); b's failed line is not doubled
    expect(readLines(file).map((l) => `${l.key} ${l.status}`)).toEqual([
      'a failed',
      'c ok',
      'b failed',
      'a ok',
      'd ok',
    ]);
    expect(r.stderr).toMatch(/; 2 line\(s\) added, 2 job\(s\) already there kept/);
  });

  it(
    'two ok lines of one job whose metrics differ are a conflict: exit 2 naming the job and both files, nothing ' +
      'written',
    () => {
      const from = shardFolder([ok('a', withSkill(0.3)), ok('c')], [ok('b'), ok('d')]);
      const { dir, file } = target([ok('a', withSkill(0.25))]);
      const before = readFileSync(file, 'utf8');
      const r = bench(['merge', from, '--out', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `error: job a (m s-v1/state offline b=64 seed=0) has two different results: the ` +
          `target ${file} (ok, skill h=1 ` +
          `0.25, finished 2026-12-01T00:00:00.000Z) ` +
          `and shard 0/2 (${join(from, 'results.shard-0-of-2.jsonl')}) (ok, skill h=1 0.3, finished ` +
          `2026-12-01T00:00:00.000Z). ` +
          'The same job on the same code should give the same metrics; nothing was written.',
      );
      expect(readFileSync(file, 'utf8')).toBe(before);
      expect(readdirSync(dir)).toEqual(['results.jsonl']); // no plan record, no lock left
    },
  );
});
