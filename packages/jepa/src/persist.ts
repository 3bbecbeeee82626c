// Save and load: jepa.json (format, view, config, geometry with the standardisation stats, the variables'
// shapes, the training summary), weights.f32 (every variable of the online encoder, the target
// encoder, the predictor and the probe, in that order, as raw float32) and, for a model with act(), heads.f32 (the
// disagreement heads' variables, ensemble.ts; their shapes under `heads` in jepa.json, null without).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWeights, type tf, writeWeights } from '@worldbench/neural';
import type { JepaConfig } from './config';
import type { ScenarioSpec } from '@worldbench/core';
import type { DisagreementHeads } from './ensemble';
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
  /** The disagreement heads' variables' shapes (heads.f32), or null: no heads (no act()). Absent in older saves. */
  heads?: number[][] | null;
  extra: Extra;
}

/** What the specialist model saves beside its networks: its scenario's spec and its fit's summary. */
export interface SavedExtra<Fitted> {
  spec: ScenarioSpec;
  fitted: Fitted | null;
}

export function allVariables(nets: Networks): tf.Variable[] {
  return [...nets.online.params(), ...nets.target.params(), ...nets.predictor.params(), ...nets.probe.params()];
}

export function saveModel<Extra>(
  dir: string,
  nets: Networks,
  meta: Omit<SavedMeta<Extra>, 'format' | 'shapes' | 'heads'>,
  heads: DisagreementHeads | null = null,
): void {
  const shapes = writeWeights(join(dir, 'weights.f32'), allVariables(nets));
  const headShapes = heads ? writeWeights(join(dir, 'heads.f32'), heads.params()) : null;
  const full: SavedMeta<Extra> = { format: FORMAT, ...meta, shapes, heads: headShapes };
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

/** Assigns saved disagreement heads to fresh heads of the same geometry and config. */
export function loadHeads(dir: string, heads: DisagreementHeads, shapes: number[][]): void {
  readWeights(join(dir, 'heads.f32'), heads.params(), shapes, 'jepa heads');
}
