// Every registered model passes checkWorldModel on every registered scenario; every scenario passes checkScenario.
import { describe, expect, it } from 'vitest';
import { checkScenario, checkWorldModel, discoverPlugins, loadModelModule, loadScenario } from '@worldbench/core';
import { root } from './helpers';

const registry = discoverPlugins(root);

describe.each(registry.scenarios.map((s) => [s.id, s] as const))('scenario %s', (_id, entry) => {
  it('passes checkScenario', async () => {
    const scenario = await loadScenario(entry.entry);
    expect(() => checkScenario(scenario)).not.toThrow();
  });

  it.each(registry.models.map((m) => [m.id, m] as const))('model %s passes checkWorldModel', async (_m, modelEntry) => {
    const [module, scenario] = await Promise.all([loadModelModule(modelEntry.entry), loadScenario(entry.entry)]);
    const views = await checkWorldModel(module, scenario);
    expect(views.length + ('reason' in module.supports(scenario.spec) ? 1 : 0)).toBeGreaterThan(0);
  });
});
