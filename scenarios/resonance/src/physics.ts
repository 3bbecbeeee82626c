// Resonance physics: one transition of a unit-mass bob on a line under a restoring law g(x), a linear damping
// and an applied force. One integrator serves every law, so a hypothesis that predicts with the same law
// reproduces a step bit for bit. Units: frame units (the frame shows x in [-2, 2]) and seconds. Pure functions.

/** Seconds per transition. */
export const DT = 0.1;
/** Integration substeps per transition (h = DT / SUBSTEPS = 0.01 s). */
export const SUBSTEPS = 10;
/**
 * An action a in [-1, 1] applies the force (= acceleration, unit mass) FORCE_SCALE * a for the whole transition.
 * Half a unit: small enough that uniformly random forcing stays where the laws agree (README, "Why experiments
 * matter"), large enough that forcing in phase with the velocity reaches where they differ within an episode.
 */
export const FORCE_SCALE = 0.5;
/** A restoring law's acceleration at position x (the applied force and the damping are added by the integrator). */
export type Restoring = (x: number) => number;

/**
 * One transition of DT seconds from bob = (x, v) with linear damping rate c (dv/dt = -c v, 1 / s: the amplitude decays
 * as e^(-c t / 2)) and applied force F: SUBSTEPS Strang-split substeps of
 *   damping flow (h/2) -> kick (h/2) -> drift (h) -> kick (h/2) -> damping flow (h/2),
 * where the kicks use g(x) + F. The damping flow v <- v e^(-c tau) is exact; without it the scheme is velocity
 * Verlet (symplectic), so it is second order for every law. Returns a new float64 [2]; never writes to `bob`.
 */
export function advance(restoring: Restoring, damping: number, bob: ArrayLike<number>, force: number): Float64Array {
  let x = bob[0],
    v = bob[1];
  const h = DT / SUBSTEPS,
    half = h / 2;
  const damp = Math.exp(-damping * half);
  let a = restoring(x) + force; // reused across substeps: damping does not move the bob
  for (let k = 0; k < SUBSTEPS; k++) {
    v *= damp;
    v += half * a;
    x += h * v;
    a = restoring(x) + force;
    v += half * a;
    v *= damp;
  }
  return Float64Array.of(x, v);
}
