// No import circle in the house: among the source files of every workspace package (a relative import, type-only
// ones included, since a circle of types is still two files that cannot be read apart), and among the packages
// (a bare import of another workspace package). The runner holds the workspace's import graph (fingerprint.ts),
// so the check lives beside it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workspacePackageDirs } from '@worldbench/core';
import { workspacePackages } from '../src/fingerprint';
import { root } from './helpers';

/**
 * Every circle of a directed graph, each once, as its nodes from its smallest (depth first; enough for a source tree).
 */
function circles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const found = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') {
        const circle = stack.slice(stack.indexOf(next));
        const start = circle.indexOf([...circle].sort()[0]);
        const canonical = [...circle.slice(start), ...circle.slice(0, start)];
        found.set(canonical.join(' -> '), canonical);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return [...found.values()];
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"\n]+)\1/g;

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The file a relative specifier names (`./x`, `./x.ts`, `./x/index.ts`), or undefined. */
function resolveFile(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  return [base, `${base}.ts`, base.replace(/\.js$/, '.ts'), join(base, 'index.ts')].find(
    (f) => existsSync(f) && statSync(f).isFile(),
  );
}

describe('import circles', () => {
  it('finds a circle of a graph, each once, and none in a tree', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c', 'd']],
      ['c', ['a']],
      ['d', []],
    ]);
    expect(circles(graph)).toEqual([['a', 'b', 'c']]);
    expect(circles(new Map([...graph, ['c', []]]))).toEqual([]);
  });

  it('none among the source files of any workspace package, nor among the packages', () => {
    const files = workspacePackageDirs(root).flatMap((dir) => [
      ...sourceFiles(join(dir, 'src')),
      ...sourceFiles(join(dir, 'test')),
    ]);
    const fileEdges = new Map(
      files.map(
        (file) =>
          [
            file,
            [...readFileSync(file, 'utf8').matchAll(SPECIFIER)].flatMap((m) =>
              m[2].startsWith('.') ? [resolveFile(file, m[2])].filter((f) => f !== undefined) : [],
            ),
          ] as const,
      ),
    );
    expect(files.length).toBeGreaterThan(100);
    expect(circles(fileEdges).map((c) => c.map((f) => f.slice(root.length + 1)).join(' -> '))).toEqual([]);

    const packages = workspacePackages(root);
    const packageEdges = new Map(
      [...packages].map(([name, dir]) => {
        const imported = files
          .filter((f) => f.startsWith(join(dir, 'src')))
          .flatMap((f) =>
            [...readFileSync(f, 'utf8').matchAll(SPECIFIER)].map((m) => m[2].split('/').slice(0, 2).join('/')),
          );
        return [name, [...new Set(imported)].filter((p) => packages.has(p) && p !== name)] as const;
      }),
    );
    expect(circles(packageEdges)).toEqual([]);
  });
});
