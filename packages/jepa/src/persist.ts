// Save and load: jepa.json (format, view, config, geometry with the standardisation stats, the variables'
// shapes, the training summary) and weights.f32 (every variable of the online encoder, the target
// encoder, the predictor and the probe, in that order, as raw float32).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWeights, type tf, writeWeights } from '@worldbench/neural';
import type { JepaConfig } from './config';
import type { Geometry, Networks } from './model';

/**
 * 4: the configs of earlier designs (the program read by attention, real actions as a token) are gone; 3: the
 * geometry holds the pointer token and the predictor may gather the row at its value; 2: real views' readout is
 * odd in the latent change and real actions may be a linear map. An older save would load into other networks.
 */
export const FORMAT = 'worldbench-jepa-4';

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
  const shapes = writeWeights(join(dir, 'weights.f32'), allVariables(nets));
  const full: SavedMeta<Extra> = { format: FORMAT, ...meta, shapes };
  writeFileSync(join(dir, 'jepa.json'), JSON.stringify(full));
}

export function readMeta<Extra>(dir: string): SavedMeta<Extra> {
  const meta = JSON.parse(readFileSync(join(dir, 'jepa.json'), 'utf8')) as SavedMeta<Extra>;
  if (meta.format !== FORMAT)
    throw new Error(
      `jepa: ${dir}/jepa.json has format "${meta.format}", expected "${FORMAT}" (saved by another version: refit ` +
        `the model)`,
    );
  return meta;
}

/** Assigns saved weights to freshly built networks of the same geometry and config. */
export function loadWeights(dir: string, nets: Networks, shapes: number[][]): void {
  readWeights(join(dir, 'weights.f32'), allVariables(nets), shapes, 'jepa');
}
