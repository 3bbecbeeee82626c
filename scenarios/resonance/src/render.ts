// The frame view: an [8, 32] strip with the bob as an anti-aliased disc on the line y = 0, x in [-2.5, 2.5]. The bob
// may leave the strip; rendering clips it (a bob wholly outside gives a blank frame), the state is never clipped.
import { drawDisc } from '@worldbench/core';

/** Frame height and width in pixels. */
export const FRAME_HEIGHT = 8;
export const FRAME_WIDTH = 32;
/** The frame shows x in [-FRAME_EXTENT, FRAME_EXTENT] (6.4 pixels per unit) and y in [-0.625, 0.625]. */
export const FRAME_EXTENT = 2.5;
/** Radius of the drawn disc, frame units (2 pixels). */
export const BOB_RADIUS = 0.3125;

/**
 * [FRAME_HEIGHT, FRAME_WIDTH] in [0, 1], row-major. Pixel (row i, col j) has its centre at
 * (-2.5 + (j + 0.5) / 6.4, 0.625 - (i + 0.5) / 6.4); the bob at (x, 0) lights it with clamp(r_px - dist_px + 0.5, 0, 1)
 * (a one-pixel anti-aliased edge; core's drawDisc).
 */
export function renderFrame(x: number): Float32Array {
  const scale = FRAME_WIDTH / (2 * FRAME_EXTENT); // px per frame unit
  const frame = new Float32Array(FRAME_HEIGHT * FRAME_WIDTH);
  // the centre at column (x + 2.5) * 6.4 px, on the middle row (y = 0)
  drawDisc(frame, FRAME_HEIGHT, FRAME_WIDTH, (x + FRAME_EXTENT) * scale, FRAME_HEIGHT / 2, BOB_RADIUS * scale);
  return frame;
}
