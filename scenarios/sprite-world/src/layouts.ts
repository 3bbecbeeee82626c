// Episode layouts: where the walls, boxes, goal and agent start. Two styles: scattered short wall segments
// (train/test) and two rooms joined by a doorway (ood, never produced by the train style). Every layout is
// redrawn until it meets the rules in README.md ("Layouts"); each rule is checked by the tests.
import type { Rng } from '@worldbench/core';
import { CELLS, SIZE, TILE, isConnected, isWalkable, neighbour, type Direction } from './grid';

/** train/test: the number of interior wall tiles, uniform in [3, 8]. */
export const TRAIN_WALL_TILES = [3, 8] as const;
/** train/test: wall segments are 1-3 tiles long (uniform), horizontal or vertical (p = 1/2 each). */
export const SEGMENT_LENGTH = [1, 3] as const;
/** train/test: no interior row or column holds more than this many interior walls (an ood divider holds 7). */
export const MAX_WALLS_PER_LINE = 4;
/** ood: the divider is the row or column at this grid index, uniform in [3, 6]. */
export const DIVIDER_INDEX = [3, 6] as const;
/** Boxes per episode, uniform: train/test 1-2, ood 3-4. */
export const TRAIN_BOXES = [1, 2] as const;
export const OOD_BOXES = [3, 4] as const;

export type LayoutStyle = 'segments' | 'two-rooms';

/** Rows/columns 1..SIZE-2 are the interior. */
const isInterior = (r: number, c: number): boolean => r >= 1 && r <= SIZE - 2 && c >= 1 && c <= SIZE - 2;
const uniformInt = (rng: Rng, [lo, hi]: readonly [number, number]): number => lo + rng.int(hi - lo + 1);

/** An empty grid: the outer ring is wall, the rest floor. */
function ringOnly(): Uint8Array {
  const tiles = new Uint8Array(CELLS);
  for (let r = 0; r < SIZE; r++) for (let c = 0; c < SIZE; c++) if (!isInterior(r, c)) tiles[r * SIZE + c] = TILE.wall;
  return tiles;
}

/** Interior wall tiles per interior row and per interior column (rows first), for the per-line cap. */
export function wallsPerLine(tiles: ArrayLike<number>): { rows: number[]; cols: number[] } {
  const rows = new Array(SIZE).fill(0),
    cols = new Array(SIZE).fill(0);
  for (let r = 1; r <= SIZE - 2; r++)
    for (let c = 1; c <= SIZE - 2; c++)
      if (tiles[r * SIZE + c] === TILE.wall) {
        rows[r]++;
        cols[c]++;
      }
  return { rows: rows.slice(1, SIZE - 1), cols: cols.slice(1, SIZE - 1) };
}

/**
 * train/test walls: n ~ U{3..8} interior wall tiles, laid as segments of 1-3 tiles (the last one cut to n) at
 * a uniform interior start cell and orientation; a segment that leaves the interior or overlaps a wall is
 * redrawn. Returns null (the caller redraws) when a line holds more than MAX_WALLS_PER_LINE walls or the
 * floor is not connected.
 */
function segmentWalls(rng: Rng): Uint8Array | null {
  const tiles = ringOnly();
  const n = uniformInt(rng, TRAIN_WALL_TILES);
  for (let placed = 0; placed < n; ) {
    const length = Math.min(uniformInt(rng, SEGMENT_LENGTH), n - placed);
    const horizontal = rng.bernoulli(0.5);
    const r0 = 1 + rng.int(SIZE - 2),
      c0 = 1 + rng.int(SIZE - 2);
    const cells: number[] = [];
    for (let k = 0; k < length; k++) {
      const r = horizontal ? r0 : r0 + k,
        c = horizontal ? c0 + k : c0;
      if (!isInterior(r, c) || tiles[r * SIZE + c] === TILE.wall) break;
      cells.push(r * SIZE + c);
    }
    if (cells.length < length) continue;
    for (const i of cells) tiles[i] = TILE.wall;
    placed += length;
  }
  const { rows, cols } = wallsPerLine(tiles);
  if ([...rows, ...cols].some((k) => k > MAX_WALLS_PER_LINE)) return null;
  return isConnected(tiles, isWalkable) ? tiles : null;
}

/**
 * ood walls: one full interior row or column (p = 1/2 each) at grid index U{3..6}, with one doorway tile at a
 * uniform interior position: two rooms (2-5 tiles wide) joined by a single gap. Always connected.
 */
function twoRoomWalls(rng: Rng): Uint8Array {
  const tiles = ringOnly();
  const vertical = rng.bernoulli(0.5);
  const line = uniformInt(rng, DIVIDER_INDEX);
  const door = 1 + rng.int(SIZE - 2);
  for (let k = 1; k <= SIZE - 2; k++) if (k !== door) tiles[vertical ? k * SIZE + line : line * SIZE + k] = TILE.wall;
  return tiles;
}

/**
 * Boxes, then the goal, then the agent, on distinct floor tiles of `walls`. A box starts only on a tile whose
 * four neighbours are neither wall nor another box, so it can be pushed in every direction at the start (never
 * in a corner or against a wall, where it could be stuck from the outset). The goal is uniform over the
 * remaining floor, the agent over what is left. Returns null (the caller redraws) when too few box tiles are
 * eligible or the walkable tiles (boxes counted as obstacles) are not connected.
 */
function placeObjects(rng: Rng, walls: Uint8Array, boxes: number): Uint8Array | null {
  const tiles = walls.slice();
  const eligible = rng.shuffle(
    Array.from({ length: CELLS }, (_, i) => i).filter(
      (i) => tiles[i] === TILE.floor && allNeighbours(i, (j) => tiles[j] !== TILE.wall),
    ),
  );
  let placed = 0;
  for (const i of eligible) {
    if (placed === boxes) break;
    if (!allNeighbours(i, (j) => tiles[j] !== TILE.box)) continue;
    tiles[i] = TILE.box;
    placed++;
  }
  if (placed < boxes) return null;
  const floor = () => Array.from({ length: CELLS }, (_, i) => i).filter((i) => tiles[i] === TILE.floor);
  tiles[rng.pick(floor())] = TILE.goal;
  tiles[rng.pick(floor())] = TILE.agent;
  return isConnected(tiles, isWalkable) ? tiles : null;
}

function allNeighbours(i: number, ok: (j: number) => boolean): boolean {
  for (let d = 1; d <= 4; d++) if (!ok(neighbour(i, d as Direction))) return false;
  return true;
}

/** A start grid of the given style; redrawn (walls and objects) until it meets every rule. */
export function drawLayout(rng: Rng, style: LayoutStyle): Uint8Array {
  const boxes = uniformInt(rng, style === 'segments' ? TRAIN_BOXES : OOD_BOXES);
  // About 1 draw in 20 fails for "segments" and 2 in 7 for "two rooms" (README); this bound only catches a bug.
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const walls = style === 'segments' ? segmentWalls(rng) : twoRoomWalls(rng);
    const tiles = walls && placeObjects(rng, walls, boxes);
    if (tiles) return tiles;
  }
  throw new Error(`sprite-world: could not draw a ${style} layout with ${boxes} boxes in 10000 attempts`);
}
