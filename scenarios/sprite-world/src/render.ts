// The views of one step: the tile ids (`state`) and a 30 x 30 grey image (`frame`) drawing each tile as a
// 3 x 3 sprite. The sprites are distinct, so the frame is one-to-one with the state and `decodeFrame`
// inverts it exactly.
import { CELLS, SIZE, VOCAB, type GridState } from './grid';

/** Pixels per tile side. */
export const SPRITE = 3;
/** Frame side in pixels: SIZE * SPRITE. */
export const FRAME_SIZE = SIZE * SPRITE;

/**
 * The 3 x 3 sprite of each tile id, row-major. Floor is black, wall white; the agent is a plus (0.8), a box a
 * hollow square (0.6), a goal a centre dot (0.4); a box or the agent on a goal keeps its own shape with the
 * goal's 0.4 dot in its centre. The closest pair (agent and agent on goal; box and box on goal; floor and
 * goal) differs by 0.4 in one pixel.
 */
export const SPRITES: readonly Float32Array[] = [
  [0, 0, 0, 0, 0, 0, 0, 0, 0], // 0 floor
  [1, 1, 1, 1, 1, 1, 1, 1, 1], // 1 wall
  [0, 0.8, 0, 0.8, 0.8, 0.8, 0, 0.8, 0], // 2 agent: plus
  [0.6, 0.6, 0.6, 0.6, 0, 0.6, 0.6, 0.6, 0.6], // 3 box: hollow square
  [0, 0, 0, 0, 0.4, 0, 0, 0, 0], // 4 goal: centre dot
  [0.6, 0.6, 0.6, 0.6, 0.4, 0.6, 0.6, 0.6, 0.6], // 5 box on goal
  [0, 0.8, 0, 0.8, 0.4, 0.8, 0, 0.8, 0], // 6 agent on goal
].map((s) => Float32Array.from(s));

/** The `state` view: [SIZE * SIZE] tile ids as float32. */
export function renderState(state: GridState): Float32Array {
  return Float32Array.from(state.tiles);
}

/**
 * The `frame` view: [FRAME_SIZE, FRAME_SIZE] in [0, 1], row 0 at the top; tile (r, c) fills pixels [3r, 3r+3) x [3c,
 * 3c+3).
 */
export function renderFrame(state: GridState): Float32Array {
  const frame = new Float32Array(FRAME_SIZE * FRAME_SIZE);
  for (let i = 0; i < CELLS; i++) {
    const sprite = SPRITES[state.tiles[i]];
    const top = Math.floor(i / SIZE) * SPRITE,
      left = (i % SIZE) * SPRITE;
    for (let y = 0, k = 0; y < SPRITE; y++)
      for (let x = 0, p = (top + y) * FRAME_SIZE + left; x < SPRITE; x++) frame[p + x] = sprite[k++];
  }
  return frame;
}

/** The tile ids of a frame: each 3 x 3 block's nearest sprite (least squared distance; exact on clean frames). */
export function decodeFrame(frame: ArrayLike<number>): Uint8Array {
  const tiles = new Uint8Array(CELLS);
  for (let i = 0; i < CELLS; i++) {
    const top = Math.floor(i / SIZE) * SPRITE,
      left = (i % SIZE) * SPRITE;
    let best = 0,
      bestDistance = Infinity;
    for (let id = 0; id < VOCAB; id++) {
      let distance = 0;
      for (let k = 0; k < SPRITE * SPRITE; k++) {
        const diff = frame[(top + Math.floor(k / SPRITE)) * FRAME_SIZE + left + (k % SPRITE)] - SPRITES[id][k];
        distance += diff * diff;
      }
      if (distance < bestDistance) [best, bestDistance] = [id, distance];
    }
    tiles[i] = best;
  }
  return tiles;
}
