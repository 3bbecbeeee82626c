// The views of one step: the padded state with its mask, and a 32 x 32 anti-aliased frame.
import { BALL_FIELDS, MAX_BALLS, RADIUS, type BallsState } from './physics';

/** Frame side in pixels; the frame covers the whole box. */
export const FRAME_SIZE = 32;

/** state [MAX_BALLS, 4] (x, y, vx, vy; zero rows past the episode's balls) and state_mask [MAX_BALLS]. */
export function renderState(state: BallsState): { state: Float32Array; state_mask: Float32Array } {
  const values = new Float32Array(MAX_BALLS * BALL_FIELDS);
  values.set(state.balls.subarray(0, state.count * BALL_FIELDS));
  const mask = new Float32Array(MAX_BALLS);
  mask.fill(1, 0, state.count);
  return { state: values, state_mask: mask };
}

/**
 * [FRAME_SIZE, FRAME_SIZE] in [0, 1], row 0 at the top of the box. Pixel (row i, col j) has its centre at
 * ((j + 0.5) / 32, 1 - (i + 0.5) / 32) in box units; a ball lights it with
 * clamp(radius_px - dist_px + 0.5, 0, 1) (a one-pixel anti-aliased edge), and overlapping balls take the max.
 * Only the pixels of each ball's bounding box are visited.
 */
export function renderFrame(state: BallsState): Float32Array {
  const n = FRAME_SIZE;
  const frame = new Float32Array(n * n);
  const radius = RADIUS * n; // px
  const reach = radius + 0.5; // beyond this distance a pixel centre gets nothing
  for (let b = 0; b < state.count; b++) {
    const cx = state.balls[b * BALL_FIELDS] * n; // column coordinate of the centre, px
    const cy = (1 - state.balls[b * BALL_FIELDS + 1]) * n; // row coordinate of the centre, px
    const j0 = Math.max(0, Math.floor(cx - reach)),
      j1 = Math.min(n - 1, Math.ceil(cx + reach));
    const i0 = Math.max(0, Math.floor(cy - reach)),
      i1 = Math.min(n - 1, Math.ceil(cy + reach));
    for (let i = i0; i <= i1; i++) {
      const dy = i + 0.5 - cy;
      for (let j = j0; j <= j1; j++) {
        const dx = j + 0.5 - cx;
        const intensity = radius - Math.sqrt(dx * dx + dy * dy) + 0.5;
        if (intensity <= 0) continue;
        const k = i * n + j;
        const value = Math.min(intensity, 1);
        if (value > frame[k]) frame[k] = value;
      }
    }
  }
  return frame;
}
