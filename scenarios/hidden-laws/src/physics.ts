// Hidden-laws physics: one transition of a unit-mass particle in the plane under a law's position-dependent
// field a(x), an optional velocity damping, and an applied force. One integrator serves every law, so nested
// laws agree bit for bit (spring = damped spring with c = 0; free flight = any law with its parameters at 0).
// Units: frame units (the frame shows [-2, 2] x [-2, 2], y up) and seconds. Pure functions.

/** Seconds per transition. */
export const DT = 0.1;
/** Integration substeps per transition (h = DT / SUBSTEPS = 0.01 s). */
export const SUBSTEPS = 10;
/** An action a in [-1, 1]^2 applies the force (= acceleration, unit mass) FORCE_SCALE * a for the whole transition. */
export const FORCE_SCALE = 1;

/** What a law contributes to the motion; the applied force is added by the integrator. */
export interface Dynamics {
  /** The law's acceleration at position (x, y), written into out[0], out[1]. Absent: zero. */
  field?(x: number, y: number, out: Float64Array): void;
  /** Replaces (vx, vy) = (s[2], s[3]) by the exact solution after `tau` s of dv/dt = -damping(v). Absent: none. */
  damp?(s: Float64Array, tau: number): void;
}

/** The law's field plus the applied force (fx, fy) at the position in s, into out. */
function acceleration(dyn: Dynamics, s: Float64Array, fx: number, fy: number, out: Float64Array): void {
  if (dyn.field) dyn.field(s[0], s[1], out);
  else out[0] = out[1] = 0;
  out[0] += fx;
  out[1] += fy;
}

/**
 * One transition of DT seconds from particle = (x, y, vx, vy): SUBSTEPS Strang-split substeps of
 *   damping flow (h/2) -> kick (h/2) -> drift (h) -> kick (h/2) -> damping flow (h/2),
 * where the kicks use a(x) + F. Without damping this is velocity Verlet (symplectic, exact for a constant
 * acceleration: free flight, uniform gravity); the damping flows are exact, so the scheme is second order
 * for every law. A null action is zero force. Returns a new float64 [4]; never writes to `particle`.
 */
export function advance(dyn: Dynamics, particle: ArrayLike<number>, action: ArrayLike<number> | null): Float64Array {
  const s = new Float64Array(4); // x, y, vx, vy
  for (let i = 0; i < 4; i++) s[i] = particle[i];
  const fx = action ? FORCE_SCALE * action[0] : 0;
  const fy = action ? FORCE_SCALE * action[1] : 0;
  const h = DT / SUBSTEPS,
    half = h / 2;
  const a = new Float64Array(2);
  acceleration(dyn, s, fx, fy, a); // reused across substeps: damping does not move the particle
  for (let k = 0; k < SUBSTEPS; k++) {
    if (dyn.damp) dyn.damp(s, half);
    s[2] += half * a[0];
    s[3] += half * a[1];
    s[0] += h * s[2];
    s[1] += h * s[3];
    acceleration(dyn, s, fx, fy, a);
    s[2] += half * a[0];
    s[3] += half * a[1];
    if (dyn.damp) dyn.damp(s, half);
  }
  return s;
}

/** Exact flow of dv/dt = -c v: v <- v e^(-c tau). */
export function linearDamping(c: number): Dynamics['damp'] {
  return (s, tau) => {
    const f = Math.exp(-c * tau);
    s[2] *= f;
    s[3] *= f;
  };
}

/** Exact flow of dv/dt = -c |v| v: the direction is kept and |v| <- |v| / (1 + c |v| tau). */
export function quadraticDamping(c: number): Dynamics['damp'] {
  return (s, tau) => {
    const f = 1 / (1 + c * Math.hypot(s[2], s[3]) * tau);
    s[2] *= f;
    s[3] *= f;
  };
}
