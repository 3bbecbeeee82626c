// Shared by new-model.ts and new-scenario.ts: copy a template folder, filling in the name.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverPlugins, findWorkspaceRoot, isUserError, UserError } from '@worldbench/core';

const templates = join(dirname(fileURLToPath(import.meta.url)), 'templates');

/** "my-model" -> { __NAME__: my-model, __TYPE__: MyModel, __CAMEL__: myModel } */
function names(name: string): Record<string, string> {
  const parts = name.split('-');
  const type = parts.map((p) => p[0].toUpperCase() + p.slice(1)).join('');
  return { __NAME__: name, __TYPE__: type, __CAMEL__: type[0].toLowerCase() + type.slice(1) };
}

function copyTemplate(from: string, to: string, vars: Record<string, string>): string[] {
  const written: string[] = [];
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const fill = (text: string) => Object.entries(vars).reduce((t, [k, v]) => t.replaceAll(k, v), text);
    const target = join(to, fill(entry.name.replace(/\.tmpl$/, '')));
    if (entry.isDirectory()) written.push(...copyTemplate(source, target, vars));
    else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, fill(readFileSync(source, 'utf8')));
      written.push(target);
    }
  }
  return written;
}

/** `pnpm new-model <name>` / `pnpm new-scenario <name>`; returns the exit code. */
export function scaffold(kind: 'model' | 'scenario', argv: string[]): number {
  try {
    const install = !argv.includes('--no-install');
    const rest = argv.filter((a) => a !== '--no-install');
    const [name, ...extra] = rest;
    const command = kind === 'model' ? 'new-model' : 'new-scenario';
    if (!name || extra.length || name.startsWith('-'))
      throw new UserError(
        `usage: pnpm ${command} <name> [--no-install]   (name: lowercase letters, digits and dashes, e.g. my-${kind})`,
      );
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name))
      throw new UserError(
        `"${name}" is not a valid ${kind} name: use lowercase letters, digits and single dashes, starting with a ` +
          `letter (e.g. my-${kind})`,
      );
    if (kind === 'scenario' && /-v\d+$/.test(name))
      throw new UserError(
        `give the scenario's name without a ` +
          `version ("${name.replace(/-v\d+$/, '')}"): the scaffold makes ${name.replace(/-v\d+$/, '')}-v1`,
      );
    const root = findWorkspaceRoot(process.env.INIT_CWD ?? process.cwd());
    const registry = discoverPlugins(root);
    const taken =
      kind === 'model' ? registry.models.map((m) => m.id) : registry.scenarios.map((s) => s.id.replace(/-v\d+$/, ''));
    if (taken.includes(name)) throw new UserError(`a ${kind} named "${name}" is already registered; pick another name`);
    const dir = join(root, kind === 'model' ? 'packages' : 'scenarios', name);
    if (existsSync(dir)) throw new UserError(`${relative(root, dir)} already exists; pick another name or remove it`);
    const written = copyTemplate(join(templates, kind), dir, names(name));
    process.stdout.write(
      `created ${relative(root, dir)}:\n${written.map((f) => `  ${relative(root, f)}`).join('\n')}\n`,
    );
    if (install)
      execFileSync('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile'], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    const id = kind === 'model' ? name : `${name}-v1`;
    process.stdout.write(
      kind === 'model'
        ? `\nnext:\n  pnpm vitest run --project packages/${name}   # conformance + beats persistence\n` +
            `  pnpm bench --model ${id} --scenario bouncing-balls --budgets 256,1024\n`
        : `\nnext:\n  pnpm vitest run --project scenarios/${name}   # conformance + semantics\n` +
            `  pnpm bench --model linear,persistence --scenario ${id}\n`,
    );
    if (!install) process.stdout.write('  (run pnpm install first: --no-install skipped it)\n');
    return 0;
  } catch (err) {
    if (isUserError(err)) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
