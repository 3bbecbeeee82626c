// The on-policy and live protocols through the CLI, and the HTML report of that run in a real browser.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recoverableShifts, roundSizes, shiftResponse, shiftTimes } from '../src/protocols';
import { ORACLE_NOTE } from '../src/leaderboard';
import { readResults, readRuns } from '../src/report';
import { bench, craftedRun, jsonl, launchChromium, scratch, syntheticResult, joined } from './helpers';

describe('protocol helpers', () => {
  it('splits a budget into 4 equal rounds and draws shifts from the seed', () => {
    expect(roundSizes(64)).toEqual([16, 16, 16, 16]);
    expect(roundSizes(66)).toEqual([16, 16, 16, 18]);
    expect(roundSizes(3)).toEqual([1, 1, 1]);
    expect(shiftTimes(5)).toEqual(shiftTimes(5));
    const t = shiftTimes(7);
    expect(t[1] - t[0]).toBeGreaterThanOrEqual(64);
  });

  it('measures recovery only where there was skill to regain, over a window wholly after the shift', () => {
    // 0.8 before the shift at 100, 0.2 after, back to 0.75 (>= 0.72) from step 130; a second shift at 200 never
    // recovers
    const skill: number[] = Array.from({ length: 300 }, (_, t) =>
      t < 100 ? 0.8 : t < 130 ? 0.2 : t < 200 ? 0.75 : 0.1,
    );
    skill[105] = 0.9; // inside the first 16 steps the window still holds pre-shift steps: not a recovery
    const r = shiftResponse(skill, [100, 200]);
    expect(r).toMatchObject({ recoverable: [true, true], recovery: [30, null] });
    expect(r.dips[0]).toBeCloseTo(0.6, 12);
    expect(r.dips[1]).toBeCloseTo(0.65, 12);
    // persistence: skill 0 throughout, nothing to regain (it used to count as recovered after 15 steps)
    const flat = shiftResponse(new Array(300).fill(0), [100]);
    expect(flat).toEqual({ dips: [0], recoverable: [false], recovery: [null] });
    const live = (r: ReturnType<typeof shiftResponse>) => ({
      ...r,
      meanSkill: 0,
      movingSkill: [],
      shifts: [100],
      updates: false,
    });
    expect(recoverableShifts([live(flat), live(shiftResponse(skill, [100, 200]))])).toEqual([30, null]);
    // a result from before `recoverable`: read from its moving skill (persistence's old "recovered after 15" drops out)
    const old = {
      meanSkill: 0,
      movingSkill: new Array(300).fill(0),
      shifts: [100],
      dips: [0],
      recovery: [15],
      updates: false,
    };
    expect(recoverableShifts([old as never, { ...old, movingSkill: skill, recovery: [30] } as never])).toEqual([30]);
  });
});

describe('readResults', () => {
  it('keeps the newest result of each job: one rerun after a code change supersedes the old one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wb-read-'));
    const job = { model: 'linear', modelId: 'linear', config: { ridge: 0.001 }, seed: 1 };
    const skill = (s: number) => ({
      test: { mse: { '1': 1 - s }, skill: { '1': s } },
      ood: { mse: { '1': 1 }, skill: { '1': 0 } },
    });
    const lines = [
      syntheticResult({ ...job, key: 'old', fingerprint: 'a', metrics: skill(0.1) }),
      syntheticResult({ ...job, seed: 2, key: 'other', fingerprint: 'a' }),
      syntheticResult({ ...job, config: { ridge: 0.1 }, key: 'variant', fingerprint: 'a' }),
      syntheticResult({ ...job, key: 'new', fingerprint: 'b', metrics: skill(0.2) }),
    ];
    writeFileSync(join(dir, 'results.jsonl'), jsonl(lines) + '{"torn');
    expect(readResults(dir).map((r) => r.key)).toEqual(['new', 'other', 'variant']);
    // several folders: their union, and of a job in two of them the result that finished last
    const second = mkdtempSync(join(tmpdir(), 'wb-read-'));
    const late = syntheticResult({ ...job, key: 'late', fingerprint: 'c', finishedAt: '2026-11-27T10:00:00Z' });
    const elsewhere = syntheticResult({
      ...job,
      modelId: 'jepa',
      model: 'jepa',
      key: 'jepa',
      fingerprint: 'd',
      finishedAt: '2026-11-27T09:00:00Z',
    });
    writeFileSync(join(second, 'results.jsonl'), jsonl([late, elsewhere]));
    writeFileSync(join(dir, 'results.jsonl'), jsonl(lines.map((l) => ({ ...l, finishedAt: '2026-11-27T08:00:00Z' }))));
    expect(
      readRuns([dir, second])
        .map((r) => r.key)
        .sort(),
    ).toEqual(['jepa', 'late', 'other', 'variant']);
    expect(
      readRuns([second, dir])
        .map((r) => r.key)
        .sort(),
    ).toEqual(['jepa', 'late', 'other', 'variant']);
  });

  it('reports several runs only into a folder given with --out', () => {
    const r = bench(['report', 'a', 'b']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/report of 2 runs: say where it goes with --out DIR/);
  });
});

