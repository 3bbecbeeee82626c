// Network weights on disk: one little-endian float32 file of every variable in params() order, and their
// shapes in the JSON beside it; load checks the shapes before assigning, so a config mismatch fails loudly.

import { readFileSync, writeFileSync } from 'node:fs';
import { tf } from '@worldbench/neural';

export function writeWeights(path: string, params: readonly tf.Variable[]): number[][] {
  const total = params.reduce((s, p) => s + p.size, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const p of params) {
    all.set(p.dataSync() as Float32Array, at);
    at += p.size;
  }
  writeFileSync(path, Buffer.from(all.buffer, all.byteOffset, all.byteLength));
  return params.map((p) => p.shape.slice());
}

export function readWeights(path: string, params: readonly tf.Variable[], shapes: readonly number[][]): void {
  if (shapes.length !== params.length || params.some((p, i) => p.shape.join() !== shapes[i].join()))
    throw new Error(`spatial: saved weights (${shapes.length} tensors) do not match the network built from the saved config (${params.length} tensors)`);
  const buf = readFileSync(path);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  let at = 0;
  for (const p of params) {
    const values = all.subarray(at, at + p.size);
    tf.tidy(() => p.assign(tf.tensor(values, p.shape, 'float32')));
    at += p.size;
  }
}
