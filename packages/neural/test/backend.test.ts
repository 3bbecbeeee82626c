import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { backendName, initBackend, tf } from '../src/index';

describe('initBackend', () => {
  it('chooses once, logs the choice once to stderr, and backendName() reports it', async () => {
    expect(() => backendName()).toThrow('await initBackend() first');
    const write = vi.spyOn(process.stderr, 'write');
    const first = await initBackend();
    const second = await initBackend();
    const lines = write.mock.calls.map((c) => String(c[0])).filter((s) => s.startsWith('worldbench: tfjs backend'));
    write.mockRestore();
    expect(second).toBe(first);
    expect(lines).toEqual([`worldbench: tfjs backend ${first.name}${first.reason ? ` (${first.reason})` : ''}\n`]);
    expect(backendName()).toBe(first.name);
    const tfjsName = { 'tfjs-node': 'tensorflow', 'tfjs-wasm': 'wasm', 'tfjs-cpu': 'cpu' }[first.name];
    expect(tf.getBackend()).toBe(tfjsName);
    // Anything slower than tfjs-node must say why (no silent fallback).
    if (first.name !== 'tfjs-node') expect(first.reason).toMatch(/^tfjs-node unavailable: .+/);
  });

  it('finds the wasm binaries from any working directory', () => {
    const backend = fileURLToPath(new URL('../src/backend.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
    const script =
      `import { initBackend, tf } from ${JSON.stringify(backend)}; const c = await initBackend(); ` +
      `console.log(c.name, tf.getBackend());`;
    const out = execFileSync(tsx, ['--input-type=module', '-e', script], {
      cwd: tmpdir(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(['tfjs-node tensorflow', 'tfjs-wasm wasm']).toContain(out.trim());
  });
});
