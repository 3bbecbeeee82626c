import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { discoverPlugins, findModel, findScenario, findWorkspaceRoot, UserError } from '../src/index';

describe('registry', () => {
  const root = findWorkspaceRoot(fileURLToPath(new URL('.', import.meta.url)));
  const registry = discoverPlugins(root);

  it('finds the workspace plug-ins from package.json without importing them', () => {
    expect(registry.models.map((m) => m.id)).toEqual(expect.arrayContaining(['linear', 'persistence']));
    expect(registry.scenarios.map((s) => s.id)).toContain('bouncing-balls-v1');
    expect(findModel(registry, 'linear').entry).toMatch(/baselines\/src\/linear\.ts$/);
  });

  it('resolves a scenario by name to its highest version', () => {
    expect(findScenario(registry, 'bouncing-balls').id).toBe('bouncing-balls-v1');
  });

  it('names the valid ids when one is unknown', () => {
    expect(() => findModel(registry, 'nope')).toThrow(UserError);
    expect(() => findModel(registry, 'nope')).toThrow(/valid: .*linear/);
    expect(() => findScenario(registry, 'nope')).toThrow(/valid: .*bouncing-balls-v1/);
  });

  it('also finds installed (non-workspace) packages with a "worldbench" field, scoped or not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'worldbench-registry-'));
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'packages: []\n');
    const write = (pkgDir: string, pkg: object) => {
      mkdirSync(pkgDir, { recursive: true });
      writeFileSync(join(pkgDir, 'package.json'), JSON.stringify(pkg));
    };
    write(join(dir, 'node_modules/@lab/wm'), {
      name: '@lab/wm',
      worldbench: { models: { 'lab-wm': './dist/index.js' } },
    });
    write(join(dir, 'node_modules/their-world'), {
      name: 'their-world',
      worldbench: { scenarios: { 'their-world-v1': './index.js' } },
    });
    write(join(dir, 'node_modules/left-pad'), { name: 'left-pad' });
    const found = discoverPlugins(dir);
    expect(found.models.map((m) => [m.id, m.packageName, m.entry])).toEqual([
      ['lab-wm', '@lab/wm', join(dir, 'node_modules/@lab/wm/dist/index.js')],
    ]);
    expect(found.scenarios.map((s) => s.id)).toEqual(['their-world-v1']);
  });
});
