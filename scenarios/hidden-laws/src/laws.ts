// The candidate laws: the 7 a world can have (TRUE_LAWS) and 3 wrong alternatives that no world has
// (ALTERNATIVE_LAWS). Each is a field a(x) and/or a damping of v for the one integrator in physics.ts, with
// named parameters and their ranges. Every number here is frozen in README.md; changing one bumps the id.
import { DT, linearDamping, quadraticDamping, type Dynamics } from './physics';

/** Plummer softening of the central attraction, frame units: a = -mu x / (|x|^2 + eps^2)^(3/2). */
export const SOFTENING = 0.25;

export interface LawParameter {
  name: string;
  /** Train and test episodes draw the parameter uniformly from here; it is the hypotheses' prior range. */
  train: readonly [number, number];
  /** ood episodes draw it uniformly from here, outside `train` (absent for the alternatives, never drawn). */
  ood?: readonly [number, number];
  doc: string;
}

export interface Law {
  id: string;
  statement: string;
  parameters: readonly LawParameter[];
  /** Laws this one is a special case of (some parameters set to 0 or equal), bit for bit in this integrator. */
  nestedIn: readonly string[];
  /** The law under parameters `p` (in `parameters` order). */
  dynamics(p: ArrayLike<number>): Dynamics;
  /** Conservative laws: the potential energy per unit mass; 0.5 |v|^2 + potential is conserved without force. */
  potential?(p: ArrayLike<number>, x: number, y: number): number;
  /**
   * Laws whose one-step map is exactly affine in the parameters (a constant acceleration, which velocity
   * Verlet integrates exactly): per parameter, the change of (x, y, vx, vy) per unit of it.
   */
  affineBasis?: readonly (readonly number[])[];
}

const HALF_DT2 = (DT * DT) / 2;

const free: Law = {
  id: 'free',
  statement: 'free flight: a = 0 (plus the applied force)',
  parameters: [],
  nestedIn: [
    'gravity',
    'spring',
    'damped-spring',
    'pendulum',
    'drag',
    'central',
    'linear-drag',
    'anisotropic-spring',
    'uniform-field',
  ],
  dynamics: () => ({}),
  potential: () => 0,
  affineBasis: [],
};

const gravity: Law = {
  id: 'gravity',
  statement: 'uniform gravity: a = (0, -g)',
  parameters: [{ name: 'g', train: [0.2, 0.8], ood: [1, 1.6], doc: 'downward acceleration, frame units / s^2' }],
  nestedIn: ['uniform-field'],
  dynamics: (p) => {
    const g = p[0];
    return { field: (_x, _y, out) => ((out[0] = 0), (out[1] = -g)) };
  },
  potential: (p, _x, y) => p[0] * y,
  affineBasis: [[0, -HALF_DT2, 0, -DT]],
};

const spring: Law = {
  id: 'spring',
  statement: 'spring about the origin: a = -k x',
  parameters: [
    { name: 'k', train: [1, 4], ood: [5, 8], doc: 'stiffness per unit mass, 1 / s^2 (angular frequency sqrt(k))' },
  ],
  nestedIn: ['damped-spring', 'anisotropic-spring'],
  dynamics: (p) => {
    const k = p[0];
    return { field: (x, y, out) => ((out[0] = -k * x), (out[1] = -k * y)) };
  },
  potential: (p, x, y) => 0.5 * p[0] * (x * x + y * y),
};

const dampedSpring: Law = {
  id: 'damped-spring',
  statement: 'damped spring about the origin: a = -k x - c v',
  parameters: [
    { name: 'k', train: [1, 4], ood: [5, 8], doc: 'stiffness per unit mass, 1 / s^2' },
    { name: 'c', train: [0.2, 1], ood: [1.5, 2.5], doc: 'linear damping rate, 1 / s' },
  ],
  nestedIn: [],
  dynamics: (p) => {
    const k = p[0];
    return { field: (x, y, out) => ((out[0] = -k * x), (out[1] = -k * y)), damp: linearDamping(p[1]) };
  },
};

const pendulum: Law = {
  id: 'pendulum',
  statement:
    'separable pendulum-like restoring law: per axis a_i = -w2 L sin(x_i / L) (each axis a pendulum of length L ' +
    'whose arc length is x_i; w2 = g / L); nearly a spring of k = w2 for |x_i| << L',
  parameters: [
    { name: 'w2', train: [1, 4], ood: [5, 8], doc: 'small-amplitude squared angular frequency g / L, 1 / s^2' },
    {
      name: 'L',
      train: [1, 2],
      ood: [0.5, 0.8],
      doc: 'length, frame units: the scale where the law stops being a spring',
    },
  ],
  nestedIn: [],
  dynamics: (p) => {
    const w2 = p[0],
      L = p[1];
    return { field: (x, y, out) => ((out[0] = -w2 * L * Math.sin(x / L)), (out[1] = -w2 * L * Math.sin(y / L))) };
  },
  // w2 L^2 (1 - cos(x_i / L)) per axis, written as 2 w2 L^2 sin^2(x_i / 2L) to keep small amplitudes exact
  potential: (p, x, y) => 2 * p[0] * p[1] * p[1] * (Math.sin(x / (2 * p[1])) ** 2 + Math.sin(y / (2 * p[1])) ** 2),
};

