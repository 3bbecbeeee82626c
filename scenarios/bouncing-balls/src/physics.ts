// Bouncing-balls physics: the state, one transition (an impulse, then substeps of exact uniform gravity),
// wall bounces and equal-mass ball-ball collisions. Units: box units (the box is [0, 1] x [0, 1], y up)
// and seconds. Pure functions: a transition returns a new state and never writes to the one it was given.

/** Radius of every ball, box units. */
export const RADIUS = 0.07;
/** The state view is padded to this many balls (ood episodes use all of them). */
export const MAX_BALLS = 4;
/** Scalars per ball in the state: x, y, vx, vy. */
export const BALL_FIELDS = 4;
/** Seconds per transition. */
export const DT = 0.05;
/** Integration substeps per transition (h = DT / SUBSTEPS = 0.0125 s). */
export const SUBSTEPS = 4;
/** Every ball's speed is clamped to this after the impulse and after every substep (box units / s). */
export const MAX_SPEED = 4;
/** An action a in [-1, 1]^2 changes ball 0's velocity by ACTION_SCALE * a (box units / s). */
export const ACTION_SCALE = 0.5;

/** One episode's world: its hidden parameters and the balls. Never mutated after creation. */
export interface BallsState {
  /** Number of real balls, 1..MAX_BALLS. */
  readonly count: number;
  /** Downward acceleration, box units / s^2 (hidden; drawn per episode around the world's centre). */
  readonly gravity: number;
  /** Coefficient of restitution of walls and ball-ball contacts (hidden; drawn per episode). */
  readonly restitution: number;
  /** [MAX_BALLS, BALL_FIELDS] row-major: x, y, vx, vy per ball; rows >= count are zero. */
  readonly balls: Float64Array;
}

/** A state from per-ball rows [x, y, vx, vy] (at most MAX_BALLS of them). */
export function makeState(gravity: number, restitution: number, rows: readonly (readonly number[])[]): BallsState {
  if (rows.length < 1 || rows.length > MAX_BALLS)
    throw new RangeError(`makeState: ${rows.length} balls; expected 1..${MAX_BALLS}`);
  const balls = new Float64Array(MAX_BALLS * BALL_FIELDS);
  rows.forEach((row, i) => balls.set(row.slice(0, BALL_FIELDS), i * BALL_FIELDS));
  return { count: rows.length, gravity, restitution, balls };
}

/** Total mechanical energy per unit mass, summed over the balls: sum(0.5 |v|^2 + g y). */
export function totalEnergy(state: BallsState): number {
  let energy = 0;
  for (let i = 0; i < state.count; i++) {
    const o = i * BALL_FIELDS;
    const [y, vx, vy] = [state.balls[o + 1], state.balls[o + 2], state.balls[o + 3]];
    energy += 0.5 * (vx * vx + vy * vy) + state.gravity * y;
  }
  return energy;
}

/**
 * One transition of DT seconds: ball 0's velocity changes by ACTION_SCALE * impulse, then SUBSTEPS substeps
 * of (exact gravity -> ball-ball collisions -> walls -> speed clamp). Returns a new state.
 */
export function advance(state: BallsState, impulse: Float32Array | null): BallsState {
  const b = state.balls.slice(); // [MAX_BALLS, 4]: the only array written below
  const { count, gravity, restitution } = state;
  if (impulse) {
    b[2] += ACTION_SCALE * impulse[0];
    b[3] += ACTION_SCALE * impulse[1];
    clampSpeed(b, 0);
  }
  const h = DT / SUBSTEPS;
  for (let s = 0; s < SUBSTEPS; s++) {
    for (let i = 0; i < count; i++) {
      const o = i * BALL_FIELDS;
      // Uniform acceleration (0, -g) integrated exactly: x += v h + a h^2 / 2; v += a h.
      b[o] += b[o + 2] * h;
      b[o + 1] += b[o + 3] * h - 0.5 * gravity * h * h;
      b[o + 3] -= gravity * h;
    }
    for (let i = 0; i < count; i++) for (let j = i + 1; j < count; j++) collide(b, i, j, restitution);
    for (let i = 0; i < count; i++) {
      bounceOffWalls(b, i, gravity, restitution);
      clampSpeed(b, i);
    }
  }
  return { count, gravity, restitution, balls: b };
}

