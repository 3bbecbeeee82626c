// The one place that chooses the tfjs backend. Everything in worldbench imports `tf` from here, so there
// is a single tfjs-core (one engine, one set of registered kernels) whichever backend runs.
//
// Rule: tfjs-node (native libtensorflow) when its binding loads; else tfjs with the wasm backend; else
// the plain JS cpu backend. The choice and the reason for any step down are logged once to stderr.

import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export { tf };

export type BackendName = 'tfjs-node' | 'tfjs-wasm' | 'tfjs-cpu';
export interface BackendChoice {
  name: BackendName;
  /** Why a faster backend was not used; absent when tfjs-node runs. */
  reason?: string;
}

// Both packages ship CommonJS for Node; requiring them resolves the same @tensorflow/tfjs-core file as
// the `import * as tf` above (pnpm links one copy), so their kernels register into this engine.
const require = createRequire(import.meta.url);

let pending: Promise<BackendChoice> | null = null;
let chosen: BackendChoice | null = null;

/** Choose and initialise the backend (idempotent: later calls return the first choice). */
export function initBackend(): Promise<BackendChoice> {
  pending ??= choose().then((choice) => {
    chosen = choice;
    const why = choice.reason ? ` (${choice.reason})` : '';
    process.stderr.write(`worldbench: tfjs backend ${choice.name}${why}\n`);
    return choice;
  });
  return pending;
}

/** The backend in use, for FitReport.backend; throws if initBackend() has not finished. */
export function backendName(): BackendName {
  if (!chosen) throw new Error('backendName() was called before initBackend() resolved: await initBackend() first');
  return chosen.name;
}

async function choose(): Promise<BackendChoice> {
  const reasons: string[] = [];

  try {
    // tfjs-node loads the whole tfjs union before it looks for its native addon (0.4 s in every job's process):
    // where install could not build the addon, say so without loading it
    const missing = missingNativeAddon();
    if (missing) throw new Error(missing);
    require('@tensorflow/tfjs-node'); // registers the 'tensorflow' backend if the native binding loads
    if (await tf.setBackend('tensorflow')) return { name: 'tfjs-node' };
    reasons.push('tfjs-node unavailable: its backend failed to initialise');
  } catch (error) {
    reasons.push(`tfjs-node unavailable: ${shortReason(error)}`);
  }

  try {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    // The .wasm binaries sit beside the package's entry file (dist/); an absolute path works from any cwd.
    const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(distDir + path.sep);
    if (await tf.setBackend('wasm')) return { name: 'tfjs-wasm', reason: reasons.join('; ') };
    reasons.push('tfjs-wasm unavailable: its backend failed to initialise');
  } catch (error) {
    reasons.push(`tfjs-wasm unavailable: ${shortReason(error)}`);
  }

  if (!(await tf.setBackend('cpu'))) throw new Error(`no tfjs backend could start (${reasons.join('; ')})`);
  return { name: 'tfjs-cpu', reason: reasons.join('; ') };
}

/**
 * Why tfjs-node cannot load, when that is known without loading it: not installed, or its native addon
 * (lib/napi-v<N>/tfjs_binding.node, built or downloaded at install) absent. Null when the addon is there.
 */
function missingNativeAddon(): string | null {
  let dir: string;
  try {
    dir = path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    return 'the package @tensorflow/tfjs-node is not installed';
  }
  const lib = path.join(dir, 'lib');
  const built =
    existsSync(lib) &&
    readdirSync(lib).some((d) => d.startsWith('napi-v') && existsSync(path.join(lib, d, 'tfjs_binding.node')));
  return built ? null : 'its native addon (tfjs_binding.node) was not built at install';
}

/** First line of an error, without the long absolute paths native-addon errors carry. */
function shortReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text
    .split('\n')[0]
    .replace(/ at path: \S+/, '')
    .replace(/\s+$/, '');
  return line.length > 140 ? `${line.slice(0, 137)}...` : line;
}
