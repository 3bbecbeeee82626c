// Network weights on disk: one little-endian float32 file of every variable in the given order, with their
// shapes kept by the caller (in its JSON); reading checks the shapes before assigning, so a config mismatch
// fails loudly instead of loading scrambled weights.
import { readFileSync, writeFileSync } from 'node:fs';
import { tf } from './backend';

/** Writes the variables' values to `path`; returns their shapes, for the caller to save beside them. */
export function writeWeights(path: string, params: readonly tf.Variable[]): number[][] {
  const all = new Float32Array(params.reduce((s, p) => s + p.size, 0));
  let at = 0;
  for (const p of params) {
    all.set(p.dataSync() as Float32Array, at);
    at += p.size;
  }
  writeFileSync(path, Buffer.from(all.buffer, all.byteOffset, all.byteLength));
  return params.map((p) => p.shape.slice());
}

/** Assigns the values in `path` to freshly built variables whose shapes must equal the saved `shapes`. */
export function readWeights(
  path: string,
  params: readonly tf.Variable[],
  shapes: readonly number[][],
  who: string,
): void {
  if (shapes.length !== params.length)
    throw new Error(`${who}: saved model has ${shapes.length} variables, the rebuilt one ${params.length}`);
  params.forEach((p, i) => {
    if (p.shape.join() !== shapes[i].join())
      throw new Error(`${who}: saved variable ${i} has shape [${shapes[i]}], the rebuilt one [${p.shape}]`);
  });
  const buf = readFileSync(path);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const total = params.reduce((s, p) => s + p.size, 0);
  if (total !== all.length) throw new Error(`${who}: ${path} holds ${all.length} values, the variables ${total}`);
  let at = 0;
  for (const p of params) {
    tf.tidy(() => p.assign(tf.tensor(all.subarray(at, at + p.size), p.shape, 'float32')));
    at += p.size;
  }
}
