// The tokenizer's geometry: a frame [H, W] (or [H, W, C]) cut into P square patches of side p, each read
// with a halo of h pixels from its neighbours (so a patch token sees the pixels that can move into it in one
// step). Frames are kept in "core layout": the pixels of patch 0, then of patch 1, ... (patch-major), so
// that a patch is a contiguous slice [p * p * C] and a frame is [P, pp]. Halo patches are gathered from the
// core layout by an index table; padding outside the frame is zero, or wraps around (a torus).

import type { Ops } from '@worldbench/neural';

export interface PatchGeometry {
  height: number;
  width: number;
  channels: number;
  /** Patch side in pixels. */
  patch: number;
  /** Halo width in pixels around each patch. */
  halo: number;
  /** Halo pixels outside the frame wrap around (true) or read 0 (false). */
  wrap: boolean;
  /** Patches per column and per row of the frame. */
  rows: number;
  cols: number;
  /** Patches per frame. */
  P: number;
  /** Values per core patch: patch * patch * channels. */
  pp: number;
  /** Values per halo patch: (patch + 2 halo)^2 * channels. */
  J: number;
  /** Values per frame. */
  pixels: number;
  /** coreOrder[p * pp + k] = the image-layout index of core-layout value (patch p, element k). [pixels] */
  coreOrder: Int32Array;
  /**
   * haloIndex[p * J + j] = the core-layout index of halo element j of patch p, or `pixels` for zero padding. [P * J]
   */
  haloIndex: Int32Array;
}

/** The divisor of gcd(height, width) closest to 4 (ties to the smaller): 32 -> 4, 30 -> 3, 24 -> 4. */
export function autoPatchSize(height: number, width: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(height, width);
  let best = 1;
  for (let d = 1; d <= g; d++) if (g % d === 0 && Math.abs(d - 4) < Math.abs(best - 4)) best = d;
  return best;
}

export function patchGeometry(shape: readonly number[], patch: number, halo: number, wrap: boolean): PatchGeometry {
  const [height, width] = shape;
  const channels = shape[2] ?? 1;
  if (shape.length < 2 || shape.length > 3)
    throw new Error(`spatial: an image view needs shape [H, W] or [H, W, C], got [${shape}]`);
  if (!(Number.isInteger(patch) && patch >= 1 && height % patch === 0 && width % patch === 0))
    throw new Error(
      `spatial: patchSize ${patch} does not divide the ${height} x ${width} frame; use a common divisor (0 picks one)`,
    );
  const rows = height / patch,
    cols = width / patch,
    P = rows * cols;
  const pp = patch * patch * channels;
  const side = patch + 2 * halo;
  const J = side * side * channels;
  const pixels = height * width * channels;
  const coreOrder = new Int32Array(pixels);
  const coreOf = new Int32Array(pixels); // image index -> core index
  for (let pr = 0; pr < rows; pr++)
    for (let pc = 0; pc < cols; pc++)
      for (let r = 0; r < patch; r++)
        for (let c = 0; c < patch; c++)
          for (let ch = 0; ch < channels; ch++) {
            const core = (pr * cols + pc) * pp + (r * patch + c) * channels + ch;
            const image = ((pr * patch + r) * width + pc * patch + c) * channels + ch;
            coreOrder[core] = image;
            coreOf[image] = core;
          }
  const haloIndex = new Int32Array(P * J);
  for (let pr = 0; pr < rows; pr++)
    for (let pc = 0; pc < cols; pc++)
      for (let r = 0; r < side; r++)
        for (let c = 0; c < side; c++)
          for (let ch = 0; ch < channels; ch++) {
            let y = pr * patch + r - halo,
              x = pc * patch + c - halo;
            const inside = y >= 0 && y < height && x >= 0 && x < width;
            if (!inside && wrap) {
              y = (y + height) % height;
              x = (x + width) % width;
            }
            const at = (pr * cols + pc) * J + (r * side + c) * channels + ch;
            haloIndex[at] = inside || wrap ? coreOf[(y * width + x) * channels + ch] : pixels;
          }
  return { height, width, channels, patch, halo, wrap, rows, cols, P, pp, J, pixels, coreOrder, haloIndex };
}

/** Image layout -> core layout (one frame). */
export function toCore(g: PatchGeometry, image: ArrayLike<number>, out = new Float32Array(g.pixels)): Float32Array {
  for (let i = 0; i < g.pixels; i++) out[i] = image[g.coreOrder[i]];
  return out;
}

/** Core layout -> image layout (one frame). */
export function fromCore(g: PatchGeometry, core: ArrayLike<number>, out = new Float32Array(g.pixels)): Float32Array {
  for (let i = 0; i < g.pixels; i++) out[g.coreOrder[i]] = core[i];
  return out;
}

/** Halo patches [P * J] of one frame in core layout. */
export function haloOf(g: PatchGeometry, core: ArrayLike<number>, out = new Float32Array(g.P * g.J)): Float32Array {
  for (let i = 0; i < out.length; i++) {
    const src = g.haloIndex[i];
    out[i] = src === g.pixels ? 0 : core[src];
  }
  return out;
}

/**
 * Halo patches of frames in core layout, differentiable (for rollouts that train through their own
 * predictions): core [n, pixels] -> [n, P, J], `index` the int32 value of g.haloIndex [P * J]. A zero column
 * stands for the padding.
 */
export function haloPatches<T>(ops: Ops<T>, g: PatchGeometry, core: T, index: T): T {
  const padded = ops.padEnd(core, 1, 1, 0); //                            [n, pixels + 1]
  return ops.reshape(ops.gather(padded, 1, index), [-1, g.P, g.J]); //    [n, P, J]
}
