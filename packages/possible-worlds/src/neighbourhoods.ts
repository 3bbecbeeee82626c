// Context classes of local rules on a 2-D grid: which cells around a cell its next value may read, and how
// much of their arrangement matters. A class turns (grid, cell, action) into one key; a rule of that class is
// a table key -> next value (rules.ts). The classes, from most to least specific arrangement:
//   full               the values of every cell of the neighbourhood, in place
//   d4                 the same up to rotation and reflection (the 8 symmetries of the square)
//   outer-totalistic   the cell's own value and how many neighbours hold each value (life-like rules)
//   totalistic         how many cells of the neighbourhood, the cell included, hold each value
// Neighbourhoods: Moore (the (2r+1)^2 square) or von Neumann (|dr| + |dc| <= r), radius 1 or 2, or the cell
// alone (radius 0). Boundary: a torus (edges wrap) or bounded (cells beyond an edge read as an extra value,
// "outside"). With actions, a class may key on the action too.

export type Shape = 'moore' | 'von-neumann';
export type Symmetry = 'full' | 'd4' | 'outer-totalistic' | 'totalistic';
export type Boundary = 'torus' | 'bounded';

export interface RuleClass {
  shape: Shape;
  /** 0: the cell alone. */
  radius: number;
  symmetry: Symmetry;
  boundary: Boundary;
  /** The key includes the action. */
  action: boolean;
}

/**
 * The grid a class reads: H x W cells of values 0..V-1, and A action keys (actions read as digits of base actionVocab;
 * 0 without actions).
 */
export interface Geometry {
  H: number;
  W: number;
  V: number;
  A: number;
  actionVocab: number;
}

/** (grid [H * W], cell index, action key) -> the cell's context key. */
export type KeyFunction = (grid: Int32Array, cell: number, action: number) => number;

export function classId(c: RuleClass): string {
  const where = c.radius === 0 ? 'cell' : `${c.symmetry} ${c.shape}-${c.radius} ${c.boundary}`;
  return `rule: ${where}${c.action ? ' +action' : ''}`;
}

/**
 * Every class searched: radius 1 and 2 of both shapes, four symmetries, both boundaries; and the cell alone. With
 * actions, each with and without it.
 */
export function ruleClasses(withAction: boolean): RuleClass[] {
  const out: RuleClass[] = [];
  for (const action of withAction ? [true, false] : [false]) {
    for (const radius of [1, 2])
      for (const shape of ['moore', 'von-neumann'] as const)
        for (const symmetry of ['full', 'd4', 'outer-totalistic', 'totalistic'] as const)
          for (const boundary of ['torus', 'bounded'] as const) out.push({ shape, radius, symmetry, boundary, action });
    out.push({ shape: 'moore', radius: 0, symmetry: 'full', boundary: 'bounded', action });
  }
  return out;
}

/** Offsets of a neighbourhood, the cell itself first, then row by row. */
export function offsets(shape: Shape, radius: number): Array<[number, number]> {
  const out: Array<[number, number]> = [[0, 0]];
  for (let dr = -radius; dr <= radius; dr++)
    for (let dc = -radius; dc <= radius; dc++) {
      if (dr === 0 && dc === 0) continue;
      if (shape === 'moore' ? Math.max(Math.abs(dr), Math.abs(dc)) <= radius : Math.abs(dr) + Math.abs(dc) <= radius)
        out.push([dr, dc]);
    }
  return out;
}

/** The 8 symmetries of the square acting on an offset. */
const D4: Array<(dr: number, dc: number) => [number, number]> = [
  (r, c) => [r, c],
  (r, c) => [c, -r],
  (r, c) => [-r, -c],
  (r, c) => [-c, r],
  (r, c) => [r, -c],
  (r, c) => [-r, c],
  (r, c) => [c, r],
  (r, c) => [-c, -r],
];

/** Neighbour cell indices [H * W, K]; -1 beyond a bounded edge. */
function neighbourTable(g: Geometry, offs: Array<[number, number]>, boundary: Boundary): Int32Array {
  const K = offs.length;
  const out = new Int32Array(g.H * g.W * K);
  for (let r = 0; r < g.H; r++)
    for (let c = 0; c < g.W; c++)
      offs.forEach(([dr, dc], k) => {
        let rr = r + dr,
          cc = c + dc;
        if (boundary === 'torus') (rr = ((rr % g.H) + g.H) % g.H), (cc = ((cc % g.W) + g.W) % g.W);
        out[(r * g.W + c) * K + k] = rr >= 0 && rr < g.H && cc >= 0 && cc < g.W ? rr * g.W + cc : -1;
      });
  return out;
}

/** Canonical (d4) keys remembered per key function. */
const MEMO = 1 << 20;

/** Largest integer a key may reach and stay exact in a double. */
const EXACT = 2 ** 53;

/**
 * A 53-bit hash of a sequence of small integers, for keys whose exact encoding would not fit a double (a
 * radius-2 neighbourhood of 7 values: 7^25 configurations). Two configurations share a key only by a hash
 * collision, about n^2 / 2^54 for n distinct configurations (1e-4 for a million).
 */
