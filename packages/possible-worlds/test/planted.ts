// Planted worlds for the equation search's tests: a particle in the plane (x, y, vx, vy) pushed by a force
// action, under a law that is none of the scenarios' (a Duffing spring, a pull toward an off-centre point, a
// force that is a product of state and action). Integrated finely (RK4, 20 substeps), observed with noise.
import type { Rng, Scenario, ScenarioSpec } from '@worldbench/core';

/** Acceleration (ax, ay) at (x, y, vx, vy) under action (a0, a1) and the episode's parameter p. */
export type Field = (s: readonly number[], a: readonly number[], p: number) => [number, number];

export interface PlantedOptions {
  id: string;
  field: Field;
  /** The per-episode parameter's range (train); ood draws from `ood`. */
  train: readonly [number, number];
  ood?: readonly [number, number];
  /** Initial position range, +-. */
  extent?: number;
  /** The expert pushes only along +x, one step in four (as hidden-laws' does): the data never vary the y force. */
  narrowExpert?: boolean;
}

const DT = 0.1,
  SUBSTEPS = 20;

/** One step of DT of ds/dt = deriv(s), integrated finely (RK4, SUBSTEPS substeps). */
function integrate(s0: readonly number[], deriv: (s: number[]) => number[]): number[] {
  let s = s0.slice();
  const h = DT / SUBSTEPS;
  for (let k = 0; k < SUBSTEPS; k++) {
    const k1 = deriv(s);
    const k2 = deriv(s.map((v, i) => v + (h / 2) * k1[i]));
    const k3 = deriv(s.map((v, i) => v + (h / 2) * k2[i]));
    const k4 = deriv(s.map((v, i) => v + h * k3[i]));
    s = s.map((v, i) => v + (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
  }
  return s;
}

export function plantedScenario(opts: PlantedOptions): Scenario<null, { s: number[]; p: number }> {
  const spec: ScenarioSpec = {
    id: `${opts.id}-v1`,
    summary: `planted: ${opts.id}`,
    views: { state: { shape: [4], kind: 'real' } },
    action: { shape: [2], kind: 'real', range: [-1, 1] },
    episodeLength: 32,
    historySteps: 4,
    horizon: 16,
    observationNoise: { state: 0.01 },
    tags: ['planted'],
  };
  const deriv = (s: number[], a: readonly number[], p: number) => {
    const [ax, ay] = opts.field(s, a, p);
    return [s[2], s[3], ax, ay];
  };
  return {
    spec,
    sampleWorld: () => null,
    reset(_w, rng: Rng, split) {
      const e = opts.extent ?? 1;
      const p = rng.uniform(...(split === 'ood' ? (opts.ood ?? opts.train) : opts.train));
      return { s: [rng.uniform(-e, e), rng.uniform(-e, e), rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)], p };
    },
    step(_w, state, action) {
      const a = action ? Array.from(action) : [0, 0];
      return { s: integrate(state.s, (s) => deriv(s, a, state.p)), p: state.p };
    },
    render: (_w, state) => ({ state: Float32Array.from(state.s) }),
    behavior: (_w, _s, rng) =>
      opts.narrowExpert
        ? Float32Array.of(rng.bernoulli(0.25) ? 1 : 0, 0)
        : Float32Array.of(rng.uniform(-1, 1), rng.uniform(-1, 1)),
    explore: (_w, _s, rng) => Float32Array.of(rng.uniform(-1, 1), rng.uniform(-1, 1)),
  };
}

/**
 * Two bodies in the plane (state [2, 4]: x, y, vx, vy each) pulling each other, a_i = -G (q_i - q_j) /
 * (|q_i - q_j|^2 + 0.04)^(3/2), G per episode; the action pushes body 0 only.
 */
export function plantedTwoBodies(id: string): Scenario<null, { s: number[]; G: number }> {
  const spec: ScenarioSpec = {
    id: `${id}-v1`,
    summary: 'planted: two bodies pulling each other',
    views: { state: { shape: [2, 4], kind: 'real' } },
    action: { shape: [2], kind: 'real', range: [-1, 1] },
    episodeLength: 32,
    historySteps: 4,
    horizon: 16,
    observationNoise: { state: 0.01 },
    tags: ['planted'],
  };
  const deriv = (s: number[], a: readonly number[], G: number) => {
    const dx = s[0] - s[4],
      dy = s[1] - s[5],
      r2 = dx * dx + dy * dy + 0.04,
      f = G / (r2 * Math.sqrt(r2));
    return [s[2], s[3], -f * dx + a[0], -f * dy + a[1], s[6], s[7], f * dx, f * dy];
  };
  return {
    spec,
    sampleWorld: () => null,
    reset(_w, rng: Rng, split) {
      const G = split === 'ood' ? rng.uniform(1, 1.5) : rng.uniform(0.3, 0.8);
      const speed = () => rng.uniform(-0.3, 0.3);
      return {
        s: [
          rng.uniform(-1, 0),
          rng.uniform(-0.5, 0.5),
          speed(),
          speed(),
          rng.uniform(0, 1),
          rng.uniform(-0.5, 0.5),
          speed(),
          speed(),
        ],
        G,
      };
    },
    step(_w, state, action) {
      const a = action ? Array.from(action) : [0, 0];
      return { s: integrate(state.s, (s) => deriv(s, a, state.G)), G: state.G };
    },
    render: (_w, state) => ({ state: Float32Array.from(state.s) }),
    behavior: (_w, _s, rng) => Float32Array.of(rng.uniform(-1, 1), rng.uniform(-1, 1)),
    explore: (_w, _s, rng) => Float32Array.of(rng.uniform(-1, 1), rng.uniform(-1, 1)),
  };
}
