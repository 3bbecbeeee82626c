// Every registered model passes checkWorldModel on every registered scenario; every scenario passes checkScenario.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkScenario,
  checkWorldModel,
  discoverPlugins,
  loadModelModule,
  loadScenario,
  type PluginEntry,
} from '@worldbench/core';
import { root } from './helpers';

const registry = discoverPlugins(root);

describe.each(registry.scenarios.map((s) => [s.id, s] as const))('scenario %s', (_id, entry) => {
  it('passes checkScenario', async () => {
    const scenario = await loadScenario(entry.entry);
    expect(() => checkScenario(scenario)).not.toThrow();
  });

  // A model that trains a network (its package depends on @worldbench/neural) takes 10-25 s per scenario on the
  // loaded 2-core machine: those checks are tagged slow (pnpm test runs them; pnpm test:unit skips them).
  const trainsNetwork = (m: PluginEntry) =>
    '@worldbench/neural' in (JSON.parse(readFileSync(join(m.packageDir, 'package.json'), 'utf8')).dependencies ?? {});
  const check = async (modelEntry: PluginEntry) => {
    const [module, scenario] = await Promise.all([loadModelModule(modelEntry.entry), loadScenario(entry.entry)]);
    const views = await checkWorldModel(module, scenario);
    expect(views.length + ('reason' in module.supports(scenario.spec) ? 1 : 0)).toBeGreaterThan(0);
  };
  it.each(registry.models.filter((m) => !trainsNetwork(m)).map((m) => [m.id, m] as const))(
    'model %s passes checkWorldModel',
    (_m, m) => check(m),
  );
  it.each(registry.models.filter(trainsNetwork).map((m) => [m.id, m] as const))(
    'model %s passes checkWorldModel',
    { tags: ['slow'] },
    (_m, m) => check(m),
  );
});
