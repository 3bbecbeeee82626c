// The training schedule: how many optimiser steps a dataset gets, how many steps each window rolls out, and how
// many windows a minibatch holds. Pure numbers from the config and the data's size (README, *Training schedule*).
import type { JepaConfig } from './config';

/** What the schedule reads of a training set: its kind, its state tokens, whether it is a grid read cell by cell. */
export interface SetShape {
  kind: 'categorical' | 'real';
  tokens: number;
  /** A categorical grid read cell by cell (gridEncoder 'local'): scheduled by the config's cell* keys. */
  cells: boolean;
}

/** A fit's schedule: windows per step, optimiser steps of the JEPA phase, predictor steps per window (k). */
export interface Schedule {
  batch: number;
  steps: number;
  k: number;
}

/**
 * The schedule of n training windows of this shape. A grid read cell by cell holds an example of its local rule in
 * every cell (576 in a 24 x 24 window), and its step costs cells x cellWidth^2: it takes `cellBatch` windows a step
 * over `cellEpochs` passes, teacher-forced unless `cellRolloutSteps` says otherwise (docs/experiments: jepa grid
 * schedule).
 */
export function scheduleFor(n: number, set: SetShape, config: JepaConfig): Schedule {
  const batch = batchSizeFor(n, set, config);
  const passes = set.cells ? config.cellEpochs : config.epochs;
  return { batch, steps: plannedSteps(n, config, batch, passes), k: rolloutStepsFor(set, n, config) };
}

/** One world's share of a run over several worlds (a generalist's): its schedule, its steps among the run's. */
export interface WorldShare extends Schedule {
  /** This world's optimiser steps in the run (`steps` is the whole run's). */
  share: number;
}

/**
 * The schedule of a run over several worlds (each n windows of a shape; a generalist's, generalist.ts), counted as a
 * specialist counts its own: each world takes its own batch and k (scheduleFor), and the run takes as many steps as
 * the passes over the union of the windows make at each world's batch (sum over worlds of epochsFor(union) * n /
 * batch), clamped to [minSteps, maxSteps] per world. Each world gets a share of the steps proportional to its steps
 * per pass (n / batch), so every world sees its windows as many times as the others. One world: scheduleFor's.
 */
export function scheduleForWorlds(worlds: readonly { n: number; set: SetShape }[], config: JepaConfig): WorldShare[] {
  const union = worlds.reduce((sum, w) => sum + w.n, 0);
  const schedules = worlds.map(({ n, set }) => scheduleFor(n, set, config));
  const perPass = worlds.map(({ n, set }, i) => {
    const passes = epochsFor(union, config, set.cells ? config.cellEpochs : config.epochs);
    return (passes * n) / schedules[i].batch;
  });
  const W = worlds.length;
  const steps = Math.max(
    W * config.minSteps,
    Math.min(W * config.maxSteps, Math.round(perPass.reduce((a, b) => a + b, 0))),
  );
  const shares = apportion(steps, perPass);
  return schedules.map((s, i) => ({ ...s, steps, share: shares[i] }));
}

/** `total` split into whole parts proportional to `weights` (largest remainders; ties to the first). */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (sum > 0 ? (total * w) / sum : total / weights.length));
  const parts = exact.map(Math.floor);
  const order = exact.map((x, i) => [x - Math.floor(x), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let r = total - parts.reduce((a, b) => a + b, 0), j = 0; r > 0; r--, j++) parts[order[j][1]] += 1;
  return parts;
}

/**
 * Passes over n training windows: `epochs` up to `growFrom` windows, then growing as sqrt(n / growFrom).
 * Small datasets overfit with more passes (code-trace at 1024); larger ones were under-trained at 6 (hidden-laws
 * and bouncing-balls at 4096: README).
 */
export function epochsFor(n: number, config: JepaConfig, epochs = config.epochs): number {
  return epochs * Math.sqrt(Math.max(1, n / config.growFrom));
}

/**
 * Optimiser steps for n training windows: epochsFor(n) passes at `batch` windows a step (the batch the fit uses,
 * batchSizeFor; `batchSize` by default), clamped to [minSteps, maxSteps]. Counting the passes at the batch really
 * used matters for states of many tokens: a 24 x 24 grid read cell by cell takes `cellBatch` windows a step, and
 * counted at batchSize (64) it would see each window a few times instead of `cellEpochs`.
 */
export function plannedSteps(n: number, config: JepaConfig, batch = config.batchSize, epochs = config.epochs): number {
  return Math.max(config.minSteps, Math.min(config.maxSteps, Math.round((epochsFor(n, config, epochs) * n) / batch)));
}

/**
 * k, the predictor steps per training window, for a state view of this kind and n training windows (at least 1).
 * `rolloutSteps` <= 1 is teacher forcing for every view (so `jepa[rolloutSteps=0]` is the teacher-forced twin
 * that selfForcingGain compares against); otherwise large real datasets roll out `realRolloutSteps`, and grids read
 * cell by cell `cellRolloutSteps`.
 */
export function rolloutStepsFor(set: SetShape, n: number, config: JepaConfig): number {
  if (config.rolloutSteps <= 1) return 1;
  if (set.cells) return Math.max(1, config.cellRolloutSteps);
  return Math.max(1, set.kind === 'real' && n > config.largeFrom ? config.realRolloutSteps : config.rolloutSteps);
}

/**
 * Examples per step: at most batchSize, and at most batchTokens state tokens (never below 8, never above n); a grid
 * read cell by cell takes cellBatch.
 */
export function batchSizeFor(n: number, set: Omit<SetShape, 'kind'>, config: JepaConfig): number {
  if (set.cells) return Math.max(1, Math.min(n, config.cellBatch));
  return Math.max(1, Math.min(n, config.batchSize, Math.max(8, Math.floor(config.batchTokens / set.tokens))));
}
