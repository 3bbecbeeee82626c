// Where a job's training data lies on its scenario's state plane: the histogram the runner records, the report's
// panels per protocol (in a real browser), and reports of results from before it was recorded.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { specProblems, tensor, type Episodes, type ScenarioSpec } from '@worldbench/core';
import { describe, expect, it } from 'vitest';
import { readResults, renderReport } from '../src/report';
import { resultProblem, type JobResult } from '../src/result';
import { STATE_PLANE_BINS, statePlaneHistogram } from '../src/state-plane';
import { withDerived } from '../src/summarize';
import { bench, jsonl, launchChromium, scratch, smallSweep } from './helpers';

/** Two objects of (x, y, speed) per step; the second is padding wherever the mask says 0. */
const spec: ScenarioSpec = {
  id: 'plane-test-v1',
  summary: 'a spec with a plane',
  views: { state: { shape: [2, 3], kind: 'real', mask: 'real' }, real: { shape: [2], kind: 'int', vocab: 2 } },
  action: null,
  episodeLength: 2,
  historySteps: 1,
  horizon: 1,
  statePlane: {
    view: 'state',
    x: { index: 0, label: 'x', range: [0, 24] },
    y: { index: 1, label: 'y', range: [-12, 12] },
  },
  tags: [],
};

describe('statePlaneHistogram', () => {
  it('counts every real row of each transition at the state it starts from, and what falls outside apart', () => {
    // [E=2, T+1=3, 2, 3]; episode 1 is cut to 1 transition: its steps 1 and 2 are not counted
    const state = tensor(
      [2, 3, 2, 3],
      Float32Array.of(
        ...[0.5, -11.5, 0, 3.5, 0.2, 0],
        ...[23.9, 12, 0, 99, 99, 0], // object 1 is padding here: not counted although outside
        ...[7, 7, 0, 7, 7, 0], // the last step: a state no transition starts from
        ...[24.5, 0, 0, 0, 0, 0], // x past the range: outside
        ...[1, 1, 0, 1, 1, 0], // cut away
        ...[1, 1, 0, 1, 1, 0],
      ),
    );
    const real = tensor([2, 3, 2], Float32Array.of(1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    const data: Episodes = { views: { state, real }, actions: null, context: {}, lengths: Int32Array.of(2, 1) };
    const h = statePlaneHistogram(spec, data)!;
    const B = STATE_PLANE_BINS;
    expect(h).toMatchObject({ view: 'state', bins: B, x: { label: 'x', lo: 0, hi: 24 }, outside: 1 });
    // bins of width 1: x in [0, 24), y + 12 in [0, 24); hi falls in the last bin
    const at = (ix: number, iy: number) => h.counts[iy * B + ix];
    expect([at(0, 0), at(3, 12), at(23, 23), at(0, 12)]).toEqual([1, 1, 1, 1]);
    expect(h.counts.reduce((s, c) => s + c, 0)).toBe(4);
    // no plane declared: nothing recorded
    expect(statePlaneHistogram({ ...spec, statePlane: undefined }, data)).toBeNull();
  });

  it('refuses a plane on a missing or categorical view, off the last axis, or with an empty range', () => {
    expect(specProblems(spec)).toEqual([]);
    const plane = spec.statePlane!;
    const problems = (statePlane: unknown) => specProblems({ ...spec, statePlane } as ScenarioSpec);
    expect(problems({ ...plane, view: 'frame' })).toEqual(['statePlane.view names "frame", which is not a view']);
    expect(problems({ ...plane, view: 'real' })).toEqual([
      'statePlane.view "real" is int, not real: a plane needs coordinates',
    ]);
    expect(problems({ ...plane, x: { ...plane.x, index: 3 } })).toEqual([
      "statePlane.x.index must be an integer in [0, 3) (the view's last axis)",
    ]);
    expect(problems({ ...plane, y: { ...plane.y, range: [1, 1] } })).toEqual([
      'statePlane.y.range must be [lo, hi] with finite lo < hi',
    ]);
  });
});

// one tiny run (the tests below read what the first wrote, so the tag is the block's)
describe('a tiny run on resonance-v1, and its report', { tags: ['slow'] }, () => {
  const out = join(scratch(), 'plane');
  const BUDGET = 100; // one whole episode of 64 transitions and one cut to 36

  it("records where each job's training data lies: as many states as transitions, per protocol", () => {
    const r = bench([
      ...smallSweep({
        model: 'linear',
        scenario: 'resonance',
        view: 'state',
        protocol: 'offline,offline-explore,on-policy-random',
        budgets: String(BUDGET),
        seeds: '0-0',
        out,
      }),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const results: JobResult[] = JSON.parse(r.stdout).results;
    expect(results).toHaveLength(3);
    for (const x of results) {
      const h = x.statePlane!;
      expect(h.x.label).toBe('x (position)');
      expect(h.counts).toHaveLength(STATE_PLANE_BINS ** 2);
      expect(h.counts.reduce((s, c) => s + c, 0) + h.outside, x.protocol).toBe(BUDGET);
    }
    // the expert's narrow swing and random forcing from rest land in different bins
    const [offline, explore] = ['offline', 'offline-explore'].map(
      (p) => results.find((x) => x.protocol === p)!.statePlane!.counts,
    );
    expect(offline).not.toEqual(explore);
  });

  it('draws a panel per protocol in a real browser; without the histograms the report is what it was', async () => {
    const results = withDerived(readResults(out));
    const html = await renderReport(results, 'plane');
    const section =
      /<h3>where the training data lies: x \(position\) against v \(velocity, 1 \/ s\)<\/h3>.*?<\/svg><\/div><\/div>/s;
    expect(html).toMatch(section);
    // results written before the histogram was recorded: they load, and their report is the same without the section
    const old = join(scratch(), 'plane-old');
    mkdirSync(old, { recursive: true });
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const stripped = lines.map(({ statePlane: _h, ...rest }) => rest);
    for (const l of stripped) expect(resultProblem(l)).toBeNull();
    writeFileSync(join(old, 'results.jsonl'), jsonl(stripped));
    const before = await renderReport(withDerived(readResults(old)), 'plane');
    expect(before).not.toMatch(/where the training data lies/);
    expect(before).toBe(html.replace(section, ''));
    // a histogram whose counts do not fill its grid is not a result (results files are untrusted)
    const torn = { ...lines[0], statePlane: { ...lines[0].statePlane, counts: [1, 2] } };
    expect(resultProblem(torn)).toBe('statePlane: counts must hold bins * bins entries');

    const file = join(out, 'plane.html');
    writeFileSync(file, html);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${file}`);
      const planes = await page.$$eval('.plane svg', (svgs) =>
        svgs.map((s) => ({
          width: s.getBoundingClientRect().width,
          text: Array.from(s.querySelectorAll('text')).map(
            (t) => (t as unknown as { textContent: string }).textContent,
          ),
          cells: s.querySelectorAll('.mark-rect path').length,
        })),
      );
      expect(planes).toHaveLength(1);
      const [plane] = planes;
      // one panel per protocol, in the protocols' order, each with its number of seeds
      const headers = plane.text.filter((t) => /\(1 seed/.test(t ?? ''));
      expect(headers).toEqual(['offline (1 seed)', 'offline-explore (1 seed)', 'on-policy-random (1 seed)']);
      expect(plane.width).toBeGreaterThan(400);
      expect(plane.cells).toBeGreaterThanOrEqual(3);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
