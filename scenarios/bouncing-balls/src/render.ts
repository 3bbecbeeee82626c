// The views of one step: the padded state with its mask, and a 32 x 32 anti-aliased frame.
import { drawDisc } from '@worldbench/core';
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
 * clamp(radius_px - dist_px + 0.5, 0, 1) (a one-pixel anti-aliased edge; core's drawDisc), and overlapping balls
 * take the max.
 */
export function renderFrame(state: BallsState): Float32Array {
  const n = FRAME_SIZE;
  const frame = new Float32Array(n * n);
  // ball b's centre at column x * 32 px and row (1 - y) * 32 px
  for (let b = 0; b < state.count; b++)
    drawDisc(frame, n, n, state.balls[b * BALL_FIELDS] * n, (1 - state.balls[b * BALL_FIELDS + 1]) * n, RADIUS * n);
  return frame;
}
