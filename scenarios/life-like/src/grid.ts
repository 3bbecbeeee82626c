// The 24 x 24 grid and one step of a life-like rule on it. A lattice (neighbourhood + edges) is a table of
// each cell's neighbour indices, computed once, so a step is a flat loop over typed arrays. The scenario runs
// on the Moore torus; the von Neumann and bounded lattices exist for the hypotheses' wrong candidates.
import type { Rule } from './rule';

/** Grid side, cells. */
export const SIZE = 24;
/** Cells per grid, row-major: cell (row r, col c) is index r * SIZE + c. */
export const CELLS = SIZE * SIZE;

/** moore: the 8 cells around; von-neumann: the 4 that share an edge. */
export type Neighbourhood = 'moore' | 'von-neumann';
/** torus: rows and columns wrap around; bounded: cells beyond the edge count as dead. */
export type Edges = 'torus' | 'bounded';

const OFFSETS: Record<Neighbourhood, ReadonlyArray<readonly [number, number]>> = {
  moore: [
    [-1, -1],
    [-1, 0],
    [-1, 1],
    [0, -1],
    [0, 1],
    [1, -1],
    [1, 0],
    [1, 1],
  ],
  'von-neumann': [
    [-1, 0],
    [0, -1],
    [0, 1],
    [1, 0],
  ],
};

export interface Lattice {
  readonly neighbourhood: Neighbourhood;
  readonly edges: Edges;
  /** Neighbours per cell (8 or 4): live-neighbour counts run 0..maxCount. */
  readonly maxCount: number;
  /** [CELLS, maxCount] neighbour indices; an off-grid neighbour of a bounded lattice is CELLS (read as dead). */
  readonly table: Uint16Array;
}

export function makeLattice(neighbourhood: Neighbourhood, edges: Edges): Lattice {
  const offsets = OFFSETS[neighbourhood];
  const table = new Uint16Array(CELLS * offsets.length);
  for (let r = 0; r < SIZE; r++)
    for (let c = 0; c < SIZE; c++)
      offsets.forEach(([dr, dc], k) => {
        const rr = r + dr,
          cc = c + dc;
        const inside = rr >= 0 && rr < SIZE && cc >= 0 && cc < SIZE;
        table[(r * SIZE + c) * offsets.length + k] =
          edges === 'torus' ? ((rr + SIZE) % SIZE) * SIZE + ((cc + SIZE) % SIZE) : inside ? rr * SIZE + cc : CELLS;
      });
  return { neighbourhood, edges, maxCount: offsets.length, table };
}

/** The scenario's lattice: Moore neighbourhood on a torus. */
export const MOORE_TORUS = makeLattice('moore', 'torus');

/** The grid with one extra dead cell at index CELLS, the target of a bounded lattice's off-grid neighbours. */
function padded(cells: Uint8Array): Uint8Array {
  const out = new Uint8Array(CELLS + 1);
  out.set(cells);
  return out;
}

/** Live neighbours of every cell, [CELLS]; `cells` holds 0 (dead) or 1 (live). */
export function neighbourCounts(lattice: Lattice, cells: Uint8Array): Uint8Array {
  const grid = padded(cells);
  const { table, maxCount: k } = lattice;
  const counts = new Uint8Array(CELLS);
  for (let i = 0, o = 0; i < CELLS; i++, o += k) {
    let n = 0;
    for (let j = 0; j < k; j++) n += grid[table[o + j]];
    counts[i] = n;
  }
  return counts;
}

/**
 * One synchronous step: a dead cell with n live neighbours is born when bit n of rule.birth is set, a live
 * one survives when bit n of rule.survival is set; every other cell is dead next. Returns a new grid.
 */
export function advance(lattice: Lattice, rule: Rule, cells: Uint8Array): Uint8Array {
  const grid = padded(cells);
  const { table, maxCount: k } = lattice;
  const { birth, survival } = rule;
  const next = new Uint8Array(CELLS);
  for (let i = 0, o = 0; i < CELLS; i++, o += k) {
    let n = 0;
    for (let j = 0; j < k; j++) n += grid[table[o + j]];
    next[i] = ((grid[i] ? survival : birth) >>> n) & 1;
  }
  return next;
}

/** A grid from rows of '.' (dead) and 'O' (live) placed with its top-left corner at (row, col), wrapping. */
export function gridFromPattern(rows: readonly string[], row = 0, col = 0): Uint8Array {
  const cells = new Uint8Array(CELLS);
  rows.forEach((line, dr) =>
    [...line].forEach((ch, dc) => {
      if (ch !== 'O' && ch !== '.')
        throw new Error(`gridFromPattern: "${ch}" in row ${dr}; use "O" for live and "." for dead`);
      if (ch === 'O') cells[((row + dr) % SIZE) * SIZE + ((col + dc) % SIZE)] = 1;
    }),
  );
  return cells;
}

/** 0/1 cells from a view's values (live when > 0.5). */
export function binarise(values: ArrayLike<number>): Uint8Array {
  if (values.length !== CELLS)
    throw new RangeError(`binarise: ${values.length} values; a ${SIZE} x ${SIZE} grid has ${CELLS}`);
  const cells = new Uint8Array(CELLS);
  for (let i = 0; i < CELLS; i++) cells[i] = values[i] > 0.5 ? 1 : 0;
  return cells;
}
