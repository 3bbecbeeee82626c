import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { chromium, type Browser } from 'playwright-core';
import { findWorkspaceRoot } from '@worldbench/core';
import type { JobResult } from '../src/index';

export const root = findWorkspaceRoot(fileURLToPath(new URL('.', import.meta.url)));

/** The planted models of the failure tests, by file. */
export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/**
 * Runs `pnpm bench ...args` as a subprocess, the way a user does: from the workspace root, or from `cwd`. It runs
 * what the `bench` script runs (`tsx scripts/bench.ts`) as pnpm would: from the root, with INIT_CWD saying where
 * the user stands; without pnpm itself, which costs ~0.5 s a call (`viaPnpm` goes through it, as a user's shell).
 * `unprivileged`: without root's right to write files whose mode says read-only (CAP_DAC_OVERRIDE), so that
 * a test of a read-only file means the same under root (CI containers) as under a user.
 */
export function bench(
  args: string[],
  options: { cwd?: string; unprivileged?: boolean; env?: Record<string, string>; viaPnpm?: boolean } = {},
): { code: number; stdout: string; stderr: string } {
  const launcher = options.viaPnpm ? ['pnpm', 'bench'] : [process.execPath, '--import', 'tsx', 'scripts/bench.ts'];
  const [command, ...rest] =
    options.unprivileged && process.getuid?.() === 0
      ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', ...launcher]
      : launcher;
  const cwd = options.cwd ?? root;
  const r = spawnSync(command, [...rest, ...args], {
    cwd: options.viaPnpm ? cwd : root,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', ...(options.viaPnpm ? {} : { INIT_CWD: cwd }), ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The arguments of a small sweep into `out`: `model` (a list, ids or paths) on `scenario`, on `view` and `protocol`
 * when given, at budget 16 unless `budgets` says, `seeds` when given, each job scored on 8 test and 8 ood episodes.
 */
export function smallSweep(o: {
  model: string;
  scenario: string;
  view?: string;
  protocol?: string;
  budgets?: string;
  seeds?: string;
  out: string;
}): string[] {
  return [
    '--model',
    o.model,
    '--scenario',
    o.scenario,
    ...(o.view ? ['--view', o.view] : []),
    ...(o.protocol ? ['--protocol', o.protocol] : []),
    '--budgets',
    o.budgets ?? '16',
    ...(o.seeds ? ['--seeds', o.seeds] : []),
    '--test-episodes',
    '8',
    '--ood-episodes',
    '8',
    '--out',
    o.out,
  ];
}

/** Starts `pnpm bench ...args` in a process group of its own (so that the whole run can be killed at once). */
export function benchInBackground(args: string[]) {
  const child = spawn('pnpm', ['bench', ...args], {
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0' },
    detached: true,
    stdio: 'ignore',
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited };
}

export function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'worldbench-test-'));
}

/** Every line of a results file, parsed (a torn last line is left out, as the store does). */
export function readLines(file: string): JobResult[] {
  const text = readFileSync(file, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/**
 * A result without what differs from run to run of the same job: timings, peak memory, finishing time,
 * and the git commit (others commit to the checkout while tests run; the code a job imports is in its key).
 */
export function comparable(r: JobResult): unknown {
  const { finishedAt: _t, cost, env, ...rest } = r;
  const { commit: _c, ...machine } = env;
  return { ...rest, env: machine, cost: cost && { params: cost.params } };
}

/** key -> comparable result, for the newest line of each key. */
export function byKey(results: JobResult[]): Map<string, unknown> {
  return new Map(results.map((r) => [r.key, comparable(r)]));
}

/** A synthetic result line that passes the store's check (result.ts): a job of model "m" on "s-v1", ok. */
export function syntheticResult(fields: Partial<JobResult> = {}): JobResult {
  return {
    model: 'm',
    modelId: 'm',
    config: {},
    scenario: 's-v1',
    view: 'state',
    protocol: 'offline',
    budget: 64,
    seed: 0,
    evaluation: { testEpisodes: 8, oodEpisodes: 8, horizon: 2 },
    key: 'k',
    fingerprint: 'f',
    status: 'ok',
    privileged: false,
    metrics: {
      test: { mse: { '1': 0.5, '2': 0.7 }, skill: { '1': 0.25, '2': 0.1 } },
      ood: { mse: { '1': 0.9, '2': 1.1 }, skill: { '1': 0.05, '2': 0 } },
    },
    cost: { fitSeconds: 0.01, forecastStepsPerSecond: 1000, params: 3, peakMemoryMB: 90 },
    env: { backend: 'js', ort: null, node: 'v20', cpu: 'cpu', commit: null },
    finishedAt: '2026-12-01T00:00:00.000Z',
    ...fields,
  };
}

/** Lines of a results file: each value as JSON, newline-ended. */
export const jsonl = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v) + '\n').join('');

/** Markup that would run script if a report let it through unescaped (each with a distinct alert). */
export const ATTACK = {
  script: '<script>alert(1)</script>',
  img: '"><img src=x onerror=alert(2)>',
  attr: "' onmouseover='alert(3)",
  svg: '<svg onload=alert(4)>',
};

/**
 * A run folder as an attacker could share it: lines of the right shape whose text fields carry markup (they
 * must be shown escaped), lines whose numbers or images are not numbers or PNG data URIs (they must be skipped),
 * and a plan record whose command and commit carry markup. Holds one png data URI of a real 2 x 2 image.
 */
export function craftedRun(): string {
  const dir = join(scratch(), 'crafted');
  mkdirSync(dir);
  const image = Object.assign(new PNG({ width: 2, height: 2 }), { data: Buffer.alloc(16, 200) });
  const png = `data:image/png;base64,${PNG.sync.write(image).toString('base64')}`;
  const lines = [
    syntheticResult({
      key: 'k1',
      model: ATTACK.script,
      scenario: `s-v1${ATTACK.img}`,
      view: `state${ATTACK.attr}`,
      filmstrip: [png],
      env: { backend: ATTACK.svg, ort: null, node: ATTACK.script, cpu: ATTACK.img, commit: ATTACK.attr },
    }),
    syntheticResult({
      key: 'k2',
      model: ATTACK.img,
      budget: 256,
      status: 'failed',
      metrics: null,
      error: ATTACK.script,
    }),
    syntheticResult({ key: 'k3', budget: ATTACK.script as never }),
    syntheticResult({ key: 'k4', seed: ATTACK.img as never }),
    syntheticResult({ key: 'k5', filmstrip: [`x${ATTACK.img}`] }),
    syntheticResult({ key: 'k6', filmstrip: [`data:image/png;base64,AAAA" onerror="alert(5)`] }),
    syntheticResult({
      key: 'k7',
      metrics: { test: { mse: { '1': ATTACK.script as never }, skill: {} }, ood: { mse: { '1': 1 }, skill: {} } },
    }),
    syntheticResult({
      key: 'k8',
      live: {
        meanSkill: 0,
        movingSkill: [ATTACK.svg as never],
        shifts: [1],
        dips: [0],
        recoverable: [false],
        recovery: [null],
        updates: true,
      },
    }),
    syntheticResult({ key: 'k9', onPolicyGain: ATTACK.script as never }),
  ];
  writeFileSync(join(dir, 'results.jsonl'), jsonl(lines));
  writeFileSync(
    join(dir, 'plan.json'),
    JSON.stringify({
      format: 1,
      planHash: 'p',
      codeHash: 'c',
      commit: ATTACK.img,
      shard: { index: 0, count: 1 },
      keys: ['k1', 'k2'],
      argv: ['--model', ATTACK.script],
    }),
  );
  return dir;
}

/**
 * The attribute names of every tag in an HTML text (quoted values skipped whole, so escaped text in them is not read as
 * markup).
 */
export function tagAttributes(html: string): string[] {
  const names: string[] = [];
  for (const [, attrs] of html.matchAll(
    /<[a-zA-Z][^\s>/]*((?:\s+[^\s=>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g,
  ))
    for (const [, name] of attrs.matchAll(/\s+([^\s=>]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?/g))
      names.push(name.toLowerCase());
  return names;
}

/** One regex from several written on their own lines (a message too long for one): sources joined, flags of all. */
export function joined(...parts: RegExp[]): RegExp {
  return new RegExp(parts.map((p) => p.source).join(''), [...new Set(parts.flatMap((p) => [...p.flags]))].join(''));
}

/** Debian's Chromium, headless, with nothing fetched in the background: the real browser the report is opened in. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
