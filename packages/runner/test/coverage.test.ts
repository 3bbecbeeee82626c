// A report says how far each of its run folders got: planned jobs done, by status (synthetic folders).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeCoverage, runCoverage } from '../src/coverage';
import type { JobStatus } from '../src/result';
import type { PlanRecord } from '../src/shard';
import { jsonl, scratch, syntheticResult } from './helpers';

const plan = (
  keys: string[],
  shard = { index: 0, count: 1 },
  commit: string | null = 'f8e47f6e7742bc0041855670409e7a3b37a67b04',
): PlanRecord => ({
  format: 1,
  planHash: 'p',
  codeHash: 'c',
  commit,
  shard,
  keys,
  argv: ['--full', '--model', 'linear'],
});
const lines = (...rs: Array<[string, JobStatus]>) =>
  jsonl(rs.map(([key, status]) => syntheticResult({ key, status, ...(status === 'ok' ? {} : { metrics: null }) })));

function folder(files: Record<string, string>): string {
  const dir = scratch();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('runCoverage', () => {
  it('counts the newest line of each planned key, and says what is left to run', () => {
    const dir = folder({
      'plan.json': JSON.stringify(plan(['a', 'b', 'c', 'd', 'e'])),
      // b failed, then was rerun and passed; d failed for good; e never ran; z is not in the plan (an older command's)
      'results.jsonl':
        lines(['a', 'ok'], ['b', 'failed'], ['c', 'unsupported'], ['b', 'ok'], ['d', 'failed'], ['z', 'ok']) +
        '{"key":"e","sta',
    });
    const c = runCoverage(dir);
    expect(c).toMatchObject({ planned: 5, done: { ok: 2, unsupported: 1, failed: 1 }, commits: ['f8e47f6'] });
    expect(describeCoverage(c)).toBe(
      `\`${dir}\`: \`pnpm bench --full --model linear\` at f8e47f6: 3 of 5 planned jobs done (2 ok, 1 unsupported, ` +
        `1 failed); 2 to run (failed ones rerun on resume)`,
    );
  });

  it("adds up a folder's shards, each over its own part of the plan", () => {
    const keys = ['a', 'b', 'c', 'd'];
    const dir = folder({
      'plan.shard-0-of-2.json': JSON.stringify(plan(keys, { index: 0, count: 2 })),
      'plan.shard-1-of-2.json': JSON.stringify(plan(keys, { index: 1, count: 2 }, 'abcdef0123456789-dirty')),
      // b belongs to shard 1: not counted here
      'results.shard-0-of-2.jsonl': lines(['a', 'ok'], ['c', 'ok'], ['b', 'ok']),
      'results.shard-1-of-2.jsonl': lines(['d', 'ok']),
    });
    const c = runCoverage(dir);
    expect(c).toMatchObject({
      planned: 4,
      done: { ok: 3, unsupported: 0, failed: 0 },
      commits: ['f8e47f6', 'abcdef0-dirty'],
    });
    expect(describeCoverage(c)).toMatch(/: 3 of 4 planned jobs done \(3 ok, 0 unsupported, 0 failed\); 1 to run/);
  });

  it('says complete when every planned job is done, and what it can of a folder without a plan', () => {
    expect(
      describeCoverage(
        runCoverage(folder({ 'plan.json': JSON.stringify(plan(['a'])), 'results.jsonl': lines(['a', 'ok']) })),
      ),
    ).toMatch(/1 of 1 planned jobs done \(1 ok, 0 unsupported, 0 failed\), complete$/);
    const copy = runCoverage(folder({ 'results.jsonl': lines(['a', 'ok'], ['b', 'failed'], ['a', 'ok']) }));
    expect(copy).toMatchObject({ planned: null, argv: null, done: { ok: 1, unsupported: 0, failed: 1 } });
    expect(describeCoverage(copy, (s) => `<code>${s}</code>`)).toMatch(
      /^<code>.*<\/code>: no plan record \(a copied or filtered folder\): 2 results \(1 ok, 0 unsupported, 1 failed\)$/,
    );
  });
});
