// What a sweep shows while it runs: in a log (not a terminal) a timestamped start and end line per job, a
// heartbeat per running job, environment notices once, and a summary; on a terminal a line per worker and totals.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { etaSeconds, formatDuration, sweepProgress, sweepSummary } from '../src/progress';
import { bench, fixture, scratch, syntheticResult } from './helpers';

const STAMP = String.raw`\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\]`;

describe('progress in a log (not a terminal)', () => {
  it('has start lines, a heartbeat of the slow job with its in-job progress, each notice once, and a summary', {
    tags: ['slow'],
  }, () => {
    const out = join(scratch(), 'log');
    // a fake slow model (3 s of fit, reporting epochs) beside persistence; a heartbeat every second instead of a minute
    const r = bench(
      [
        '--model',
        `${fixture('slow-model.ts')},persistence`,
        '--scenario',
        'bouncing-balls',
        '--view',
        'state',
        '--budgets',
        '16',
        '--seeds',
        '2',
        '--test-episodes',
        '8',
        '--ood-episodes',
        '8',
        '--workers',
        '2',
        '--out',
        out,
      ],
      {
        env: { WORLDBENCH_HEARTBEAT_SECONDS: '1' },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${STAMP} sweep: 4 job\\(s\\), 0 already in the results file, 4 to run on 2 worker\\(s\\)`),
      ),
    );
    for (const seed of [0, 1]) {
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(`^${STAMP} start planted-slow bouncing-balls-v1/state offline b=16 seed=${seed}$`),
        ),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^${STAMP} \\[\\d/4\\] planted-slow bouncing-balls-v1/state offline b=16 seed=${seed}: ok in \\d+\\.\\ds`,
          ),
        ),
      );
    }
    // the slow job's heartbeat says how long it has run and where it is: in fit, at an epoch
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${STAMP} running planted-slow bouncing-balls-v1/state offline b=16 seed=\\d: \\d+\\.\\ds so far, in ` +
            `fit: epoch [1-6]/6$`,
        ),
      ),
    );
    // the notice every worker printed, once
    expect(lines.filter((l) => l.includes('planted notice'))).toEqual([
      'worldbench: planted notice, printed by every process that fits this model',
    ]);
    // the summary: counts, and where the results are
    expect(lines).toContainEqual(
      expect.stringMatching(/^done in \d+\.\ds: 4 job\(s\), 4 ok, 0 failed, 0 unsupported; 0 from the results file$/),
    );
    expect(lines).toContain(`results: ${join(out, 'results.jsonl')}`);
  });
});

/** A stream that says it is a terminal and keeps what is written to it. */
function fakeTerminal(): NodeJS.WriteStream & { text(): string } {
  let written = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      written += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream & { text(): string };
  Object.assign(stream, {
    isTTY: true,
    columns: 200,
    rows: 40,
    cursorTo: () => true,
    moveCursor: () => true,
    clearLine: () => true,
    clearScreenDown: () => true,
    text: () => written,
  });
  return stream;
}

describe('progress on a terminal', () => {
  it(
    'draws a totals line (elapsed, ETA, counts) and a line per worker with its job, phase and in-job ' + 'progress',
    async () => {
      const stream = fakeTerminal();
      let now = 0;
      const progress = sweepProgress(stream, { now: () => now });
      progress.start(3, { workers: 2, cached: 1, estimateSeconds: null });
      progress.jobFinished('c', 'cached job', { status: 'ok', cached: true, seconds: 0 });
      progress.jobStarted('a', 'linear bb/state offline b=256 seed=0');
      progress.jobStarted('b', 'jepa bb/state offline b=256 seed=0');
      progress.jobPhase('b', 'fit');
      progress.jobProgress('b', 3, 10, 'epoch');
      now = 12_000;
      progress.jobFinished('a', 'linear bb/state offline b=256 seed=0', {
        status: 'failed',
        cached: false,
        seconds: 12,
        failure: 'in fit: boom',
      });
      await new Promise((resolve) => setTimeout(resolve, 150)); // the display redraws on its own timer
      const screen = stream.text().replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, ''); // without cursor moves and colours
      // 12 s a job, 1 left, 2 workers
      expect(screen).toMatch(/jobs .* 2\/3 \| 12\.0s elapsed, ETA 6\.0s \| ok 1, failed 1, unsupported 0, cached 1/);
      expect(screen).toMatch(/w2 .* jepa bb\/state offline b=256 seed=0 \| \d+\.\ds \| fit: epoch 3\/10/);
      expect(screen).toMatch(/w1 .* idle/);
      expect(screen).toContain('failed: linear bb/state offline b=256 seed=0: in fit: boom');
      progress.stop();
    },
  );
});

describe('progress helpers', () => {
  it('formats durations and estimates what is left from the jobs run so far', () => {
    expect([formatDuration(12.34), formatDuration(245), formatDuration(3725)]).toEqual(['12.3s', '4m05s', '1h02m']);
    expect(etaSeconds([10, 20], 6, 2, null)).toBe(45); // 15 s a job, 6 left, 2 at once
    expect(etaSeconds([], 6, 2, 100)).toBe(100); // nothing finished yet: past timings
    expect(etaSeconds([], 6, 2, null)).toBeNull();
    expect(etaSeconds([10], 0, 2, null)).toBe(0);
  });

  it(
    'summarises a sweep: counts, each failed job with its phase and reason (its stack with --verbose), where the ' +
      'results are',
    () => {
      const failed = syntheticResult({
        key: 'f',
        status: 'failed',
        metrics: null,
        error: { message: 'boom', phase: 'act', stack: 'Error: boom\n    at act (my-model.ts:12:3)' },
      });
      const results = [
        syntheticResult(),
        failed,
        syntheticResult({ key: 'u', status: 'unsupported', metrics: null, reason: 'no act()' }),
      ];
      expect(sweepSummary(results, { seconds: 75, cached: 1, file: '/r/results.jsonl', verbose: false })).toBe(
        [
          'done in 1m15s: 3 job(s), 1 ok, 1 failed, 1 unsupported; 1 from the results file',
          '1 job(s) failed; rerun the same command to retry them (--verbose shows their stacks):',
          '  m s-v1/state offline b=64 seed=0: in act: boom',
          'results: /r/results.jsonl',
        ].join('\n'),
      );
      expect(sweepSummary(results, { seconds: 75, cached: 1, file: '/r/results.jsonl', verbose: true })).toContain(
        '  m s-v1/state offline b=64 seed=0: in act: boom\n      Error: boom\n      at act (my-model.ts:12:3)\n',
      );
    },
  );
});
