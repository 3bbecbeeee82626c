// The fingerprint of the code a job imports: a hash of the source of every workspace package in its import
// graph (core, runner, the model's and the scenario's packages, and what they import: neural and onnx for
// jepa and spatial, baselines for possible-worlds), and of every local file outside a package's src/ that the
// graph reaches by a relative import (the helpers of a single-file plug-in, followed through their own
// imports), so that results of changed code are never mixed with old ones. Packages installed from a registry
// are pinned by the lockfile and left out.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { workspacePackageDirs } from '@worldbench/core';

/** The source files of a package (src/ and package.json), or the one file given. */
function sourceFiles(path: string): string[] {
  if (existsSync(path) && statSync(path).isFile()) return [path];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (existsSync(join(path, 'src')) && statSync(join(path, 'src')).isDirectory()) walk(join(path, 'src'));
  if (existsSync(join(path, 'package.json'))) out.push(join(path, 'package.json'));
  return out;
}

/** The workspace's packages by name: what a bare import of one resolves to. */
export function workspacePackages(root: string): Map<string, string> {
  const byName = new Map<string, string>();
  for (const dir of workspacePackageDirs(root)) {
    const name = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name;
    if (typeof name === 'string') byName.set(name, dir);
  }
  return byName;
}

const CODE = /\.[cm]?[jt]sx?$/;
const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs', '.json'];

/**
 * The file a relative specifier names, resolved as TypeScript and tsx do ('./x' -> x.ts, './x.js' -> x.ts, './dir' ->
 * dir/index.ts); null when none exists.
 */
export function resolveLocalImport(fromFile: string, specifier: string): string | null {
  const base = resolve(dirname(fromFile), specifier.replace(/^file:\/\//, ''));
  const isFile = (p: string) => existsSync(p) && statSync(p).isFile();
  const swapped = /\.[cm]?jsx?$/.test(base)
    ? [
        base.replace(/\.js$/, '.ts'),
        base.replace(/\.jsx$/, '.tsx'),
        base.replace(/\.mjs$/, '.mts'),
        base.replace(/\.cjs$/, '.cts'),
      ]
    : [];
  const candidates = [
    base,
    ...swapped,
    ...EXTENSIONS.map((e) => base + e),
    ...EXTENSIONS.map((e) => join(base, 'index' + e)),
  ];
  return candidates.find(isFile) ?? null;
}
/** Module specifiers in source text: `from '...'`, `import '...'`, `import('...')`, `require('...')`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])([^'"\n]+)\1/g;
/** "@scope/name/sub/path" -> "@scope/name"; "name/sub" -> "name". */
const packageName = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** Package hashes and import edges, computed once per plan (a later plan sees edited files). */
export class CodeFingerprints {
  private readonly hashes = new Map<string, string>();
  private readonly edges = new Map<string, string[]>();
  private readonly dirs: string[];

  constructor(private readonly workspace: ReadonlyMap<string, string>) {
    this.dirs = [...workspace.values()];
  }

  /** The workspace package folder holding a file, or undefined. */
  private packageOf(file: string): string | undefined {
    return this.dirs.find((d) => file === d || file.startsWith(d + sep));
  }

  /**
   * The node of the graph a local file belongs to: its package, when the file is one the package's hash covers
   * (its src/ or package.json); else the file itself, hashed and followed on its own (a helper beside a
   * single-file plug-in, a test fixture, a file of no package at all).
   */
  private nodeOfFile(file: string): string {
    const pkg = this.packageOf(file);
    if (pkg && (file.startsWith(join(pkg, 'src') + sep) || file === join(pkg, 'package.json'))) return pkg;
    return file;
  }

  /**
   * The workspace packages a package folder (or one module file) imports directly: those its source names
   * (a bare specifier, or a path into another package's folder) and those its package.json depends on.
   */
  private importsOf(path: string): string[] {
    const hit = this.edges.get(path);
    if (hit) return hit;
    const found = new Set<string>();
    for (const file of sourceFiles(path)) {
      if (file.endsWith('package.json')) {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string> | undefined>;
        for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies'])
          for (const name of Object.keys(pkg[field] ?? {}))
            if (this.workspace.has(name)) found.add(this.workspace.get(name)!);
        continue;
      }
      if (!CODE.test(file)) continue;
      for (const [, , specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
        let target: string | undefined;
        if (/^(\.{1,2}\/|\/|file:)/.test(specifier)) {
          const local = resolveLocalImport(file, specifier);
          target = local
            ? this.nodeOfFile(local)
            : this.packageOf(resolve(dirname(file), specifier.replace(/^file:\/\//, '')));
        } else target = this.workspace.get(packageName(specifier));
        if (target && target !== path) found.add(target);
      }
    }
    const edges = [...found].sort();
    this.edges.set(path, edges);
    return edges;
  }

  /** Every package (or file) reachable from `starts` through imports, `starts` included. */
  importGraph(starts: readonly string[]): string[] {
    const seen = new Set<string>();
    const visit = (path: string) => {
      if (seen.has(path)) return;
      seen.add(path);
      this.importsOf(path).forEach(visit);
    };
    starts.forEach(visit);
    return [...seen].sort();
  }

  /** Hash of one package's src/ and package.json (or of one file). */
  private hashOf(path: string): string {
    const hit = this.hashes.get(path);
    if (hit) return hit;
    const hash = createHash('sha256');
    for (const file of sourceFiles(path))
      hash.update(relative(path, file)).update('\0').update(readFileSync(file)).update('\0');
    const value = hash.digest('hex').slice(0, 16);
    this.hashes.set(path, value);
    return value;
  }

  /** The fingerprint of the code of `starts` and of every workspace package they import (order-independent). */
  of(starts: readonly string[]): string {
    const parts = this.importGraph(starts)
      .map((p) => this.hashOf(p))
      .sort();
    return createHash('sha256').update(parts.join(',')).digest('hex').slice(0, 16);
  }
}
