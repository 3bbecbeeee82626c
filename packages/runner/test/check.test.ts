// `pnpm bench check MODEL | SCENARIO`: the conformance suites as a command, a readable PASS / FAIL / SKIP list
// and exit code 1 on a failure. (The scaffolded model passes it: scaffold.test.ts.)
import { discoverPlugins } from '@worldbench/core';
import { describe, expect, it } from 'vitest';
import { bench, fixture, joined, root } from './helpers';

/** Every registered scenario is one check of a model. */
const scenarios = discoverPlugins(root).scenarios.length;

describe('pnpm bench check', () => {
  it(
    'skips, with the reason, the scenarios a model does not read; when it reads none, nothing was checked ' +
      '(exit 1)',
    () => {
      const r = bench(['check', fixture('refuses-everything.ts')]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^  SKIP  bouncing-balls-v1\s+reads none of its views: needs a view named "lidar"$/m);
      expect(r.stdout).toMatch(/^nothing was checked: it reads none of the registered scenarios/m);
    },
  );

  it('passes a model on every registered scenario it reads', () => {
    const r = bench(['check', 'persistence']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^check model persistence \(.*persistence\.ts\) on every registered scenario:$/m);
    expect(r.stdout).toMatch(/^  PASS  bouncing-balls-v1\s+views state, frame$/m);
    expect(r.stdout).toMatch(/^  PASS  code-trace-v1\s+views state$/m);
    expect(r.stdout).toMatch(new RegExp(`^${scenarios} check\\(s\\) passed$`, 'm'));
  });

  it('fails a broken model with exit code 1, naming each problem', () => {
    const r = bench(['check', fixture('wrong-shape.ts')]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^check model wrong-shape \(.*wrong-shape\.ts\) on every registered scenario:$/m);
    // it forecasts one step too few ...
    expect(r.stdout).toMatch(
      joined(
        /^  FAIL  code-trace-v1\s+view state: forecast mean has shape \[4,3,5\], expected \[4,4,5\] /,
        /\(\[B, H, \.\.\.viewShape\]\)$/m,
      ),
    );
    expect(r.stdout).toMatch(/^\s+view state horizon 1: forecast mean has shape \[4,0,5\], expected \[4,1,5\]/m);
    // ... and reads a view named "state" whatever view it was created for: on a frame view, that is a TypeError
    expect(r.stdout).toMatch(
      /^  FAIL  bouncing-balls-v1\s+threw TypeError: Cannot read properties of undefined \(reading 'shape'\)$/m,
    );
    expect(r.stdout).toMatch(
      new RegExp(
        `^${scenarios} of ${scenarios} checks failed \\(--verbose shows the stack of an error a plug-in threw\\)$`,
        'm',
      ),
    );
  });

  it('says which error a plug-in threw, and with --verbose where', () => {
    const r = bench(['check', fixture('type-error-model.ts'), '--verbose']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^  FAIL  bouncing-balls-v1\s+threw TypeError: Cannot read properties of undefined \(reading 'shape'\)$/m,
    );
    expect(r.stdout).toMatch(/^\s+at countSteps \(.*type-error-model\.ts:8:\d+\)$/m);
  });

  it('checks a scenario, then the baselines on it', () => {
    const r = bench(['check', 'hidden-laws']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^check scenario hidden-laws-v1 \(.*\), then the baselines on it:$/m);
    for (const name of ['checkScenario', 'linear', 'persistence'])
      expect(r.stdout).toMatch(new RegExp(`^  PASS  ${name}\\b`, 'm'));
  });

  it('refuses what is neither a model nor a scenario, with exit code 2', () => {
    const r = bench(['check', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /check takes a model or a scenario; "nope" is neither\. Models: .*linear.*; scenarios: .*bouncing-balls-v1/,
    );
    expect(bench(['check']).stderr).toMatch(/check takes one model or scenario/);
  });
});