const drag: Law = {
  id: 'drag',
  statement: 'quadratic drag: a = -c |v| v',
  parameters: [{ name: 'c', train: [0.5, 2], ood: [2.5, 4], doc: 'drag coefficient per unit mass, 1 / frame unit' }],
  nestedIn: [],
  dynamics: (p) => ({ damp: quadraticDamping(p[0]) }),
};

const central: Law = {
  id: 'central',
  statement: `softened central attraction to the origin: a = -mu x / (|x|^2 + eps^2)^(3/2), eps = ${SOFTENING}`,
  parameters: [{ name: 'mu', train: [0.5, 2], ood: [2.5, 4], doc: 'strength GM, frame units^3 / s^2' }],
  nestedIn: [],
  dynamics: (p) => {
    const mu = p[0];
    return {
      field: (x, y, out) => {
        const r2 = x * x + y * y + SOFTENING * SOFTENING;
        const f = -mu / (r2 * Math.sqrt(r2));
        out[0] = f * x;
        out[1] = f * y;
      },
    };
  },
  potential: (p, x, y) => -p[0] / Math.sqrt(x * x + y * y + SOFTENING * SOFTENING),
};

/** The 7 laws a world is drawn from, uniformly. */
export const TRUE_LAWS = [free, gravity, spring, dampedSpring, pendulum, drag, central] as const;
export type TrueLawId = 'free' | 'gravity' | 'spring' | 'damped-spring' | 'pendulum' | 'drag' | 'central';
export const TRUE_LAW_IDS = TRUE_LAWS.map((l) => l.id) as TrueLawId[];

const linearDrag: Law = {
  id: 'linear-drag',
  statement: 'linear drag: a = -c v (no world has it)',
  parameters: [{ name: 'c', train: [0.2, 2], doc: 'damping rate, 1 / s' }],
  nestedIn: ['damped-spring'],
  dynamics: (p) => ({ damp: linearDamping(p[0]) }),
};

const anisotropicSpring: Law = {
  id: 'anisotropic-spring',
  statement: 'anisotropic spring: a = (-kx x, -ky y) (no world has it; spring is kx = ky)',
  parameters: [
    { name: 'kx', train: [1, 4], doc: 'stiffness along x, 1 / s^2' },
    { name: 'ky', train: [1, 4], doc: 'stiffness along y, 1 / s^2' },
  ],
  nestedIn: [],
  dynamics: (p) => {
    const kx = p[0],
      ky = p[1];
    return { field: (x, y, out) => ((out[0] = -kx * x), (out[1] = -ky * y)) };
  },
  potential: (p, x, y) => 0.5 * (p[0] * x * x + p[1] * y * y),
};

const uniformField: Law = {
  id: 'uniform-field',
  statement: 'uniform field in any direction: a = (ax, ay) (no world has it; gravity is ax = 0, ay = -g)',
  parameters: [
    { name: 'ax', train: [-1, 1], doc: 'acceleration along x, frame units / s^2' },
    { name: 'ay', train: [-1, 1], doc: 'acceleration along y, frame units / s^2' },
  ],
  nestedIn: [],
  dynamics: (p) => {
    const ax = p[0],
      ay = p[1];
    return { field: (_x, _y, out) => ((out[0] = ax), (out[1] = ay)) };
  },
  potential: (p, x, y) => -(p[0] * x + p[1] * y),
  affineBasis: [
    [HALF_DT2, 0, DT, 0],
    [0, HALF_DT2, 0, DT],
  ],
};

/** Wrong alternatives: candidates of the hypothesis space that no world is drawn from. */
export const ALTERNATIVE_LAWS = [linearDrag, anisotropicSpring, uniformField] as const;

/** Every candidate law by id. */
export const LAWS: Readonly<Record<string, Law>> = Object.fromEntries(
  [...TRUE_LAWS, ...ALTERNATIVE_LAWS].map((l) => [l.id, l]),
);

/** Total mechanical energy per unit mass of a conservative law at (x, y, vx, vy). */
export function energy(law: Law, p: ArrayLike<number>, s: ArrayLike<number>): number {
  if (!law.potential)
    throw new Error(
      `energy: law "${law.id}" is not conservative (it has damping); expected one of ${Object.values(LAWS)
        .filter((l) => l.potential)
        .map((l) => l.id)
        .join(', ')}`,
    );
  return 0.5 * (s[2] * s[2] + s[3] * s[3]) + law.potential(p, s[0], s[1]);
}
