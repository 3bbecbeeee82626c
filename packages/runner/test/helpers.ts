import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findWorkspaceRoot } from '@worldbench/core';

export const root = findWorkspaceRoot(fileURLToPath(new URL('.', import.meta.url)));

/** Runs `pnpm bench ...args` as a subprocess from the workspace root, the way a user does. */
export function bench(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('pnpm', ['bench', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'worldbench-test-'));
}
