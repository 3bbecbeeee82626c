// The fixture through the normal CLI path: `pnpm bench --model onnx:...`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findWorkspaceRoot } from '@worldbench/core';

const root = findWorkspaceRoot(fileURLToPath(new URL('.', import.meta.url)));
const fixture = fileURLToPath(new URL('../fixtures/hidden-laws-mlp.onnx', import.meta.url));
const bench = (args: string[]) =>
  spawnSync('pnpm', ['--silent', 'bench', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });

describe('pnpm bench --model onnx:<file>', () => {
  it('benches the PyTorch fixture once per seed (budget n/a) and beats persistence on hidden-laws', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'worldbench-onnx-cli-')), 'run');
    const r = bench([
      '--model',
      `onnx:${relative(root, fixture)},persistence`,
      '--scenario',
      'hidden-laws',
      '--view',
      'state',
      '--budgets',
      '64,256',
      '--seeds',
      '2',
      '--json',
      '--out',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const onnx = JSON.parse(r.stdout).results.filter((x: any) => x.modelId.startsWith('onnx:'));
    expect(onnx).toHaveLength(2); // one per seed, whatever the budgets
    for (const x of onnx) {
      expect(x.status).toBe('ok');
      expect(x.budget).toBeNull();
      expect(x.env.backend).toMatch(/^onnxruntime /);
      expect(x.metrics.test.skill['1']).toBeGreaterThan(0.5);
    }
  }, 300_000);

  it('refuses a truncated file with exit code 2 and writes no results line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'worldbench-onnx-cli-'));
    writeFileSync(join(dir, 'bad.onnx'), readFileSync(fixture).subarray(0, 3000));
    writeFileSync(join(dir, 'bad.worldbench.json'), readFileSync(fixture.replace(/\.onnx$/, '.worldbench.json')));
    const r = bench([
      '--model',
      `onnx:${join(dir, 'bad.onnx')}`,
      '--scenario',
      'hidden-laws',
      '--out',
      join(dir, 'run'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ends early: is it truncated/);
    expect(existsSync(join(dir, 'run'))).toBe(false);
  });
});
