import {
  block,
  checkScenario,
  createRng,
  hypothesisSpaceProblems,
  simulateEpisodes,
  type LawFamily,
  type Transition,
} from '@worldbench/core';
import { describe, expect, it } from 'vitest';
import scenario, {
  DT,
  EXPERT_PUSH_PROBABILITY,
  FRAME_SIZE,
  LAWS,
  OOD_INITIAL_SPEED,
  PARTICLE_RADIUS,
  SOFTENING,
  TRUE_LAW_IDS,
  energy,
  episodeParameters,
  makeState,
  renderFrame,
  type LawsState,
  type LawsWorld,
  type TrueLawId,
} from '../src/index';

const T = scenario.spec.episodeLength; // 32
const zero = new Float32Array([0, 0]);
const families = scenario.hypotheses.candidates as LawFamily[];
const familyOf = (id: string) => families.find((f) => f.id === id)!;

/** The particle after each of `steps` transitions under a constant action (index 0 is the start). */
function trajectory(world: LawsWorld, state: LawsState, steps: number, action: Float32Array = zero): Float32Array[] {
  const out = [state.particle];
  let s = state;
  for (let t = 0; t < steps; t++) {
    s = scenario.step(world, s, action, createRng('unused'));
    out.push(s.particle);
  }
  return out;
}

/** Largest absolute difference between two [4] vectors. */
const gap = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Math.max(...Array.from({ length: 4 }, (_, i) => Math.abs(a[i] - b[i])));

/** Clean transitions of `count` explore episodes of `world` with their true parameters. */
function transitions(world: LawsWorld, count: number, seed: string): { t: Transition; params: readonly number[] }[] {
  const out: { t: Transition; params: readonly number[] }[] = [];
  for (let e = 0; e < count; e++) {
    const rng = createRng(`${seed}/${e}`);
    let s = scenario.reset(world, rng, e % 3 === 2 ? 'ood' : 'train');
    for (let k = 0; k < T; k++) {
      const action = scenario.explore(world, s, rng)!;
      const next = scenario.step(world, s, action, rng);
      out.push({
        t: { current: scenario.render(world, s).state, next: scenario.render(world, next).state, action, context: {} },
        params: episodeParameters(world, s),
      });
      s = next;
    }
  }
  return out;
}

