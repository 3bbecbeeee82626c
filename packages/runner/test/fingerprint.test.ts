// A job's code fingerprint covers every workspace package in its import graph: a changed training engine
// (neural, onnx) must not let old jepa and spatial results be reused.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverPlugins } from '@worldbench/core';
import { CodeFingerprints, resolveLocalImport, workspacePackages } from '../src/fingerprint';
import { planJobs } from '../src/plan';
import { bench, readLines, root } from './helpers';

describe('the import graph of a job', () => {
  it('reaches the workspace packages a model imports, directly or not', () => {
    const graph = new CodeFingerprints(workspacePackages(root));
    const names = (dir: string) => graph.importGraph([join(root, dir)]).map((d) => d.slice(root.length + 1));
    expect(names('packages/jepa')).toEqual(['packages/core', 'packages/jepa', 'packages/neural', 'packages/onnx']);
    expect(names('packages/spatial')).toEqual([
      'packages/core',
      'packages/neural',
      'packages/onnx',
      'packages/spatial',
    ]);
    expect(names('packages/possible-worlds')).toEqual([
      'packages/baselines',
      'packages/core',
      'packages/possible-worlds',
    ]);
    expect(names('packages/baselines')).toEqual(['packages/baselines', 'packages/core']);
    // a module file given with --model ./file.ts: the packages it imports by name (core), and the local file it
    // imports by path (./planted, outside any package's src/: a node of its own, followed to what it imports)
    expect(names('packages/runner/test/fixtures/short-data.ts')).toEqual([
      'packages/core',
      'packages/runner/test/fixtures/planted.ts',
      'packages/runner/test/fixtures/short-data.ts',
    ]);
  });

  it('resolves local imports as TypeScript does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'worldbench-resolve-'));
    for (const f of ['a.ts', 'b.mts', 'lib/index.ts', 'data.json']) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), '');
    }
    const from = join(dir, 'model.ts');
    expect(resolveLocalImport(from, './a')).toBe(join(dir, 'a.ts'));
    expect(resolveLocalImport(from, './a.js')).toBe(join(dir, 'a.ts'));
    expect(resolveLocalImport(from, './b.mjs')).toBe(join(dir, 'b.mts'));
    expect(resolveLocalImport(from, './lib')).toBe(join(dir, 'lib/index.ts'));
    expect(resolveLocalImport(from, './data.json')).toBe(join(dir, 'data.json'));
    expect(resolveLocalImport(from, './missing')).toBeNull();
  });
});

