// The candidate restoring laws: the 3 a world can have (TRUE_LAWS) and 1 wrong alternative that no world has.
// Each is a = -k L f(x / L) with f(u) = u + O(u^3): every law is the same spring -k x at small amplitude and they
// part at large (the cubic terms: 0, +1/3, -1/3 and -1/6). The stiffness k is drawn per world with the law; L is one
// frozen length. The damping rate c is drawn per episode.
// Every number here is frozen in README.md; changing one bumps the id.
import type { Restoring } from './physics';

/** The length where the laws part, frame units: a = -k L f(x / L). */
export const NONLINEAR_SCALE = 1;

/** The world's stiffness k per unit mass, 1 / s^2 (small-amplitude angular frequency sqrt(k)): k ~ U(1, 4). */
export const STIFFNESS = [1, 4] as const;

/** The episode's linear damping rate c, 1 / s: train and test episodes, and ood ones (outside the train range). */
export const DAMPING = { train: [0.05, 0.15], ood: [0.25, 0.4] } as const;

export interface Law {
  id: string;
  statement: string;
  /** f(u), the law's shape: a = -k L f(x / L). */
  shape(u: number): number;
  /** P(u) with P' = f, P(0) = 0: the potential energy per unit mass is k L^2 P(x / L). */
  potential(u: number): number;
}

const spring: Law = {
  id: 'spring',
  statement: 'linear spring: a = -k x',
  shape: (u) => u,
  potential: (u) => (u * u) / 2,
};

const hardening: Law = {
  id: 'hardening',
  statement: 'hardening (Duffing) spring: a = -k x (1 + x^2 / (3 L^2))',
  shape: (u) => u + (u * u * u) / 3,
  potential: (u) => (u * u) / 2 + (u * u * u * u) / 12,
};

const softening: Law = {
  id: 'softening',
  statement: 'softening (saturating) spring: a = -k L tanh(x / L)',
  shape: (u) => Math.tanh(u),
  // log cosh u, written so that it neither overflows at large u nor loses small u
  potential: (u) => Math.abs(u) + Math.log1p(Math.exp(-2 * Math.abs(u))) - Math.LN2,
};

const pendulum: Law = {
  id: 'pendulum',
  statement: 'pendulum-like restoring law: a = -k L sin(x / L) (no world has it)',
  shape: (u) => Math.sin(u),
  potential: (u) => 2 * Math.sin(u / 2) ** 2,
};

/** The 3 laws a world is drawn from, uniformly. */
export const TRUE_LAWS = [spring, hardening, softening] as const;
export type TrueLawId = 'spring' | 'hardening' | 'softening';
export const TRUE_LAW_IDS = TRUE_LAWS.map((l) => l.id) as TrueLawId[];

/** Wrong alternatives: candidates of the hypothesis space that no world is drawn from. */
export const ALTERNATIVE_LAWS = [pendulum] as const;

/** Every candidate law by id. */
export const LAWS: Readonly<Record<string, Law>> = Object.fromEntries(
  [...TRUE_LAWS, ...ALTERNATIVE_LAWS].map((l) => [l.id, l]),
);

/** The acceleration of `law` with stiffness k, as the integrator takes it. */
export function restoring(law: Law, k: number): Restoring {
  const L = NONLINEAR_SCALE;
  return (x) => -k * L * law.shape(x / L);
}

/**
 * Potential energy per unit mass of `law` with stiffness k at x: 0.5 v^2 + this is conserved without force or
 * damping.
 */
export function potentialEnergy(law: Law, k: number, x: number): number {
  return k * NONLINEAR_SCALE ** 2 * law.potential(x / NONLINEAR_SCALE);
}
