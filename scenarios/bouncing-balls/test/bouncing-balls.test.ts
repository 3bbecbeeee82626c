import { block, checkScenario, createRng, simulateEpisodes } from '@worldbench/core';
import { describe, expect, it } from 'vitest';
import scenario, {
  EXPERT_ACT_PROBABILITY,
  OOD_GRAVITY_FACTOR,
  SHIFT_MIN_GRAVITY_CHANGE,
  TRAIN_GRAVITY_FACTOR,
  advance,
  makeState,
  totalEnergy,
  type BallsWorld,
} from '../src/index';
import { RADIUS } from '../src/physics';
import { FRAME_SIZE, renderFrame } from '../src/render';

const world: BallsWorld = scenario.sampleWorld(createRng('test/world'));
const noAction = new Float32Array([0, 0]);

describe('bouncing-balls-v1', () => {
  it('passes the public scenario conformance suite', () => {
    expect(() => checkScenario(scenario)).not.toThrow();
    expect(() => checkScenario(scenario, { seed: 7, episodes: 5 })).not.toThrow();
  });

  it('gains no energy without actions: max energy over 200 steps stays within 1% of the initial energy', () => {
    const tolerance = 0.01; // of the initial energy; README states it
    let worstRise = -Infinity;
    for (let seed = 0; seed < 40; seed++) {
      const rng = createRng(`energy/${seed}`);
      const w = scenario.sampleWorld(rng);
      let state = scenario.reset(w, rng.fork('episode'), seed % 4 === 0 ? 'ood' : 'train');
      const initial = totalEnergy(state);
      for (let t = 0; t < 200; t++) {
        state = advance(state, noAction);
        worstRise = Math.max(worstRise, (totalEnergy(state) - initial) / initial);
      }
      // and it really dissipates: restitution <= 1 and ~100 s of bouncing
      expect(totalEnergy(state)).toBeLessThan(initial);
    }
    expect(worstRise).toBeLessThanOrEqual(tolerance);
    // what the current bounce rule achieves (README): no rise beyond float rounding
    expect(worstRise).toBeLessThan(1e-12);
  });

  it('renders a disc of the right mass at the right place (row 0 is the top of the box)', () => {
    const [x, y] = [0.4137, 0.6281]; // away from walls and pixel centres
    const frame = renderFrame(makeState(3, 0.9, [[x, y, 0, 0]]));
    let mass = 0,
      cx = 0,
      cy = 0;
    for (let i = 0; i < FRAME_SIZE; i++)
      for (let j = 0; j < FRAME_SIZE; j++) {
        const v = frame[i * FRAME_SIZE + j];
        mass += v;
        cx += v * ((j + 0.5) / FRAME_SIZE);
        cy += v * (1 - (i + 0.5) / FRAME_SIZE);
      }
    const disc = Math.PI * (RADIUS * FRAME_SIZE) ** 2; // 15.76 px
    expect(Math.abs(mass - disc) / disc).toBeLessThan(0.05);
    const halfPixel = 0.5 / FRAME_SIZE;
    expect(Math.abs(cx / mass - x)).toBeLessThan(halfPixel);
    expect(Math.abs(cy / mass - y)).toBeLessThan(halfPixel);
    expect(Math.max(...frame)).toBe(1);
    expect(Math.min(...frame)).toBe(0);
  });

  it('bounces off a side wall with the normal speed scaled by e, and off the floor losing energy by e^2', () => {
    const e = 0.85,
      g = 4;
    // side wall: after substep 2 (h = 0.0125 s) the centre is at 0.95, 0.02 past x = 1 - r = 0.93; it is
    // reflected to 0.91 and moves at -e * 2 for the last two substeps: 0.91 - 1.7 * 0.025 = 0.8675
    const side = advance(makeState(g, e, [[0.9, 0.5, 2, 0]]), noAction);
    expect(side.balls[2]).toBeCloseTo(-e * 2, 12);
    expect(side.balls[0]).toBeCloseTo(0.91 - e * 2 * 0.025, 12);
    expect(side.balls[1]).toBeCloseTo(0.5 - 0.5 * g * 0.05 ** 2, 12); // free fall meanwhile, exact
    // floor: the normal speed at contact, sqrt(vy^2 + 2 g (y - r)) by energy, comes back times e
    const dropped = makeState(g, e, [[0.5, 0.15, 0, -3]]);
    const impactSq = 9 + 2 * g * (0.15 - RADIUS);
    let s = dropped;
    while (s.balls[3] < 0) s = advance(s, noAction);
    const reboundSq = s.balls[3] ** 2 + 2 * g * (s.balls[1] - RADIUS);
    expect(Math.sqrt(reboundSq / impactSq)).toBeCloseTo(e, 9);
    // a long random-kick run never leaves the box or exceeds the speed clamp
    const rng = createRng('walls/long');
    s = scenario.reset(world, rng, 'ood');
    for (let t = 0; t < 2000; t++) {
      s = scenario.step(world, s, scenario.explore(world, s, rng), rng);
      for (let i = 0; i < s.count; i++) {
        const [px, py, vx, vy] = s.balls.subarray(i * 4, i * 4 + 4);
        for (const p of [px, py]) expect(p >= RADIUS - 1e-12 && p <= 1 - RADIUS + 1e-12).toBe(true);
        expect(Math.hypot(vx, vy)).toBeLessThanOrEqual(4 + 1e-12);
      }
    }
  });

  it('has 1-3 balls with train-range gravity in train/test, and 4 balls with gravity outside it in ood', () => {
    const g0 = world.gravityCentre;
    const counts = new Set<number>();
    for (let k = 0; k < 300; k++) {
      for (const split of ['train', 'test'] as const) {
        const s = scenario.reset(world, createRng(`split/${split}/${k}`), split);
        counts.add(s.count);
        expect(s.gravity).toBeGreaterThanOrEqual(TRAIN_GRAVITY_FACTOR[0] * g0);
        expect(s.gravity).toBeLessThanOrEqual(TRAIN_GRAVITY_FACTOR[1] * g0);
        expect(Math.abs(s.restitution - world.restitutionCentre)).toBeLessThanOrEqual(0.05);
      }
      const ood = scenario.reset(world, createRng(`split/ood/${k}`), 'ood');
      expect(ood.count).toBe(4);
      expect(ood.gravity).toBeGreaterThanOrEqual(OOD_GRAVITY_FACTOR[0] * g0);
      expect(ood.gravity).toBeLessThanOrEqual(OOD_GRAVITY_FACTOR[1] * g0);
    }
    expect([...counts].sort()).toEqual([1, 2, 3]);
    // the same through the views: the mask counts the balls, padding rows are zero
    const ep = simulateEpisodes(scenario, world, {
      count: 6,
      split: 'ood',
      policy: 'explore',
      rng: createRng('split/views'),
    });
    for (let e = 0; e < 6; e++) expect(block(ep.views.state_mask, e, 0).reduce((a, b) => a + b, 0)).toBe(4);
    const train = simulateEpisodes(scenario, world, {
      count: 20,
      split: 'train',
      policy: 'explore',
      rng: createRng('split/views'),
    });
    for (let e = 0; e < 20; e++) {
      const balls = block(train.views.state_mask, e, 0).reduce((a, b) => a + b, 0);
      expect(balls).toBeGreaterThanOrEqual(1);
      expect(balls).toBeLessThanOrEqual(3);
      expect(Array.from(block(train.views.state, e, 5).subarray(balls * 4))).toEqual(new Array(16 - balls * 4).fill(0));
    }
  });

  it('has a narrow expert (idle 75% of steps, only up-kicks and centring nudges) and a broad explorer', () => {
    const rng = createRng('policies');
    const seen = new Map<string, number>();
    const n = 4000;
    let s = scenario.reset(world, rng, 'train');
    for (let t = 0; t < n; t++) {
      const a = scenario.behavior(world, s, rng)!;
      const key = Array.from(a).join(',');
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (key === '0.5,0') expect(s.balls[0]).toBeLessThan(0.5);
      if (key === '-0.5,0') expect(s.balls[0]).toBeGreaterThanOrEqual(0.5);
      s = scenario.step(world, s, a, rng);
    }
    expect([...seen.keys()].every((k) => ['0,0', '0,1', '0.5,0', '-0.5,0'].includes(k))).toBe(true);
    const acting = 1 - (seen.get('0,0') ?? 0) / n;
    expect(Math.abs(acting - EXPERT_ACT_PROBABILITY)).toBeLessThan(0.03); // binomial sd ~0.007
    const explore = Array.from({ length: 2000 }, () => Array.from(scenario.explore(world, s, rng)!)).flat();
    expect(Math.min(...explore)).toBeLessThan(-0.95);
    expect(Math.max(...explore)).toBeGreaterThan(0.95);
  });

  it('shift moves the gravity centre by at least 1.5 within [2, 6] and keeps the restitution', () => {
    for (let k = 0; k < 200; k++) {
      const w = scenario.sampleWorld(createRng(`shift/${k}`));
      const shifted = scenario.shift!(w, createRng(`shift/${k}/new`));
      expect(Math.abs(shifted.gravityCentre - w.gravityCentre)).toBeGreaterThanOrEqual(SHIFT_MIN_GRAVITY_CHANGE);
      expect(shifted.gravityCentre).toBeGreaterThanOrEqual(2);
      expect(shifted.gravityCentre).toBeLessThan(6);
      expect(shifted.restitutionCentre).toBe(w.restitutionCentre);
    }
  });
});
