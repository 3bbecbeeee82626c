// Sprite-world rules: the tile grid, one move of the agent (walk, push a box, or be blocked), and the
// breadth-first searches that layouts (connectivity) and the expert (shortest paths) rely on.
// Pure functions: a move returns a new grid and never writes to the one it was given.

/** The grid is SIZE x SIZE tiles, row-major, row 0 at the top; the outer ring is always wall. */
export const SIZE = 10;
/** Tiles per grid. */
export const CELLS = SIZE * SIZE;

/** Tile ids: the values of the `state` view. */
export const TILE = { floor: 0, wall: 1, agent: 2, box: 3, goal: 4, boxOnGoal: 5, agentOnGoal: 6 } as const;
/** Number of tile ids (the `state` view's vocab). */
export const VOCAB = 7;

/** A direction of movement: 0 noop, 1 up (row - 1), 2 down (row + 1), 3 left (col - 1), 4 right (col + 1). */
export type Direction = 0 | 1 | 2 | 3 | 4;
export const DIRECTIONS = [0, 1, 2, 3, 4] as const satisfies readonly Direction[];
export const DIRECTION_NAMES = ['noop', 'up', 'down', 'left', 'right'] as const;
/** Index offset of one step in each direction. */
const OFFSET = [0, -SIZE, SIZE, -1, 1] as const;

/** One episode's state: the whole grid of tile ids. The world's hidden part is only the control mapping. */
export interface GridState {
  /** [SIZE * SIZE] tile ids, row-major; never mutated after creation. */
  readonly tiles: Uint8Array;
}

export const isBox = (t: number): boolean => t === TILE.box || t === TILE.boxOnGoal;
export const isAgent = (t: number): boolean => t === TILE.agent || t === TILE.agentOnGoal;
export const hasGoal = (t: number): boolean => t === TILE.goal || t === TILE.boxOnGoal || t === TILE.agentOnGoal;
/** A tile an agent or a box may enter: floor or an uncovered goal. */
export const isFree = (t: number): boolean => t === TILE.floor || t === TILE.goal;
/** Tiles the agent walks over when it plans (boxes count as obstacles): anything but wall and box. */
export const isWalkable = (t: number): boolean => t !== TILE.wall && !isBox(t);

/** Index of the agent's tile, or -1 when the grid has none. */
export function agentIndex(tiles: ArrayLike<number>): number {
  for (let i = 0; i < CELLS; i++) if (isAgent(tiles[i])) return i;
  return -1;
}

/** The neighbour of tile i one step in direction d (i itself for noop). */
export function neighbour(i: number, d: Direction): number {
  return i + OFFSET[d];
}

/**
 * The grid after the agent tries one step in `direction`. Into floor or goal: it moves. Into a box: when the
 * tile beyond the box is floor or goal, the box moves there and the agent takes its place; when it is wall or
 * another box, nothing moves. Into a wall: nothing moves. Noop: nothing moves. Goals stay where they are
 * (tile ids 4, 5, 6 keep the goal under whatever stands on it). With `boxesMove` false (a wrong-physics
 * hypothesis) boxes block like walls. The outer ring is wall, so no index leaves the grid.
 */
export function moveAgent(tiles: ArrayLike<number>, direction: Direction, boxesMove = true): Uint8Array {
  const out = tiles instanceof Uint8Array ? tiles.slice() : Uint8Array.from(tiles);
  const p = agentIndex(tiles);
  if (direction === 0 || p < 0) return out;
  const q = neighbour(p, direction);
  const target = tiles[q];
  if (isBox(target)) {
    if (!boxesMove) return out;
    const r = neighbour(q, direction);
    if (!isFree(tiles[r])) return out;
    out[r] = tiles[r] === TILE.goal ? TILE.boxOnGoal : TILE.box;
  } else if (!isFree(target)) return out;
  out[q] = hasGoal(target) ? TILE.agentOnGoal : TILE.agent;
  out[p] = tiles[p] === TILE.agentOnGoal ? TILE.goal : TILE.floor;
  return out;
}

/**
 * Breadth-first step counts from `source` over the tiles where `passable` holds (4-neighbourhood); -1 where
 * unreachable. The source itself counts as passable.
 */
export function distancesFrom(
  tiles: ArrayLike<number>,
  source: number,
  passable: (tile: number) => boolean,
): Int16Array {
  const dist = new Int16Array(CELLS).fill(-1);
  const queue = new Int16Array(CELLS);
  let head = 0,
    tail = 0;
  dist[source] = 0;
  queue[tail++] = source;
  while (head < tail) {
    const i = queue[head++];
    for (let d = 1; d <= 4; d++) {
      const j = neighbour(i, d as Direction);
      if (j < 0 || j >= CELLS || dist[j] >= 0 || !passable(tiles[j])) continue;
      dist[j] = dist[i] + 1;
      queue[tail++] = j;
    }
  }
  return dist;
}

/** True when every tile where `passable` holds is reachable from every other one (and at least one exists). */
export function isConnected(tiles: ArrayLike<number>, passable: (tile: number) => boolean): boolean {
  let first = -1,
    count = 0;
  for (let i = 0; i < CELLS; i++)
    if (passable(tiles[i])) {
      if (first < 0) first = i;
      count++;
    }
  if (first < 0) return false;
  const dist = distancesFrom(tiles, first, passable);
  let reached = 0;
  for (let i = 0; i < CELLS; i++) if (dist[i] >= 0) reached++;
  return reached === count;
}

/**
 * XSB (Sokoban) characters of each tile id: floor '-', wall '#', agent '@', box '$', goal '.', box on goal '*', agent
 * on goal '+'.
 */
const XSB = ['-', '#', '@', '$', '.', '*', '+'] as const;

/** A grid from SIZE rows of XSB characters (floor may also be ' ' or '_'), e.g. for hand-written tests. */
export function parseGrid(rows: readonly string[]): Uint8Array {
  if (rows.length !== SIZE || rows.some((r) => r.length !== SIZE))
    throw new RangeError(`parseGrid: expected ${SIZE} rows of ${SIZE} characters`);
  const tiles = new Uint8Array(CELLS);
  rows.forEach((row, r) =>
    [...row].forEach((ch, c) => {
      const id = ch === ' ' || ch === '_' ? 0 : XSB.indexOf(ch as (typeof XSB)[number]);
      if (id < 0) throw new RangeError(`parseGrid: unknown tile "${ch}" at row ${r}, col ${c} (use ${XSB.join(' ')})`);
      tiles[r * SIZE + c] = id;
    }),
  );
  return tiles;
}

/** The grid as SIZE rows of XSB characters (the inverse of parseGrid). */
export function formatGrid(tiles: ArrayLike<number>): string[] {
  return Array.from({ length: SIZE }, (_, r) =>
    Array.from({ length: SIZE }, (_, c) => XSB[tiles[r * SIZE + c]]).join(''),
  );
}
