// A job's code fingerprint covers every workspace package in its import graph: a changed training engine
// (neural, onnx) must not let old jepa and spatial results be reused.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverPlugins } from '@worldbench/core';
import { CodeFingerprints, workspacePackages } from '../src/fingerprint';
import { planJobs } from '../src/plan';
import { root } from './helpers';

describe('the import graph of a job', () => {
  it('reaches the workspace packages a model imports, directly or not', () => {
    const graph = new CodeFingerprints(workspacePackages(root));
    const names = (dir: string) => graph.importGraph([join(root, dir)]).map((d) => d.slice(root.length + 1));
    expect(names('packages/jepa')).toEqual(['packages/core', 'packages/jepa', 'packages/neural', 'packages/onnx']);
    expect(names('packages/spatial')).toEqual(['packages/core', 'packages/neural', 'packages/onnx', 'packages/spatial']);
    expect(names('packages/possible-worlds')).toEqual(['packages/baselines', 'packages/core', 'packages/possible-worlds']);
    expect(names('packages/baselines')).toEqual(['packages/baselines', 'packages/core']);
    // a module file given with --model ./file.ts: the packages it imports by name (core) or by path (./planted
    // lies in runner's folder)
    expect(names('packages/runner/test/fixtures/short-data.ts')).toEqual(['packages/core', 'packages/runner', 'packages/runner/test/fixtures/short-data.ts']);
  });
});

/** A workspace of its own: @t/lib, model "uses-lib" importing it (from a file index.ts does not import), model "alone". */
function workspace(): { dir: string; setLib(version: number): void } {
  const dir = mkdtempSync(join(tmpdir(), 'worldbench-fingerprint-'));
  writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n');
  const persistence = JSON.stringify(join(root, 'packages/baselines/src/persistence.ts'));
  const pkg = (name: string, files: Record<string, string>, worldbench?: object) => {
    const at = join(dir, 'packages', name);
    mkdirSync(join(at, 'src'), { recursive: true });
    writeFileSync(join(at, 'package.json'), JSON.stringify({ name: `@t/${name}`, type: 'module', ...(worldbench ? { worldbench } : {}) }));
    for (const [file, text] of Object.entries(files)) writeFileSync(join(at, 'src', file), text);
  };
  pkg('uses-lib', { 'index.ts': `export { default } from ${persistence};\n`, 'engine.ts': `import { version } from '@t/lib';\nexport const engine = version;\n` }, { models: { 'uses-lib': './src/index.ts' } });
  pkg('alone', { 'index.ts': `export { default } from ${persistence};\n` }, { models: { alone: './src/index.ts' } });
  const setLib = (version: number) => pkg('lib', { 'index.ts': `export const version = ${version};\n` });
  setLib(1);
  return { dir, setLib };
}

describe('job keys', () => {
  it('change when a file of a workspace package the model imports changes, and only for the models importing it', async () => {
    const ws = workspace();
    const registry = { ...discoverPlugins(ws.dir), scenarios: discoverPlugins(root).scenarios };
    const plan = async () => {
      const jobs = await planJobs(registry, { models: ['uses-lib', 'alone'], scenarios: ['bouncing-balls'], views: ['state'], protocols: ['offline'], budgets: [16], seeds: [0], horizon: null, testEpisodes: 8, oodEpisodes: 8 });
      return Object.fromEntries(jobs.map((p) => [p.job.model, p.key]));
    };
    const before = await plan();
    expect(Object.keys(before).sort()).toEqual(['alone', 'uses-lib']);
    expect(await plan()).toEqual(before); // nothing changed: the same keys
    ws.setLib(2);
    const after = await plan();
    expect(after['uses-lib']).not.toBe(before['uses-lib']);
    expect(after.alone).toBe(before.alone);
  });
});
