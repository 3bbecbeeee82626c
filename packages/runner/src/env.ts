// What ran a job: recorded in every result line.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';

export interface RunEnv {
  /** The compute backend the model reported ("js", "tfjs-wasm", "tfjs-node", "onnxruntime", ...). */
  backend: string;
  /** onnxruntime-node version when installed, else null. */
  ort: string | null;
  node: string;
  cpu: string;
  /** git commit of the workspace (with "-dirty" when the work tree has changes), or null outside git. */
  commit: string | null;
}

let cached: Omit<RunEnv, 'backend'> | null = null;

function ortVersion(root: string): string | null {
  try {
    const require = createRequire(join(root, 'package.json'));
    const path = require.resolve('onnxruntime-node/package.json', { paths: [root, join(root, 'packages', 'onnx')] });
    return JSON.parse(readFileSync(path, 'utf8')).version ?? null;
  } catch {
    return null;
  }
}

function gitCommit(root: string): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    // --no-optional-locks: status would take the index's lock to refresh it, and a run killed meanwhile
    // (kill -9 of its process group) would leave index.lock behind, stopping every later git command
    const dirty = execFileSync('git', ['--no-optional-locks', 'status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

export function runEnv(root: string, backend: string): RunEnv {
  cached ??= {
    ort: ortVersion(root),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    commit: gitCommit(root),
  };
  return { backend, ...cached };
}