class Hash {
  a = 0x811c9dc5 | 0;
  b = 0x27d4eb2f | 0;
  push(v: number): void {
    this.a = Math.imul(this.a ^ v, 0x01000193);
    this.b = Math.imul(this.b ^ (v + 0x9e3779b9), 0x85ebca6b);
    this.b ^= this.b >>> 13;
  }
  value(): number {
    return (this.a >>> 0) * 2097152 + ((this.b >>> 0) & 0x1fffff);
  }
}

/** The key function of a class on a geometry. */
export function keyFunction(cls: RuleClass, g: Geometry): KeyFunction {
  const offs = offsets(cls.shape, cls.radius);
  const K = offs.length;
  const nb = neighbourTable(g, offs, cls.boundary);
  const B = g.V + 1; // values, and "outside" (V) for bounded edges
  const A = cls.action ? g.A : 1;
  if (cls.symmetry === 'full' || cls.symmetry === 'd4') {
    // each symmetry reads the neighbourhood in its own order ([S, K], flat); 'full' reads it in place only
    const orders = Int32Array.from(
      (cls.symmetry === 'full' ? D4.slice(0, 1) : D4).flatMap((f) =>
        offs.map(([dr, dc]) => {
          const [r, c] = f(dr, dc);
          return offs.findIndex(([a, b]) => a === r && b === c);
        }),
      ),
    );
    const S = orders.length / K;
    const exact = B ** K * A < EXACT;
    const hash = new Hash();
    const values = new Int32Array(K);
    const encode = (o: number, a: number): number => {
      if (exact) {
        let key = 0;
        for (let k = 0; k < K; k++) key = key * B + values[orders[o + k]];
        return key * A + a;
      }
      hash.a = 0x811c9dc5 | 0;
      hash.b = 0x27d4eb2f | 0;
      for (let k = 0; k < K; k++) hash.push(values[orders[o + k]]);
      hash.push(a);
      return hash.value();
    };
    // the canonical key is a function of the key in place: remembered, as configurations repeat (up to MEMO of them)
    const memo = new Map<number, number>();
    return (grid, cell, action) => {
      const base = cell * K;
      for (let k = 0; k < K; k++) {
        const j = nb[base + k];
        values[k] = j < 0 ? g.V : grid[j];
      }
      const a = cls.action ? action : 0;
      const inPlace = encode(0, a);
      if (S === 1) return inPlace;
      const known = memo.get(inPlace);
      if (known !== undefined) return known;
      let best = inPlace;
      for (let s = 1; s < S; s++) best = Math.min(best, encode(s * K, a));
      if (memo.size < MEMO) memo.set(inPlace, best);
      return best;
    };
  }
  // counting classes: how many cells hold each value (outer: among the neighbours, beside the cell's own value)
  const outer = cls.symmetry === 'outer-totalistic';
  const first = outer ? 1 : 0;
  const radix = K - first + 1; // a count is 0..K - first
  const exact = radix ** B * B * A < EXACT;
  const counts = new Int32Array(B);
  const hash = new Hash();
  return (grid, cell, action) => {
    const base = cell * K;
    counts.fill(0);
    for (let k = first; k < K; k++) {
      const j = nb[base + k];
      counts[j < 0 ? g.V : grid[j]]++;
    }
    const own = outer ? (nb[base] < 0 ? g.V : grid[nb[base]]) : 0;
    if (!exact) {
      hash.a = 0x811c9dc5 | 0;
      hash.b = 0x27d4eb2f | 0;
      for (let v = 0; v < B; v++) hash.push(counts[v]);
      hash.push(own);
      hash.push(cls.action ? action : 0);
      return hash.value();
    }
    let key = 0;
    for (let v = B - 1; v >= 0; v--) key = key * radix + counts[v];
    return (key * B + own) * A + (cls.action ? action : 0);
  };
}

/**
 * A counting class's key read back (for explain()): the cell's own value (outer-totalistic), the count of each
 * value, the action. Null for classes whose keys are positional or hashed.
 */
export function decodeCountKey(
  cls: RuleClass,
  g: Geometry,
  key: number,
): { own: number | null; counts: number[]; action: number | null } | null {
  if (cls.symmetry !== 'outer-totalistic' && cls.symmetry !== 'totalistic') return null;
  if (cls.radius === 0) return null;
  const K = offsets(cls.shape, cls.radius).length;
  const B = g.V + 1,
    A = cls.action ? g.A : 1;
  const outer = cls.symmetry === 'outer-totalistic';
  const radix = K - (outer ? 1 : 0) + 1;
  if (!(radix ** B * B * A < EXACT)) return null;
  const action = key % A;
  let rest = (key - action) / A;
  const own = rest % B;
  rest = (rest - own) / B;
  const counts: number[] = [];
  for (let v = 0; v < B; v++) {
    counts.push(rest % radix);
    rest = Math.floor(rest / radix);
  }
  return { own: outer ? own : null, counts, action: cls.action ? action : null };
}