describe('hidden-laws-v1', () => {
  it('passes the public scenario conformance suite (two seeds, and a world of every law)', () => {
    expect(() => checkScenario(scenario)).not.toThrow();
    expect(() => checkScenario(scenario, { seed: 7, episodes: 5 })).not.toThrow();
    for (const law of TRUE_LAW_IDS)
      expect(() => checkScenario({ ...scenario, sampleWorld: () => ({ law }) })).not.toThrow();
  });

  it('matches the analytic solutions of free flight, uniform gravity, and the undamped spring over an episode', () => {
    // free flight: x = x0 + v0 t + F t^2 / 2 (Verlet is exact for a constant acceleration; only the float32
    // rounding of the state after each step remains): within 1e-5 over 32 steps
    const F = new Float32Array([0.5, -0.25]);
    const path = trajectory({ law: 'free' }, makeState([-0.3, 0.7, 0.9, -0.4]), T, F);
    for (let t = 0; t <= T; t++) {
      const s = t * DT;
      const expected = [-0.3 + 0.9 * s + 0.25 * s * s, 0.7 - 0.4 * s - 0.125 * s * s, 0.9 + 0.5 * s, -0.4 - 0.25 * s];
      expect(gap(path[t], expected)).toBeLessThan(1e-5);
    }
    expect(path[T][0]).toBeCloseTo(-0.3 + 0.9 * 3.2 + 0.25 * 3.2 ** 2, 5); // 5.14: off the frame, not clipped

    // gravity, no force: y = y0 + vy0 t - g t^2 / 2: within 1e-5
    const g = 0.6;
    const fall = trajectory({ law: 'gravity' }, makeState([0.2, 0.5, -0.3, 0.8], { gravity: [g] }), T);
    for (let t = 0; t <= T; t++) {
      const s = t * DT;
      expect(gap(fall[t], [0.2 - 0.3 * s, 0.5 + 0.8 * s - 0.5 * g * s * s, -0.3, 0.8 - g * s])).toBeLessThan(1e-5);
    }

    // undamped spring: x(t) = x0 cos(wt) + (v0 / w) sin(wt), w = sqrt(k). Verlet's phase lags by
    // t w (w h)^2 / 24, so the error grows as k^1.5: within 1e-4 at k = 1, 5e-4 at k = 4 (the top of the train
    // range), 2e-3 at k = 8 (the top of the ood range); measured 1.7e-5, 2.6e-4, 1.0e-3
    for (const [k, tolerance] of [
      [1, 1e-4],
      [4, 5e-4],
      [8, 2e-3],
    ]) {
      const w = Math.sqrt(k);
      const [x0, y0, vx0, vy0] = [1.2, -0.5, 0.3, 1.0];
      const osc = trajectory({ law: 'spring' }, makeState([x0, y0, vx0, vy0], { spring: [k] }), T);
      let worst = 0;
      for (let t = 0; t <= T; t++) {
        const s = t * DT,
          c = Math.cos(w * s),
          n = Math.sin(w * s);
        worst = Math.max(
          worst,
          gap(osc[t], [x0 * c + (vx0 / w) * n, y0 * c + (vy0 / w) * n, -x0 * w * n + vx0 * c, -y0 * w * n + vy0 * c]),
        );
      }
      expect(worst).toBeLessThan(tolerance);
    }
  });

  it(
    'matches the analytic damped spring, quadratic drag and circular central orbit (the split scheme is ' +
      'second order)',
    () => {
      // underdamped spring: x = e^(-ct/2) (x0 cos(wd t) + (v0 + c x0 / 2) / wd sin(wd t)), wd = sqrt(k - c^2 / 4)
      for (const [k, c] of [
        [1, 1],
        [4, 0.2],
        [6, 2],
      ]) {
        const wd = Math.sqrt(k - (c * c) / 4);
        const [x0, vx0] = [1.1, -0.6];
        const path = trajectory({ law: 'damped-spring' }, makeState([x0, 0, vx0, 0], { 'damped-spring': [k, c] }), T);
        for (let t = 0; t <= T; t++) {
          const s = t * DT;
          const x = Math.exp((-c * s) / 2) * (x0 * Math.cos(wd * s) + ((vx0 + (c * x0) / 2) / wd) * Math.sin(wd * s));
          expect(Math.abs(path[t][0] - x)).toBeLessThan(3e-4); // measured 2e-5, 9e-5, 1.1e-4
          expect(path[t][1]).toBe(0);
        }
      }
      // quadratic drag, no force: |v| = s0 / (1 + c s0 t), distance ln(1 + c s0 t) / c along the start direction
      const c = 1.5,
        v0 = [0.6, -0.8]; // s0 = 1
      const drag = trajectory({ law: 'drag' }, makeState([-1, 1, v0[0], v0[1]], { drag: [c] }), T);
      for (let t = 0; t <= T; t++) {
        const s = t * DT,
          speed = 1 / (1 + c * s),
          dist = Math.log(1 + c * s) / c;
        // measured 4.8e-6
        expect(gap(drag[t], [-1 + v0[0] * dist, 1 + v0[1] * dist, v0[0] * speed, v0[1] * speed])).toBeLessThan(3e-5);
      }
      // central: a circular orbit of radius R at speed sqrt(mu R^2 / (R^2 + eps^2)^(3/2)) keeps its radius, and
      // turns at w = speed / R
      const mu = 1.5,
        R = 1;
      const w = Math.sqrt(mu / (R * R + SOFTENING * SOFTENING) ** 1.5);
      const orbit = trajectory({ law: 'central' }, makeState([R, 0, 0, w * R], { central: [mu] }), T);
      for (let t = 0; t <= T; t++) {
        const s = t * DT;
        expect(
          gap(orbit[t], [R * Math.cos(w * s), R * Math.sin(w * s), -w * R * Math.sin(w * s), w * R * Math.cos(w * s)]),
        ).toBeLessThan(5e-4); // measured 1.8e-4
      }
    },
  );

  it('keeps the energy of the conservative laws: drift over an episode < 1% of its peak kinetic energy', () => {
    const bound = 0.01; // README states it
    const worst: Record<string, number> = {};
    for (const id of ['free', 'gravity', 'spring', 'pendulum', 'central'] as TrueLawId[]) {
      const law = LAWS[id],
        world: LawsWorld = { law: id };
      worst[id] = 0;
      for (let e = 0; e < 100; e++) {
        const rng = createRng(`energy/${id}/${e}`);
        const start = scenario.reset(world, rng, e % 2 ? 'ood' : 'train');
        const p = episodeParameters(world, start);
        const E0 = energy(law, p, start.particle);
        let peakKinetic = 0,
          drift = 0;
        for (const s of trajectory(world, start, T)) {
          peakKinetic = Math.max(peakKinetic, 0.5 * (s[2] ** 2 + s[3] ** 2));
          drift = Math.max(drift, Math.abs(energy(law, p, s) - E0));
        }
        worst[id] = Math.max(worst[id], drift / peakKinetic);
      }
      expect(worst[id]).toBeLessThan(bound);
    }
    // what the integrator achieves (README): free flight and gravity to float rounding, the restoring laws
    // ~2e-4, central (orbits through the softened core) ~4e-3
    expect(worst.free).toBe(0);
    expect(worst.gravity).toBeLessThan(1e-5);
    expect(Math.max(worst.spring, worst.pendulum)).toBeLessThan(1e-3);
    expect(worst.central).toBeLessThan(6e-3);
    // and the damped laws really dissipate: drag slows the particle, the damped spring loses energy
    const slowed = scenario.reset({ law: 'drag' }, createRng('dissipate/drag'), 'train');
    const dragEnd = trajectory({ law: 'drag' }, slowed, T)[T];
    expect(Math.hypot(dragEnd[2], dragEnd[3])).toBeLessThan(Math.hypot(slowed.particle[2], slowed.particle[3]));
    const damped = scenario.reset({ law: 'damped-spring' }, createRng('dissipate/damped'), 'train');
    const [k] = episodeParameters({ law: 'damped-spring' }, damped);
    const springEnergy = (s: ArrayLike<number>) => 0.5 * (s[2] ** 2 + s[3] ** 2) + 0.5 * k * (s[0] ** 2 + s[1] ** 2);
    expect(springEnergy(trajectory({ law: 'damped-spring' }, damped, T)[T])).toBeLessThan(
      springEnergy(damped.particle),
    );
  });

  it('draws train/test parameters inside the train ranges and ood ones outside them, for every law', () => {
    for (const id of TRUE_LAW_IDS) {
      const law = LAWS[id],
        world: LawsWorld = { law: id };
      for (let k = 0; k < 200; k++) {
        for (const split of ['train', 'test'] as const) {
          const s = scenario.reset(world, createRng(`split/${id}/${split}/${k}`), split);
          law.parameters.forEach((p, i) => {
            expect(episodeParameters(world, s)[i]).toBeGreaterThanOrEqual(p.train[0]);
            expect(episodeParameters(world, s)[i]).toBeLessThanOrEqual(p.train[1]);
          });
          for (const v of s.particle) expect(Math.abs(v)).toBeLessThanOrEqual(1);
        }
        const ood = scenario.reset(world, createRng(`split/${id}/ood/${k}`), 'ood');
        law.parameters.forEach((p, i) => {
          const value = episodeParameters(world, ood)[i];
          expect(value < p.train[0] || value > p.train[1]).toBe(true);
          expect(value).toBeGreaterThanOrEqual(p.ood![0]);
          expect(value).toBeLessThanOrEqual(p.ood![1]);
        });
        // ood starts faster than any train start, so even free flight has an ood split
        for (const v of ood.particle.subarray(2)) {
          expect(Math.abs(v)).toBeGreaterThanOrEqual(OOD_INITIAL_SPEED[0] - 1e-6);
          expect(Math.abs(v)).toBeLessThanOrEqual(OOD_INITIAL_SPEED[1] + 1e-6);
        }
      }
    }
  });

  it('shift changes the law to each of the other 6, never the same one', () => {
    for (const law of TRUE_LAW_IDS) {
      const seen = new Set<string>();
      for (let k = 0; k < 120; k++) {
        const shifted = scenario.shift!({ law }, createRng(`shift/${law}/${k}`));
        expect(shifted.law).not.toBe(law);
        seen.add(shifted.law);
      }
      expect([...seen].sort()).toEqual(TRUE_LAW_IDS.filter((id) => id !== law).sort());
    }
    // sampleWorld draws every law
    expect(new Set(Array.from({ length: 200 }, (_, k) => scenario.sampleWorld(createRng(`world/${k}`)).law)).size).toBe(
      7,
    );
  });

  it('has a narrow expert (idle 75% of steps, else the push (+1, 0)) and a broad explorer', () => {
    const world: LawsWorld = { law: 'spring' };
    const rng = createRng('policies');
    const s = scenario.reset(world, rng, 'train');
    let pushes = 0;
    const n = 4000;
    for (let t = 0; t < n; t++) {
      const a = Array.from(scenario.behavior(world, s, rng)!);
      expect(a[0] === 1 || a[0] === 0).toBe(true);
      expect(a[1]).toBe(0);
      pushes += a[0];
    }
    expect(Math.abs(pushes / n - EXPERT_PUSH_PROBABILITY)).toBeLessThan(0.03); // binomial sd ~0.007
    const xs = [],
      ys = [];
    for (let t = 0; t < 2000; t++) {
      const [x, y] = scenario.explore(world, s, rng)!;
      xs.push(x);
      ys.push(y);
    }
    for (const v of [xs, ys]) {
      expect(Math.min(...v)).toBeLessThan(-0.99);
      expect(Math.max(...v)).toBeGreaterThan(0.99);
      expect(Math.abs(v.reduce((a, b) => a + b, 0) / v.length)).toBeLessThan(0.05); // mean 0, sd of mean 0.013
    }
  });

  it('renders a disc of the right mass at the right place, clipped at the frame edge', () => {
    const [x, y] = [0.4137, -0.6281];
    const frame = renderFrame([x, y, 0, 0]);
    let mass = 0,
      cx = 0,
      cy = 0;
    for (let i = 0; i < FRAME_SIZE; i++)
      for (let j = 0; j < FRAME_SIZE; j++) {
        const v = frame[i * FRAME_SIZE + j];
        mass += v;
        cx += v * (-2 + (j + 0.5) / 8);
        cy += v * (2 - (i + 0.5) / 8);
      }
    const disc = Math.PI * (PARTICLE_RADIUS * 8) ** 2; // 12.57 px
    expect(Math.abs(mass - disc) / disc).toBeLessThan(0.05);
    expect(Math.abs(cx / mass - x)).toBeLessThan(0.5 / 8);
    expect(Math.abs(cy / mass - y)).toBeLessThan(0.5 / 8);
    // row 0 is the top: a particle at y = 1.9 lights row 0 or 1, not row 31
    const top = renderFrame([0, 1.9, 0, 0]);
    expect(Math.max(...top.subarray(0, 2 * FRAME_SIZE))).toBe(1);
    expect(Math.max(...top.subarray(30 * FRAME_SIZE))).toBe(0);
    // on the right edge about half the disc shows; wholly outside, nothing
    const edge = renderFrame([2, 0, 0, 0]).reduce((a, b) => a + b, 0);
    expect(Math.abs(edge - disc / 2) / disc).toBeLessThan(0.1);
    expect(Math.max(...renderFrame([5.3, -7, 0, 0]))).toBe(0);
    // and the state is not clipped: the view shows the particle wherever it is
    expect(Array.from(scenario.render({ law: 'free' }, makeState([5.3, -7, 1, 1])).state)).toEqual(
      [5.3, -7, 1, 1].map(Math.fround),
    );
  });

  describe('hypotheses', () => {
    it('is a well-formed space of 10 families on the state view whose truth is the world law', () => {
      expect(scenario.hypotheses.view).toBe('state');
      expect(families.map((f) => f.id)).toEqual([
        'free',
        'gravity',
        'spring',
        'damped-spring',
        'pendulum',
        'drag',
        'central',
        'linear-drag',
        'anisotropic-spring',
        'uniform-field',
      ]);
      for (const law of TRUE_LAW_IDS) {
        expect(hypothesisSpaceProblems(scenario.hypotheses, { law })).toEqual([]);
        expect(scenario.hypotheses.truth({ law })).toEqual({ id: law });
        const f = familyOf(law);
        expect(f.parameters.map((p) => [p.name, p.range, p.perEpisode])).toEqual(
          LAWS[law].parameters.map((p) => [p.name, p.train, true]),
        );
      }
      expect(familyOf('pendulum').parameters.map((p) => p.name)).toEqual(['w2', 'L']);
      expect(familyOf('spring').nestedIn).toEqual(['damped-spring', 'anisotropic-spring']);
      expect(familyOf('gravity').nestedIn).toEqual(['uniform-field']);
    });

    it(
      'the true family with the episode parameters reproduces every clean transition exactly; wrong ' + 'ones do not',
      () => {
        for (const law of TRUE_LAW_IDS) {
          const data = transitions({ law }, 6, `truth/${law}`); // 4 train + 2 ood episodes, explore forces
          for (const { t, params } of data)
            expect(Array.from(familyOf(law).predict(params, t))).toEqual(Array.from(t.next!));
          // every other true-law family, at the centre of its prior, misses some transition by > 1e-3
          for (const other of TRUE_LAW_IDS.filter((id) => id !== law)) {
            const centre = familyOf(other).parameters.map((p) => (p.range[0] + p.range[1]) / 2);
            const miss = Math.max(...data.map(({ t }) => gap(familyOf(other).predict(centre, t), t.next!)));
            expect(miss, `${other} on a ${law} world`).toBeGreaterThan(1e-3);
          }
        }
        // the right family with parameters 10% off is wrong too
        const data = transitions({ law: 'pendulum' }, 2, 'truth/off');
        const miss = Math.max(
          ...data.map(({ t, params }) => gap(familyOf('pendulum').predict([params[0] * 1.1, params[1]], t), t.next!)),
        );
        expect(miss).toBeGreaterThan(1e-3);
      },
    );

    it('nested families reproduce their special cases bit for bit', () => {
      const check = (law: TrueLawId, outer: string, embed: (p: readonly number[]) => number[]) => {
        for (const { t, params } of transitions({ law }, 3, `nested/${law}/${outer}`))
          expect(Array.from(familyOf(outer).predict(embed(params), t))).toEqual(Array.from(t.next!));
      };
      check('spring', 'damped-spring', ([k]) => [k, 0]);
      check('spring', 'anisotropic-spring', ([k]) => [k, k]);
      check('gravity', 'uniform-field', ([g]) => [0, -g]);
      // free flight: every parameter 0, except the pendulum's length (w2 = 0 switches it off whatever L is)
      for (const outer of familyOf('free').nestedIn!)
        check('free', outer, () => familyOf(outer).parameters.map((p) => (p.name === 'L' ? 1 : 0)));
      // linear-drag is damped-spring with k = 0
      for (const { t } of transitions({ law: 'free' }, 1, 'nested/linear-drag'))
        expect(Array.from(familyOf('linear-drag').predict([0.7], t))).toEqual(
          Array.from(familyOf('damped-spring').predict([0, 0.7], t)),
        );
    });

    it(
      'gives `linear` exactly where the one-step map is affine in the parameters (free, gravity, ' + 'uniform-field)',
      () => {
        expect(families.filter((f) => f.linear).map((f) => f.id)).toEqual(['free', 'gravity', 'uniform-field']);
        for (const id of ['gravity', 'uniform-field']) {
          const f = familyOf(id);
          for (const { t } of transitions({ law: 'gravity' }, 2, `linear/${id}`)) {
            const params = f.parameters.map((p, i) => p.range[0] + 0.37 * (i + 1) * (p.range[1] - p.range[0]));
            const base = f.linear!.base(t),
              basis = f.linear!.basis(t);
            const affine = Array.from(base, (b, d) => b + basis.reduce((acc, v, i) => acc + params[i] * v[d], 0));
            expect(gap(affine, f.predict(params, t))).toBeLessThan(1e-6); // float32 rounding of predict
          }
        }
        // a spring's one-step map is not affine in k: doubling k does not double its effect
        const t: Transition = { current: new Float32Array([1, 0, 0, 0]), action: null, context: {} };
        const spring = familyOf('spring');
        const d1 = spring.predict([2], t)[2] - spring.predict([0], t)[2],
          d2 = spring.predict([4], t)[2] - spring.predict([0], t)[2];
        expect(Math.abs(d2 - 2 * d1)).toBeGreaterThan(1e-3);
      },
    );

    it('pendulum is nearly a spring of k = w2 at small amplitude, and not at large', () => {
      const pendulum = familyOf('pendulum'),
        spring = familyOf('spring');
      const at = (x: number): Transition => ({
        current: new Float32Array([x, -x, 0.1, 0.05]),
        action: null,
        context: {},
      });
      expect(gap(pendulum.predict([3, 2], at(0.02)), spring.predict([3], at(0.02)))).toBeLessThan(1e-6);
      expect(gap(pendulum.predict([3, 2], at(1.5)), spring.predict([3], at(1.5)))).toBeGreaterThan(1e-2);
    });
  });

  it('shows the state view exactly as the state, frame and state agreeing on the particle', () => {
    const ep = simulateEpisodes(
      scenario,
      { law: 'spring' },
      { count: 1, split: 'train', policy: 'behavior', rng: createRng('views') },
    );
    for (let t = 0; t <= T; t += 8) {
      const [x, y] = block(ep.views.state, 0, t);
      const frame = block(ep.views.frame, 0, t);
      if (Math.max(Math.abs(x), Math.abs(y)) >= 2) continue;
      const j = Math.floor((x + 2) * 8),
        i = Math.floor((2 - y) * 8);
      expect(frame[i * FRAME_SIZE + j]).toBe(1); // the pixel under the centre is fully lit
    }
  });
});