/**
 * Equal-mass contact between balls i and j: when they overlap and approach, an impulse along the line of
 * centres leaves their normal relative velocity at -e times what it was; then each is pushed half the overlap
 * apart, so that no overlap carries into the next substep.
 */
function collide(b: Float64Array, i: number, j: number, e: number): void {
  const oi = i * BALL_FIELDS,
    oj = j * BALL_FIELDS;
  let dx = b[oj] - b[oi],
    dy = b[oj + 1] - b[oi + 1];
  let dist = Math.hypot(dx, dy);
  if (dist >= 2 * RADIUS) return;
  if (dist < 1e-12) [dx, dy, dist] = [1, 0, 1]; // coincident centres: any normal will do; pick +x
  const nx = dx / dist,
    ny = dy / dist;
  const approach = (b[oj + 2] - b[oi + 2]) * nx + (b[oj + 3] - b[oi + 3]) * ny; // < 0 when closing
  if (approach < 0) {
    const J = (-(1 + e) * approach) / 2; // per unit mass, equal masses
    b[oi + 2] -= J * nx;
    b[oi + 3] -= J * ny;
    b[oj + 2] += J * nx;
    b[oj + 3] += J * ny;
  }
  const push = (2 * RADIUS - Math.min(dist, 2 * RADIUS)) / 2;
  b[oi] -= push * nx;
  b[oi + 1] -= push * ny;
  b[oj] += push * nx;
  b[oj + 1] += push * ny;
}

/**
 * Walls at RADIUS and 1 - RADIUS (for the centre). A ball past a wall is reflected back inside by its
 * penetration depth d, and its normal velocity is reversed and scaled by the restitution e. Under gravity the
 * normal speed is corrected for the substep's motion past the wall, so that the bounce never adds energy:
 * with a_n the acceleration along the outward normal (g at the floor, -g at the ceiling, 0 at the sides),
 * the speed at contact is sqrt(u^2 - 2 a_n d) (u: outward speed at the end of the substep), it leaves at e
 * times that, and travels d back inside: w = sqrt(e^2 (u^2 - 2 a_n d) - 2 a_n d). At the side walls this is
 * exactly w = e u. A ball too slow to climb back d (w^2 < 0 at the floor) stops at the top of its rebound.
 * A ball past a wall but already moving inward (pushed there by a contact) is put back on the wall.
 */
function bounceOffWalls(b: Float64Array, i: number, gravity: number, e: number): void {
  const o = i * BALL_FIELDS;
  const lo = RADIUS,
    hi = 1 - RADIUS;
  for (let axis = 0; axis < 2; axis++) {
    const p = o + axis,
      v = o + 2 + axis;
    const side = b[p] < lo ? -1 : b[p] > hi ? 1 : 0; // outward normal along this axis, or 0 when inside
    if (side === 0) continue;
    const wall = side < 0 ? lo : hi;
    const depth = side * (b[p] - wall); // > 0
    const outward = side * b[v]; // outward normal speed
    if (outward <= 0) {
      b[p] = wall;
      continue;
    }
    const aNormal = axis === 1 ? -gravity * side : 0;
    const reboundSq = e * e * Math.max(0, outward * outward - 2 * aNormal * depth); // inward speed^2 leaving the wall
    const arrivalSq = reboundSq - 2 * aNormal * depth; // inward speed^2 after climbing back `depth`
    if (arrivalSq >= 0) {
      b[p] = wall - side * depth;
      b[v] = -side * Math.sqrt(arrivalSq);
    } else {
      b[p] = wall - side * (reboundSq / (2 * aNormal));
      b[v] = 0;
    }
  }
}

function clampSpeed(b: Float64Array, i: number): void {
  const o = i * BALL_FIELDS;
  const speed = Math.hypot(b[o + 2], b[o + 3]);
  if (speed > MAX_SPEED) {
    b[o + 2] *= MAX_SPEED / speed;
    b[o + 3] *= MAX_SPEED / speed;
  }
}
