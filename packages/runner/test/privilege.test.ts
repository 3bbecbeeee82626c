// The runner decides privilege: a scenario's hypotheses go only to a model whose config asks for them
// (readsPrivileged), and only those rows are marked privileged; oracle rows are shown apart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ORACLE_NOTE } from '../src/leaderboard';
import { bench, fixture, scratch } from './helpers';

describe('privileged information', () => {
  it('is handed only to a config that asks for it, and its rows are marked and listed apart as oracles', {
    tags: ['slow'],
  }, () => {
    const out = join(scratch(), 'privilege');
    const peeking = fixture('peeking-model.ts');
    const r = bench([
      '--model',
      `${peeking},${peeking}[oracle=true]`,
      '--scenario',
      'hidden-laws,bouncing-balls',
      '--view',
      'state',
      '--budgets',
      '16',
      '--seeds',
      '1',
      '--test-episodes',
      '4',
      '--ood-episodes',
      '4',
      '--json',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { results } = JSON.parse(r.stdout);
    const find = (model: string, scenario: string) =>
      results.find((x: any) => x.model === model && x.scenario === scenario);
    // the default never receives the hypotheses, and its rows are not privileged
    for (const s of ['hidden-laws-v1', 'bouncing-balls-v1'])
      expect(find('peeking', s)).toMatchObject({ status: 'ok', privileged: false, notes: { toldCandidates: 0 } });
    // the oracle config receives them where the scenario states any (hidden-laws: 10 candidate laws), and only there is
    // it privileged
    expect(find('peeking[oracle=true]', 'hidden-laws-v1')).toMatchObject({
      status: 'ok',
      privileged: true,
      notes: { toldCandidates: 10 },
    });
    expect(find('peeking[oracle=true]', 'bouncing-balls-v1')).toMatchObject({
      status: 'ok',
      privileged: false,
      notes: { toldCandidates: 0 },
    });
    // the terminal table lists the oracle row last, labelled
    const table = bench([
      '--model',
      `${peeking},${peeking}[oracle=true]`,
      '--scenario',
      'hidden-laws',
      '--view',
      'state',
      '--budgets',
      '16',
      '--seeds',
      '1',
      '--test-episodes',
      '4',
      '--ood-episodes',
      '4',
      '--out',
      out,
    ]);
    const rows = table.stdout.split('\n').filter((l) => l.startsWith('peeking'));
    expect(rows.map((l) => l.split(/\s{2,}/)[0])).toEqual(['peeking', 'peeking[oracle=true] * oracle']);
    // the leaderboard puts oracle rows in a table of their own
    expect(bench(['report', out]).code).toBe(0);
    const board = readFileSync(join(out, 'leaderboard.md'), 'utf8');
    const apart = board.indexOf(ORACLE_NOTE);
    expect(apart).toBeGreaterThan(0);
    expect(board.indexOf('| hidden-laws-v1 / state | peeking |')).toBeLessThan(apart);
    expect(board.indexOf('| hidden-laws-v1 / state | peeking[oracle=true] * |')).toBeGreaterThan(apart);
  });
});
