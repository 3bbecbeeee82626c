// Finds models and scenarios from "worldbench" fields in package.json files, without importing them;
// imports one only when a job needs it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { UserError } from './errors';
import type { ModelScheme, WorldModelModule } from './model';
import type { Scenario } from './scenario';
import { specProblems } from './spec';

export interface PluginEntry {
  /** Model id ("linear") or versioned scenario id ("bouncing-balls-v1"). */
  id: string;
  kind: 'model' | 'scenario' | 'scheme';
  packageName: string;
  packageDir: string;
  /** Absolute path of the module that default-exports the plug-in. */
  entry: string;
  /** For a model given as `<scheme>:<arg>`: what follows the colon (the scheme plug-in resolves it). */
  arg?: string;
}

export interface Registry {
  root: string;
  models: PluginEntry[];
  scenarios: PluginEntry[];
  /** Model schemes: `--model <scheme>:<arg>` (e.g. onnx). */
  schemes: PluginEntry[];
}

/** The nearest folder at or above `from` holding pnpm-workspace.yaml. */
export function findWorkspaceRoot(from = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir)
      throw new UserError(`no pnpm-workspace.yaml at or above ${from}: run worldbench from inside its workspace`);
    dir = up;
  }
}

/** Package folders of the workspace (patterns of the form "dir/*" or "dir" in pnpm-workspace.yaml). */
export function workspacePackageDirs(root: string): string[] {
  const manifest = parseYaml(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')) as { packages?: string[] };
  const dirs: string[] = [];
  for (const pattern of manifest.packages ?? []) {
    if (pattern.endsWith('/*')) {
      const parent = join(root, pattern.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const d of readdirSync(parent, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)))
        if (d.isDirectory() && existsSync(join(parent, d.name, 'package.json'))) dirs.push(join(parent, d.name));
    } else if (existsSync(join(root, pattern, 'package.json'))) dirs.push(join(root, pattern));
  }
  return dirs;
}

/** Installed (non-workspace) packages in the root node_modules, scoped ones included. */
function installedPackageDirs(root: string): string[] {
  const nm = join(root, 'node_modules');
  if (!existsSync(nm)) return [];
  const dirs: string[] = [];
  for (const d of readdirSync(nm, { withFileTypes: true })) {
    if (d.name.startsWith('.')) continue;
    if (d.name.startsWith('@')) {
      for (const s of readdirSync(join(nm, d.name), { withFileTypes: true })) dirs.push(join(nm, d.name, s.name));
    } else dirs.push(join(nm, d.name));
  }
  return dirs.filter((d) => existsSync(join(d, 'package.json')));
}

interface WorldbenchField {
  models?: Record<string, string>;
  scenarios?: Record<string, string>;
  schemes?: Record<string, string>;
}

export function discoverPlugins(root = findWorkspaceRoot()): Registry {
  const models = new Map<string, PluginEntry>();
  const scenarios = new Map<string, PluginEntry>();
  const schemes = new Map<string, PluginEntry>();
  const seen = new Set<string>();
  for (const dir of [...workspacePackageDirs(root), ...installedPackageDirs(root)]) {
    let pkg: { name?: string; worldbench?: WorldbenchField };
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      continue; // not ours to judge
    }
    if (!pkg.worldbench || !pkg.name || seen.has(pkg.name)) continue;
    seen.add(pkg.name); // a workspace package is also linked into node_modules: count it once
    for (const [kind, table, map] of [
      ['model', pkg.worldbench.models, models],
      ['scenario', pkg.worldbench.scenarios, scenarios],
      ['scheme', pkg.worldbench.schemes, schemes],
    ] as const) {
      for (const [id, rel] of Object.entries(table ?? {})) {
        if (map.has(id))
          throw new UserError(
            `${kind} id "${id}" is registered twice: by ${map.get(id)!.packageName} and by ${pkg.name}`,
          );
        map.set(id, { id, kind, packageName: pkg.name, packageDir: dir, entry: resolve(dir, rel) });
      }
    }
  }
  const sorted = (m: Map<string, PluginEntry>) => [...m.values()].sort((a, b) => a.id.localeCompare(b.id));
  return { root, models: sorted(models), scenarios: sorted(scenarios), schemes: sorted(schemes) };
}

