import { describe, expect, it } from 'vitest';
import { configFromDefaults, defineConfig, discoverPlugins, findWorkspaceRoot, loadModelModule, z } from '../src/index';

const table = defineConfig(
  'toy',
  {
    k: z.number().int().min(1).default(8).describe('neighbours'),
    rate: z.number().gt(0).max(1).default(0.5).describe('rate'),
    mode: z.enum(['fast', 'exact']).default('fast').describe('mode'),
    on: z.boolean().default(true).describe('switch'),
    ids: z.string().default('').describe('ids'),
  },
  {
    check: (c) => (c.mode === 'exact' && c.k > 4 ? [`mode 'exact' takes k <= 4, got ${c.k}`] : []),
    retiredKeys: { old: 'merged into mode' },
  },
);

describe('a config table (defineConfig)', () => {
  it('gives the defaults, and a row per field with its type, range or choices, and doc', () => {
    expect(table.defaults).toEqual({ k: 8, rate: 0.5, mode: 'fast', on: true, ids: '' });
    expect(table.fields.map((f) => [f.key, f.type, f.default, f.takes, f.doc])).toEqual([
      ['k', 'integer', 8, 'an integer >= 1', 'neighbours'],
      ['rate', 'number', 0.5, 'a number in (0, 1]', 'rate'],
      ['mode', 'choice', 'fast', "'fast' or 'exact'", 'mode'],
      ['on', 'boolean', true, 'true or false', 'switch'],
      ['ids', 'string', '', 'a string', 'ids'],
    ]);
  });

  it('resolves a partial config, naming every field it cannot use', () => {
    expect(table.resolve({ k: 2, mode: 'exact' })).toEqual({ k: 2, rate: 0.5, mode: 'exact', on: true, ids: '' });
    expect(() => table.resolve({ k: 0, rate: 0, mode: 'slow', on: 'yes' })).toThrow(
      `toy config: k is an integer >= 1, got 0; rate is a number in (0, 1], got 0; mode is 'fast' or 'exact', got ` +
        `"slow"; on is true or false, got "yes"`,
    );
    expect(() => table.resolve({ k: 1.5 })).toThrow('k is an integer >= 1, got 1.5');
    expect(() => table.resolve({ rate: 1.01 })).toThrow('rate is a number in (0, 1], got 1.01');
    expect(() => table.resolve({ kk: 1, old: 1 })).toThrow(
      'toy config: no config key "kk"; valid: k, rate, mode, on, ids; key old was retired (merged into mode); drop it',
    );
    expect(() => table.resolve({ mode: 'exact' })).toThrow("toy config: mode 'exact' takes k <= 4, got 8");
  });

  it('coerces CLI text by the field type, saying what a key takes', () => {
    expect([
      table.coerce('k', '3'),
      table.coerce('rate', '1e-1'),
      table.coerce('mode', 'exact'),
      table.coerce('on', 'false'),
      table.coerce('ids', 'a,b'),
    ]).toEqual([3, 0.1, 'exact', false, 'a,b']);
    expect(() => table.coerce('k', 'many')).toThrow('toy[k=many]: k is an integer >= 1');
    expect(() => table.coerce('k', '')).toThrow('k is an integer >= 1');
    expect(() => table.coerce('on', 'yes')).toThrow('toy[on=yes]: on is true or false');
    expect(() => table.coerce('nope', '1')).toThrow('toy has no config key "nope"; valid: k, rate, mode, on, ids');
  });

  it('refuses a field without a default or a doc, when the table is defined', () => {
    expect(() => defineConfig('bad', { k: z.number().describe('k') })).toThrow(
      'bad config: field k has no default; give it .default(value)',
    );
    expect(() => defineConfig('bad', { k: z.number().default(1) })).toThrow('bad config: field k has no doc');
  });

  it('types the fields of a model that states only defaults by their defaults, JSON for the rest', () => {
    const inferred = configFromDefaults('plain', { n: 1, on: false, name: 'a', sizes: [1, 2] });
    expect(inferred.fields.map((f) => [f.key, f.type])).toEqual([
      ['n', 'number'],
      ['on', 'boolean'],
      ['name', 'string'],
      ['sizes', 'json'],
    ]);
    expect(inferred.resolve({ sizes: inferred.coerce('sizes', '[3]') })).toEqual({
      n: 1,
      on: false,
      name: 'a',
      sizes: [3],
    });
    expect(() => inferred.coerce('sizes', '[3')).toThrow('plain[sizes=[3]: sizes is JSON');
  });
});

describe('every registered model', () => {
  it('has a config table whose defaults are its defaults and resolve to themselves', async () => {
    const registry = discoverPlugins(findWorkspaceRoot());
    expect(registry.models.length).toBeGreaterThan(4);
    for (const entry of registry.models) {
      const module = await loadModelModule(entry.entry);
      expect(module.config, entry.id).toBeDefined();
      expect(module.defaults, entry.id).toEqual(module.config!.defaults);
      expect(module.config!.resolve(module.defaults), entry.id).toEqual(module.defaults);
      for (const f of module.config!.fields) expect(f.doc.length, `${entry.id}.${f.key}`).toBeGreaterThan(10);
    }
  });
});
