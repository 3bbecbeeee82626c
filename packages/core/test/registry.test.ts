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
});
