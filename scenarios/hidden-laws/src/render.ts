// The frame view: a 32 x 32 anti-aliased disc for the particle over [-2, 2] x [-2, 2]. The particle may
// leave the frame; rendering clips it (a particle wholly outside gives a blank frame), the state is never clipped.
import { drawDisc } from '@worldbench/core';

/** Frame side in pixels. */
export const FRAME_SIZE = 32;
/** The frame shows [-FRAME_EXTENT, FRAME_EXTENT]^2, frame units (8 pixels per unit). */
export const FRAME_EXTENT = 2;
/** Radius of the drawn disc, frame units (2 pixels). */
export const PARTICLE_RADIUS = 0.25;

/**
 * [FRAME_SIZE, FRAME_SIZE] in [0, 1], row 0 at the top (y = 2). Pixel (row i, col j) has its centre at
 * (-2 + (j + 0.5) / 8, 2 - (i + 0.5) / 8); the particle lights it with clamp(r_px - dist_px + 0.5, 0, 1)
 * (a one-pixel anti-aliased edge; core's drawDisc).
 */
export function renderFrame(particle: ArrayLike<number>): Float32Array {
  const n = FRAME_SIZE;
  const scale = n / (2 * FRAME_EXTENT); // px per frame unit
  const frame = new Float32Array(n * n);
  // the centre at column (x + 2) * 8 px and row (2 - y) * 8 px
  drawDisc(
    frame,
    n,
    n,
    (particle[0] + FRAME_EXTENT) * scale,
    (FRAME_EXTENT - particle[1]) * scale,
    PARTICLE_RADIUS * scale,
  );
  return frame;
}