describe('a single-file plug-in', () => {
  it('reruns its jobs when a local file it imports changes (it used to print ok (cached) with the old figures)', () => {
    // git ignores results/; inside the workspace, @worldbench/core resolves
    mkdirSync(join(root, 'results'), { recursive: true });
    const dir = mkdtempSync(join(root, 'results', 'plugin-'));
    try {
      const helper = (offset: number) => `// how far the forecast is from zero\nexport const OFFSET = ${offset};\n`;
      writeFileSync(join(dir, 'offset.ts'), helper(1));
      // imported through another local file
      writeFileSync(join(dir, 'helpers.ts'), `export { OFFSET } from './offset';\n`);
      writeFileSync(
        join(dir, 'model.ts'),
        [
          `import { episodeCount, forecastViews, tensor, type WorldModelModule } from '@worldbench/core';`,
          `import { OFFSET } from './helpers.js';`,
          `const module: WorldModelModule<{}> = {`,
          `  card: { id: 'offset-model', school: 'external', summary: 'forecasts OFFSET everywhere' },`,
          `  defaults: {},`,
          `  supports: (spec) => ({ views: forecastViews(spec) }),`,
          `  create: async (spec, view) => ({`,
          `    fit: async () => ({ params: 0, backend: 'js' }),`,
          `    forecast: async (q) => ({ mean: tensor([episodeCount(q.history), q.horizon, ` +
            `...spec.views[view].shape], new Float32Array(episodeCount(q.history) * q.horizon * ` +
            `spec.views[view].shape.reduce((a, b) => a * b, 1)).fill(OFFSET)) }),`,
          `    save: async () => {},`,
          `  }),`,
          `  load: async () => { throw new Error('not saved'); },`,
          `};`,
          `export default module;`,
        ].join('\n'),
      );
      const run = [
        '--model',
        join(dir, 'model.ts'),
        '--scenario',
        'bouncing-balls',
        '--view',
        'state',
        '--budgets',
        '16',
        '--test-episodes',
        '8',
        '--ood-episodes',
        '8',
        '--out',
        join(dir, 'out'),
      ];
      const mse = () => readLines(join(dir, 'out', 'results.jsonl')).at(-1)!.metrics!.test.mse['1'];
      const first = bench(run);
      expect(first.code, first.stderr).toBe(0);
      const before = mse();
      const again = bench(run);
      expect(again.stderr).toMatch(/offset-model .*: ok \(cached\)/);
      writeFileSync(join(dir, 'offset.ts'), helper(3));
      const edited = bench(run);
      expect(edited.code, edited.stderr).toBe(0);
      expect(edited.stderr).not.toMatch(/\(cached\)/);
      expect(edited.stderr).toMatch(/offset-model .*: ok in /);
      expect(mse()).not.toBe(before); // the new figures, from the edited helper
      expect(readLines(join(dir, 'out', 'results.jsonl'))).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A workspace of its own: @t/lib, model "uses-lib" importing it (from a file index.ts does not import), model "alone".
 */
function workspace(): { dir: string; setLib(version: number): void } {
  const dir = mkdtempSync(join(tmpdir(), 'worldbench-fingerprint-'));
  writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n');
  const persistence = JSON.stringify(join(root, 'packages/baselines/src/persistence.ts'));
  const pkg = (name: string, files: Record<string, string>, worldbench?: object) => {
    const at = join(dir, 'packages', name);
    mkdirSync(join(at, 'src'), { recursive: true });
    writeFileSync(
      join(at, 'package.json'),
      JSON.stringify({ name: `@t/${name}`, type: 'module', ...(worldbench ? { worldbench } : {}) }),
    );
    for (const [file, text] of Object.entries(files)) writeFileSync(join(at, 'src', file), text);
  };
  pkg(
    'uses-lib',
    {
      'index.ts': `export { default } from ${persistence};\n`,
      'engine.ts': `import { version } from '@t/lib';\nexport const engine = version;\n`,
    },
    { models: { 'uses-lib': './src/index.ts' } },
  );
  pkg('alone', { 'index.ts': `export { default } from ${persistence};\n` }, { models: { alone: './src/index.ts' } });
  const setLib = (version: number) => pkg('lib', { 'index.ts': `export const version = ${version};\n` });
  setLib(1);
  return { dir, setLib };
}

describe('job keys', () => {
  it(
    'change when a file of a workspace package the model imports changes, and only for the models ' + 'importing it',
    async () => {
      const ws = workspace();
      const registry = { ...discoverPlugins(ws.dir), scenarios: discoverPlugins(root).scenarios };
      const plan = async () => {
        const jobs = await planJobs(registry, {
          models: ['uses-lib', 'alone'],
          scenarios: ['bouncing-balls'],
          views: ['state'],
          protocols: ['offline'],
          budgets: [16],
          seeds: [0],
          horizon: null,
          testEpisodes: 8,
          oodEpisodes: 8,
        });
        return Object.fromEntries(jobs.map((p) => [p.job.model, p.key]));
      };
      const before = await plan();
      expect(Object.keys(before).sort()).toEqual(['alone', 'uses-lib']);
      expect(await plan()).toEqual(before); // nothing changed: the same keys
      ws.setLib(2);
      const after = await plan();
      expect(after['uses-lib']).not.toBe(before['uses-lib']);
      expect(after.alone).toBe(before.alone);
    },
  );
});
