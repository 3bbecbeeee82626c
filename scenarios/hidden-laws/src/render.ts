// The frame view: a 32 x 32 anti-aliased disc for the particle over [-2, 2] x [-2, 2]. The particle may
// leave the frame; rendering clips it (a particle wholly outside gives a blank frame), the state is never clipped.

/** Frame side in pixels. */
export const FRAME_SIZE = 32;
/** The frame shows [-FRAME_EXTENT, FRAME_EXTENT]^2, frame units (8 pixels per unit). */
export const FRAME_EXTENT = 2;
/** Radius of the drawn disc, frame units (2 pixels). */
export const PARTICLE_RADIUS = 0.25;

/**
 * [FRAME_SIZE, FRAME_SIZE] in [0, 1], row 0 at the top (y = 2). Pixel (row i, col j) has its centre at
 * (-2 + (j + 0.5) / 8, 2 - (i + 0.5) / 8); the particle lights it with clamp(r_px - dist_px + 0.5, 0, 1)
 * (a one-pixel anti-aliased edge). Only the pixels of the disc's bounding box inside the frame are visited.
 */
export function renderFrame(particle: ArrayLike<number>): Float32Array {
  const n = FRAME_SIZE;
  const scale = n / (2 * FRAME_EXTENT); // px per frame unit
  const frame = new Float32Array(n * n);
  const radius = PARTICLE_RADIUS * scale; // px
  const reach = radius + 0.5; // beyond this distance a pixel centre gets nothing
  const cx = (particle[0] + FRAME_EXTENT) * scale; // column coordinate of the centre, px
  const cy = (FRAME_EXTENT - particle[1]) * scale; // row coordinate of the centre, px
  const j0 = Math.max(0, Math.floor(cx - reach)),
    j1 = Math.min(n - 1, Math.ceil(cx + reach));
  const i0 = Math.max(0, Math.floor(cy - reach)),
    i1 = Math.min(n - 1, Math.ceil(cy + reach));
  for (let i = i0; i <= i1; i++) {
    const dy = i + 0.5 - cy;
    for (let j = j0; j <= j1; j++) {
      const dx = j + 0.5 - cx;
      const intensity = radius - Math.sqrt(dx * dx + dy * dy) + 0.5;
      if (intensity > 0) frame[i * n + j] = Math.min(intensity, 1);
    }
  }
  return frame;
}
