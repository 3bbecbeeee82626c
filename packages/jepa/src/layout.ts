// How a scenario's tensors become tokens: the state view (the thing encoded and forecast), the context
// (e.g. a program: one token per row) and the action (one token). Pure data, no tfjs: the layouts are
// saved with the model and rebuilt on load.
//
// State view tokens:
// - int/token views (categorical): each element is embedded. Up to MAX_TOKENS (36) elements: one token per
//   element (code-trace: pc, r0..r3). Larger 2-D grids: p x p patches, p the smallest that gives at most
//   MAX_TOKENS tokens (life-like 24x24 -> 4x4 patches, 36 tokens; sprite-world 10x10 -> 2x2, 25); a token
//   embeds each of its p*p slots with a slot-specific table, and slots past the grid edge hold a pad value.
//   That is gridEncoder 'patches'; the default, 'local', reads a grid cell by cell instead: one token per cell,
//   mixed with its 3 x 3 neighbours (model.ts, neural's LocalMixing), so that a rule of cells and their
//   neighbours (a cellular automaton, a sprite's step) is one weight-shared map, as in a convolution.
// - real views: rank >= 2, one token per row (bouncing-balls: a ball per token, x y vx vy as features);
//   rank 1, one token holding every feature (hidden-laws: x y vx vy). Features are standardised with the
//   training set's mean and std per element; a mask view (padding) becomes a per-token 0/1 input.
import { isCategorical, sizeOf, type ScenarioSpec, type TensorSpec } from '@worldbench/core';

/**
 * Most tokens per state: attention cost grows with its square (64 tokens of life-like: 2 s a step on wasm; 36: see
 * README).
 */
export const MAX_TOKENS = 36;

export interface StateLayout {
  kind: 'categorical' | 'real';
  /** The view's per-step shape. */
  shape: number[];
  /** Elements per step. */
  size: number;
  /** Tokens per state (N). */
  tokens: number;
  /** Elements per token (slots; e): categorical slots are embedded, real slots are features. */
  slots: number;
  /** Categorical: the view's vocab V (a slot's pad value is V). Real: 0. */
  vocab: number;
  /** Element index of slot j of token n at [n * slots + j]; -1 for a pad slot (a patch past the grid edge). */
  elementOf: number[];
  /**
   * Categorical grids read cell by cell (gridEncoder 'local'): one token per cell, row-major, mixed with its 3 x 3
   * neighbours (gridNeighbours). Absent for every other layout.
   */
  grid?: { rows: number; cols: number };
  /** The mask view (0/1 per element prefix), when the view has one. */
  maskView?: string;
  /** Mask elements per step (a prefix of the view's shape), 0 without a mask. */
  maskSize: number;
  /**
   * Observed steps the encoder reads (real views): the current state and lags - 1 differences to the steps
   * before it, so that it can infer what a single state does not show (an episode's gravity, stiffness,
   * drag). Categorical views: 1.
   */
  lags: number;
  /** Real views: per-element mean and std of the training observations (unmasked entries). */
  mean?: number[];
  std?: number[];
  /** Real views: per-element std of the one-step differences (scales the history features and the change readout). */
  deltaStd?: number[];
}

export interface ContextPart {
  name: string;
  kind: 'categorical' | 'real';
  /** Tokens (rows) of this context tensor. */
  tokens: number;
  /** Values per token (the row width). */
  slots: number;
  /** Categorical: its vocab; real: 0. */
  vocab: number;
}

export interface ContextLayout {
  parts: ContextPart[];
  /** Total context tokens (R). */
  tokens: number;
}

export interface ActionLayout {
  kind: 'categorical' | 'real';
  /** Action elements per step. */
  size: number;
  /** Categorical: its vocab; real: 0. */
  vocab: number;
}

/** Why a tensor cannot be read (a sentence), or null. */
export function unreadable(name: string, t: TensorSpec): string | null {
  if (t.kind === 'image')
    return `${name} is an image view (the spatial model's); jepa reads state vectors and categorical grids`;
  if (isCategorical(t) && !(Number.isInteger(t.vocab) && (t.vocab as number) > 0))
    return `${name} is categorical without a vocab`;
  return null;
}

/** How a categorical grid of more than MAX_TOKENS cells is read: a token per cell, or per p x p patch. */
export type GridEncoder = 'local' | 'patches';

/**
 * `history`: observed steps the encoder reads (capped at the scenario's historySteps; real views only); `grid`:
 * how a categorical view of rank >= 2 with more than MAX_TOKENS elements is tokenised.
 */
