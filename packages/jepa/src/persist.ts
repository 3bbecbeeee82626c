// Save and load: jepa.json (format, view, config, geometry with the standardisation stats, the variables'
// shapes, the training summary) and weights.f32 (every variable of the online encoder, the target
// encoder, the predictor and the probe, in that order, as raw float32).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '@worldbench/neural';
import type { JepaConfig } from './config';
import type { Geometry } from './model';
import type { Networks } from './train';

export const FORMAT = 'worldbench-jepa-1';

export interface SavedMeta<Extra = unknown> {
  format: string;
  view: string;
  config: JepaConfig;
  geometry: Geometry;
  shapes: number[][];
  extra: Extra;
}

export function allVariables(nets: Networks): tf.Variable[] {
  return [...nets.online.params(), ...nets.target.params(), ...nets.predictor.params(), ...nets.probe.params()];
}

export function saveModel<Extra>(dir: string, nets: Networks, meta: Omit<SavedMeta<Extra>, 'format' | 'shapes'>): void {
  const vars = allVariables(nets);
  const total = vars.reduce((s, v) => s + v.size, 0);
  const weights = new Float32Array(total);
  let at = 0;
  for (const v of vars) {
    weights.set(v.dataSync() as Float32Array, at);
    at += v.size;
  }
  const full: SavedMeta<Extra> = { format: FORMAT, ...meta, shapes: vars.map((v) => v.shape) };
  writeFileSync(join(dir, 'jepa.json'), JSON.stringify(full));
  writeFileSync(join(dir, 'weights.f32'), Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength));
}

export function readMeta<Extra>(dir: string): SavedMeta<Extra> {
  const meta = JSON.parse(readFileSync(join(dir, 'jepa.json'), 'utf8')) as SavedMeta<Extra>;
  if (meta.format !== FORMAT) throw new Error(`jepa: ${dir}/jepa.json has format "${meta.format}", expected "${FORMAT}" (saved by another version?)`);
  return meta;
}

/** Assigns saved weights to freshly built networks of the same geometry and config. */
export function loadWeights(dir: string, nets: Networks, shapes: number[][]): void {
  const buf = readFileSync(join(dir, 'weights.f32'));
  const weights = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const vars = allVariables(nets);
  if (vars.length !== shapes.length) throw new Error(`jepa: saved model has ${shapes.length} variables, the rebuilt one ${vars.length}`);
  let at = 0;
  vars.forEach((v, i) => {
    if (v.shape.join() !== shapes[i].join()) throw new Error(`jepa: saved variable ${i} has shape [${shapes[i]}], the rebuilt one [${v.shape}]`);
    tf.tidy(() => v.assign(tf.tensor(weights.subarray(at, at + v.size), v.shape, 'float32')));
    at += v.size;
  });
  if (at !== weights.length) throw new Error(`jepa: weights.f32 holds ${weights.length} values, the variables ${at}`);
}
