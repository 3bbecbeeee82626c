// A sweep of several models where one reads none of the chosen scenarios records that model's rows as
// unsupported and runs the others; exit code 2 only when no chosen pair can run at all (failures.test.ts).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bench, fixture, readLines, scratch, smallSweep } from './helpers';

describe('a sweep of several models where one reads none of the chosen scenarios', () => {
  it("records that model's rows as unsupported, with its reason, and runs the others (exit 0)", () => {
    const out = join(scratch(), 'pairs');
    const r = bench(
      smallSweep({ model: `persistence,${fixture('refuses-everything.ts')}`, scenario: 'bouncing-balls', out }),
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = readLines(join(out, 'results.jsonl'));
    expect(lines.filter((l) => l.model === 'refuses-everything').map((l) => [l.view, l.status, l.reason])).toEqual([
      ['frame', 'unsupported', 'needs a view named "lidar"'],
      ['state', 'unsupported', 'needs a view named "lidar"'],
    ]);
    expect(lines.filter((l) => l.model === 'persistence').map((l) => l.status)).toEqual(['ok', 'ok']);
    expect(r.stdout).toContain('refuses-everything offline: unsupported: needs a view named "lidar"');
  });
});

describe('an on-policy job of a model without act()', () => {
  it("is unsupported with the model's own reason where it gives one, the generic one where not", () => {
    const out = join(scratch(), 'no-act');
    const model = `persistence,${fixture('cannot-act.ts')}`;
    const r = bench(smallSweep({ model, scenario: 'resonance', view: 'state', protocol: 'on-policy', out }));
    expect(r.code, r.stderr).toBe(0);
    const reasons = Object.fromEntries(readLines(join(out, 'results.jsonl')).map((l) => [l.model, l.reason]));
    expect(reasons).toEqual({
      'planted-cannot-act': 'planted-cannot-act has no act(): its planner is switched off by config',
      persistence: 'persistence has no act(): it cannot choose its own experience',
    });
  });
});