/** A scenario by versioned id, or by name alone (the highest version). */
export function findScenario(registry: Registry, name: string): PluginEntry {
  const exact = registry.scenarios.find((s) => s.id === name);
  if (exact) return exact;
  const versions = registry.scenarios
    .filter((s) => s.id.replace(/-v\d+$/, '') === name)
    .sort((a, b) => Number(b.id.match(/-v(\d+)$/)![1]) - Number(a.id.match(/-v(\d+)$/)![1]));
  if (versions.length) return versions[0];
  throw new UserError(
    `unknown scenario "${name}"; valid: ${registry.scenarios.map((s) => s.id).join(', ') || '(none registered)'}`,
  );
}

export function findModel(registry: Registry, id: string): PluginEntry {
  const m = registry.models.find((x) => x.id === id);
  if (m) return m;
  throw new UserError(
    `unknown model "${id}"; valid: ${registry.models.map((x) => x.id).join(', ') || '(none registered)'}`,
  );
}

async function importDefault(entry: string, what: string): Promise<unknown> {
  let mod: { default?: unknown };
  try {
    mod = await import(pathToFileURL(entry).href);
  } catch (err) {
    throw new UserError(`${what}: importing ${entry} threw: ${(err as Error)?.message ?? err}`, { cause: err });
  }
  if (mod.default === undefined)
    throw new UserError(`${what}: ${entry} has no default export; export default the plug-in object`);
  return mod.default;
}

export async function loadModelModule(entry: string, what = 'model'): Promise<WorldModelModule> {
  const m = (await importDefault(entry, what)) as Partial<WorldModelModule>;
  const missing = (['card', 'defaults', 'supports', 'create', 'load'] as const).filter((k) => m?.[k] === undefined);
  if (
    missing.length ||
    typeof m.supports !== 'function' ||
    typeof m.create !== 'function' ||
    typeof m.load !== 'function'
  )
    throw new UserError(
      `${what}: the default ` +
        `export of ${entry} is not a WorldModelModule (missing or ` +
        `wrong: ${missing.join(', ') || 'supports/create/load must be functions'}); see docs/writing-a-model.md`,
    );
  return m as WorldModelModule;
}

/** The module of `--model <scheme>:<arg>`, through the registered scheme plug-in. */
/** `--model onnx:x.onnx` -> the registered scheme's entry with `arg` set, or null when `text` names no scheme. */
export function schemeEntry(registry: Registry, text: string): PluginEntry | null {
  const m = /^([a-z][a-z0-9-]*):(.+)$/.exec(text);
  if (!m) return null;
  const entry = registry.schemes.find((s) => s.id === m[1]);
  if (!entry)
    throw new UserError(
      `unknown model ` +
        `scheme "${m[1]}:" in ` +
        `--model ${text}; valid: ${registry.schemes.map((s) => `${s.id}:`).join(', ') || '(none registered)'}`,
    );
  return { ...entry, id: text, arg: m[2] };
}

/** The module of a scheme entry (from schemeEntry): the scheme plug-in resolves its arg. */
export async function loadSchemeModel(entry: PluginEntry, root: string): Promise<WorldModelModule> {
  const scheme = (await importDefault(entry.entry, `scheme of ${entry.id}`)) as Partial<ModelScheme>;
  if (typeof scheme?.resolve !== 'function')
    throw new UserError(`${entry.id}: the default export of ${entry.entry} has no resolve(arg) function`);
  return scheme.resolve(entry.arg ?? '', root);
}

export async function loadScenario(entry: string, what = 'scenario'): Promise<Scenario> {
  const s = (await importDefault(entry, what)) as Partial<Scenario>;
  const missing = (['spec', 'sampleWorld', 'reset', 'step', 'render', 'behavior', 'explore'] as const).filter(
    (k) => s?.[k] === undefined,
  );
  if (missing.length)
    throw new UserError(
      `${what}: the default ` +
        `export of ${entry} is not a Scenario (missing: ${missing.join(', ')}); see docs/writing-a-scenario.md`,
    );
  let problems: string[];
  try {
    problems = specProblems(s.spec!);
  } catch (err) {
    problems = [`it could not be read (${(err as Error)?.message ?? err})`];
  }
  if (problems.length)
    throw new UserError(
      `${what}: the spec of ${entry} is not valid: ${problems.join('; ')}; see docs/writing-a-scenario.md`,
    );
  return s as Scenario;
}