// one run of every protocol, then its report: the later tests read what the first wrote, so the tag is the block's
describe('pnpm bench --protocol all, and its report', { tags: ['slow'] }, () => {
  const out = join(scratch(), 'all');

  it('gives offline-explore, on-policy, on-policy-random and live results, with gains and recovery', {
    timeout: 600_000,
  }, () => {
    const r = bench([
      '--model',
      'possible-worlds,possible-worlds[library=scenario],linear',
      '--scenario',
      'hidden-laws',
      '--protocol',
      'all',
      '--budgets',
      '32',
      '--seeds',
      '1',
      '--test-episodes',
      '16',
      '--ood-episodes',
      '16',
      '--json',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { results } = JSON.parse(r.stdout);
    const find = (model: string, protocol: string, view = 'state') =>
      results.find((x: any) => x.model === model && x.protocol === protocol && x.view === view);
    const oracle = 'possible-worlds[library=scenario]';
    for (const p of ['offline', 'offline-explore', 'on-policy', 'on-policy-random', 'live'])
      expect(find(oracle, p), p).toMatchObject({ status: 'ok', privileged: true });
    const on = find(oracle, 'on-policy');
    expect(on.onPolicyGain).toBeCloseTo(
      on.metrics.test.skill['1'] - find(oracle, 'offline').metrics.test.skill['1'],
      12,
    );
    expect(on.onPolicyGainExplore).toEqual(expect.any(Number));
    expect(on.onPolicyGainRandom).toEqual(expect.any(Number));
    // every row of a seed is scored in the seed's units (the test split's std, docs/metrics.md): the persistence error
    // implied by a row's mse and skill is the same whatever the model and protocol (with each job's training std it
    // differed between protocols)
    const persistenceMse = (x: any) => x.metrics.test.mse['1'] / (1 - x.metrics.test.skill['1']);
    const reference = persistenceMse(find('linear', 'offline'));
    for (const [m, p] of [
      ['linear', 'offline-explore'],
      ['linear', 'on-policy-random'],
      ['linear', 'live'],
      [oracle, 'on-policy'],
      ['possible-worlds', 'offline-explore'],
    ])
      expect(persistenceMse(find(m, p)) / reference, `${m} ${p}`).toBeCloseTo(1, 6);
    // linear has no act(): on-policy is n/a, with the reason; the random-action control still runs
    expect(find('linear', 'on-policy')).toMatchObject({
      status: 'unsupported',
      reason: expect.stringMatching(/no act\(\)/),
    });
    expect(find('linear', 'on-policy-random').status).toBe('ok');
    const live = find(oracle, 'live').live;
    expect(live.shifts).toHaveLength(2);
    expect(live.movingSkill).toHaveLength(256);
    expect(live.recovery).toHaveLength(2);
    expect(live.updates).toBe(true);
    expect(find('linear', 'live').live.updates).toBe(false);
    expect(find('linear', 'offline', 'frame').filmstrip[0]).toMatch(/^data:image\/png;base64,/);
  });

  it('writes a self-contained report that opens in headless Chromium with every plot drawn', async () => {
    const r = bench(['report', out]);
    expect(r.code, r.stderr).toBe(0);
    const file = join(out, 'report.html');
    const html = readFileSync(file, 'utf8');
    // the headline table beside it, README-ready: the possible-worlds oracle on hidden-laws (in the oracles' table)
    // with its on-policy gain and live recovery
    // (first, how far the run got: every planned job done)
    const board = readFileSync(join(out, 'leaderboard.md'), 'utf8').split('\n');
    expect(board[2]).toMatch(
      joined(
        /^- `.*all`: `pnpm bench --model possible-worlds,possible-worlds\[library=scenario\],linear .*` /,
        /at \S+: (\d+) of \1 planned jobs done \(\d+ ok, \d+ unsupported, 0 failed\), complete$/,
      ),
    );
    expect(board[4]).toBe(
      '| scenario / view | model | auc | budget | seeds | skill h=1 | skill h=H | accElement h=1 | on-policy gain | ' +
        'live recovery (steps) | fit s |',
    );
    const pwLine = board.findIndex((l) =>
      l.startsWith('| hidden-laws-v1 / state | possible-worlds[library=scenario] * |'),
    );
    expect(pwLine).toBeGreaterThan(board.indexOf(ORACLE_NOTE));
    // the default (no hints) is a school's row, above the oracles
    expect(board.findIndex((l) => l.startsWith('| hidden-laws-v1 / state | possible-worlds |'))).toBeLessThan(
      board.indexOf(ORACLE_NOTE),
    );
    // the report shows the law each found, its evidence and its rivals
    expect(html).toMatch(
      joined(
        /<h3>Laws found by possible-worlds \(offline, budget 32, seed 0\)<\/h3><table /,
        /class="laws">(.(?!<\/table>))*<tr><td>5<\/td>/,
      ),
    );
    expect(html).toMatch(
      /<h3>Laws found by possible-worlds\[library=scenario\] \* oracle \(offline, budget 32, seed 0\)<\/h3>/,
    );
    const pw = board[pwLine].split(' | ');
    expect(pw[3]).toBe('32');
    expect(pw[4]).toBe('1');
    expect(Number(pw[5])).toBeGreaterThan(0.5);
    expect(pw[7]).toBe('n/a'); // accElement: hidden-laws' state is real
    // on-policy gain: a number (Number() would take NaN)
    expect(pw[8]).toMatch(/^-?\d+\.\d{3}( ± \d+\.\d{3})?( \(b=\d+\))?$/);
    expect(pw[9]).toMatch(/^(\d+|-) \(\d\/2 never\)$/);
    expect(html).toMatch(
      joined(
        /<ul class="runs"><li><code>[^<]*all<\/code>: /,
        /<code>pnpm bench --model possible-worlds,possible-worlds\[library=scenario\],linear [^<]*<\/code> /,
        /at \S+: \d+ of \d+ planned jobs done/,
      ),
    );
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/); // no scripts, nothing fetched
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${file}`);
      const plots = await page.$$eval('.plot svg', (svgs) =>
        svgs.map((s) => ({
          marks: s.querySelectorAll('path, line, rect, circle').length,
          width: s.getBoundingClientRect().width,
        })),
      );
      // state view: skill against horizon, on-policy gains, the live stream; frame view: horizon, live stream
      // (one budget: no learning curve)
      expect(plots.length).toBe(5);
      for (const p of plots) {
        expect(p.marks).toBeGreaterThan(10);
        expect(p.width).toBeGreaterThan(100);
      }
      // where each protocol's training data lies (hidden-laws declares the particle's position as its plane): per
      // (model, view) run under several protocols, one plot of a panel per protocol; linear has no on-policy panel
      const planes = await page.$$eval('.plane svg', (svgs) =>
        svgs.map((s) =>
          Array.from(s.querySelectorAll('text'))
            .map((t) => (t as unknown as { textContent: string }).textContent)
            .filter((t) => t.endsWith('(1 seed)')),
        ),
      );
      const all = ['offline', 'offline-explore', 'on-policy-random', 'on-policy'].map((p) => `${p} (1 seed)`);
      expect(planes).toEqual([all.slice(0, 3), all.slice(0, 3), all, all]); // frame (linear), then state
      // the gains of every model on-policy, with the reason where there are none
      expect(html).toMatch(/<h2>on-policy gains<\/h2>/);
      expect(html).toMatch(
        joined(
          /<td>linear<\/td><td>hidden-laws-v1 \/ state<\/td><td>32<\/td><td>0\/1<\/td>/,
          /<td colspan="3"[^>]*>n\/a: linear has no act\(\)/,
        ),
      );
      const strips = await page.$$eval('img.strip', (imgs) =>
        imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth),
      );
      expect(strips.length).toBeGreaterThan(0);
      for (const w of strips) expect(w).toBeGreaterThan(0);
      const shot = join(mkdtempSync(join(tmpdir(), 'worldbench-report-')), 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
      expect(errors).toEqual([]);

      // a crafted results file (markup in every text field, strings where numbers and PNGs belong): no script
      // element, no event-handler attribute, nothing run
      const crafted = craftedRun();
      expect(bench(['report', crafted]).code).toBe(0);
      const dialogs: string[] = [];
      page.on('dialog', (d) => (dialogs.push(d.message()), d.dismiss()));
      await page.goto(`file://${join(crafted, 'report.html')}`);
      await page.mouse.move(600, 300);
      type Tag = { tagName: string; getAttributeNames(): string[]; getAttribute(name: string): string | null };
      const dom = {
        scripts: await page.$$eval('script', (els) => els.length),
        handlers: await page.$$eval('*', (els) =>
          els.flatMap((el) =>
            (el as unknown as Tag)
              .getAttributeNames()
              .filter((n) => n.toLowerCase().startsWith('on'))
              .map((n) => `${(el as unknown as Tag).tagName} ${n}`),
          ),
        ),
        images: await page.$$eval('img', (els) =>
          els.map((el) => ((el as unknown as Tag).getAttribute('src') ?? '').slice(0, 22)),
        ),
        text: (await page.textContent('body')) ?? '',
      };
      expect(dom.scripts).toBe(0);
      expect(dom.handlers).toEqual([]);
      expect(dom.images).toEqual(['data:image/png;base64,']);
      expect(dom.text).toContain('<script>alert(1)</script>'); // shown as text
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 300_000);

  it('writes the report of a run into another folder with --out', () => {
    const elsewhere = join(scratch(), 'combined');
    const before = readFileSync(join(out, 'leaderboard.md'), 'utf8');
    const r = bench(['report', out, '--out', elsewhere]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(elsewhere, 'leaderboard.md'), 'utf8')).toBe(before);
    expect(existsSync(join(elsewhere, 'report.html'))).toBe(true);
  });

  it('names the folders as typed: the same leaderboard.md wherever the checkout lies', () => {
    // committed results (docs/leaderboard) are reported from another clone on another machine: the report must
    // name no folder of the machine it was written on, so that it regenerates byte for byte
    const boards = [scratch(), scratch()].map((where) => {
      cpSync(out, join(where, 'results', 'all'), { recursive: true });
      const r = bench(['report', 'results/all/', '--out', 'board'], { cwd: where });
      expect(r.code, r.stderr).toBe(0);
      const board = readFileSync(join(where, 'board', 'leaderboard.md'), 'utf8');
      expect(board).not.toContain(where);
      expect(board).toMatch(/^- `results\/all`: `pnpm bench /m);
      return board;
    });
    expect(boards[1]).toBe(boards[0]);
  });

  it('refuses a folder without results, writing nothing', () => {
    const empty = join(scratch(), 'nothing');
    const r = bench(['report', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no results in .* \(no results\.jsonl\)/);
    expect(existsSync(join(empty, 'report.html'))).toBe(false);
    expect(existsSync(join(empty, 'leaderboard.md'))).toBe(false);
  });
});