export function stateLayout(spec: ScenarioSpec, view: string, history = 1, grid: GridEncoder = 'local'): StateLayout {
  const t = spec.views[view];
  const shape = [...t.shape];
  const size = sizeOf(t);
  const maskView = t.mask;
  const maskSize = maskView ? sizeOf(spec.views[maskView]) : 0;
  if (isCategorical(t)) {
    const vocab = t.vocab as number;
    // a 2-D grid (higher ranks: the last axis is the columns, the rest the rows)
    const cols = shape[shape.length - 1];
    const rows = size / cols;
    const cells = size > MAX_TOKENS && grid === 'local' && shape.length >= 2;
    // one token per element: few elements, or the cells of a grid read cell by cell
    if (size <= MAX_TOKENS || cells)
      return {
        kind: 'categorical',
        shape,
        size,
        tokens: size,
        slots: 1,
        vocab,
        elementOf: range(size),
        ...(cells ? { grid: { rows, cols } } : {}),
        maskView,
        maskSize,
        lags: 1,
      };
    let p = 1;
    while (Math.ceil(rows / p) * Math.ceil(cols / p) > MAX_TOKENS) p++;
    const tr = Math.ceil(rows / p),
      tc = Math.ceil(cols / p);
    const elementOf: number[] = [];
    for (let a = 0; a < tr; a++)
      for (let b = 0; b < tc; b++)
        for (let i = 0; i < p; i++)
          for (let j = 0; j < p; j++) {
            const r = a * p + i,
              c = b * p + j;
            elementOf.push(r < rows && c < cols ? r * cols + c : -1);
          }
    return {
      kind: 'categorical',
      shape,
      size,
      tokens: tr * tc,
      slots: p * p,
      vocab,
      elementOf,
      maskView,
      maskSize,
      lags: 1,
    };
  }
  const slots = shape.length >= 2 ? size / shape[0] : size;
  const tokens = size / slots;
  const lags = Math.max(1, Math.min(history, spec.historySteps));
  return { kind: 'real', shape, size, tokens, slots, vocab: 0, elementOf: range(size), maskView, maskSize, lags };
}

export function contextLayout(spec: ScenarioSpec): ContextLayout {
  const parts: ContextPart[] = [];
  for (const name of Object.keys(spec.context ?? {}).sort()) {
    const t = (spec.context as Record<string, TensorSpec>)[name];
    const size = sizeOf(t);
    const slots = t.shape.length >= 2 ? size / t.shape[0] : 1;
    parts.push({
      name,
      kind: isCategorical(t) ? 'categorical' : 'real',
      tokens: size / slots,
      slots,
      vocab: isCategorical(t) ? (t.vocab as number) : 0,
    });
  }
  return { parts, tokens: parts.reduce((s, p) => s + p.tokens, 0) };
}

export function actionLayout(spec: ScenarioSpec): ActionLayout | null {
  const a = spec.action;
  if (!a) return null;
  return {
    kind: isCategorical(a) ? 'categorical' : 'real',
    size: sizeOf(a),
    vocab: isCategorical(a) ? (a.vocab as number) : 0,
  };
}

/** Neighbours per cell of a grid layout: the 3 x 3 block around it, itself included. */
export const GRID_NEIGHBOURS = 9;

/**
 * The 3 x 3 neighbourhood of every cell of a rows x cols grid, row-major, in the order (dr, dc) = (-1, -1), (-1, 0),
 * ..., (1, 1): `indices` [N * 9], wrapping at the edges (a torus), and `crossings` [N * 9], 1 where that neighbour
 * lies across an edge. The network reads both, so it learns from the data whether the world wraps (a torus: the
 * wrapped cell is the true neighbour) or is walled (the wrapped cell must be ignored): neither is assumed.
 */
export function gridNeighbours(grid: { rows: number; cols: number }): { indices: Int32Array; crossings: Float32Array } {
  const { rows, cols } = grid;
  const indices = new Int32Array(rows * cols * GRID_NEIGHBOURS);
  const crossings = new Float32Array(rows * cols * GRID_NEIGHBOURS);
  for (let r = 0, i = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      for (let dr = -1; dr <= 1; dr++)
        for (let dc = -1; dc <= 1; dc++, i++) {
          const rr = r + dr,
            cc = c + dc;
          indices[i] = ((rr + rows) % rows) * cols + ((cc + cols) % cols);
          crossings[i] = rr < 0 || rr >= rows || cc < 0 || cc >= cols ? 1 : 0;
        }
  return { indices, crossings };
}

/** The mask element that covers element `i` of the view (the mask's shape is a prefix of the view's). */
export function maskIndexOf(layout: StateLayout, i: number): number {
  return layout.maskSize === 0 ? -1 : Math.floor(i / (layout.size / layout.maskSize));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
