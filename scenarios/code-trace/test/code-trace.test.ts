import { block, checkScenario, createRng, simulateEpisodes, type Episodes, type Transition } from '@worldbench/core';
import { describe, expect, it } from 'vitest';
import scenario, {
  MODULI,
  MODULUS_FACTOR,
  OPCODES,
  PAD,
  PRIMITIVES,
  encodeProgram,
  makeState,
  programLength,
  saturateSpace,
  trueAssignment,
  wrapSpace,
  type Instruction,
  type PrimitiveName,
  type TraceState,
  type TraceWorld,
} from '../src/index';

const T = scenario.spec.episodeLength;
const op = (name: PrimitiveName, a = 0, b = 0): Instruction => ({ op: PRIMITIVES.indexOf(name), a, b });
const identity = (modulus: number): TraceWorld => ({ dialect: PRIMITIVES.map((_, i) => i), modulus });

/** [pc, r0..r3] for `steps` transitions from `state`. */
function trace(world: TraceWorld, state: TraceState, steps: number): number[][] {
  const out = [Array.from(state.machine)];
  for (let t = 0; t < steps; t++) {
    state = scenario.step(world, state, null, createRng('unused'));
    out.push(Array.from(state.machine));
  }
  return out;
}

function transition(ep: Episodes, e: number, t: number): Transition {
  return {
    current: block(ep.views.state, e, t),
    next: block(ep.views.state, e, t + 1),
    action: null,
    context: { program: block(ep.context.program, e) },
  };
}

describe('code-trace-v1', () => {
  it('passes the public scenario conformance suite', () => {
    expect(() => checkScenario(scenario)).not.toThrow();
    expect(() => checkScenario(scenario, { seed: 7, episodes: 5 })).not.toThrow();
  });

  it('runs a DJNZ countdown loop: SET r0, 3; ADD r1, r2; DJNZ r0, 1; HALT (M = 16)', () => {
    const program = [op('SET', 0, 3), op('ADD', 1, 2), op('DJNZ', 0, 1), op('HALT')];
    // by hand: the body runs 3 times, r1 = 0 + 3 * 2; then HALT keeps pc at 3 and the state constant
    expect(trace(identity(16), makeState(identity(16), program, [9, 0, 2, 5]), 10)).toEqual([
      [0, 9, 0, 2, 5],
      [1, 3, 0, 2, 5],
      [2, 3, 2, 2, 5],
      [1, 2, 2, 2, 5],
      [2, 2, 4, 2, 5],
      [1, 1, 4, 2, 5],
      [2, 1, 6, 2, 5],
      [3, 0, 6, 2, 5],
      [3, 0, 6, 2, 5],
      [3, 0, 6, 2, 5],
      [3, 0, 6, 2, 5],
    ]);
  });

  it('multiplies, subtracts and sets mod M, then runs off the end (pc = length) and stays (M = 10)', () => {
    const program = [
      op('SET', 0, 7),
      op('SET', 1, 6),
      op('MUL', 0, 1),
      op('SUB', 2, 0),
      op('SET', 3, 13),
      op('MOV', 1, 2),
    ];
    // 7 * 6 = 42 = 2 mod 10; 0 - 2 = 8 mod 10; 13 = 3 mod 10; r1 <- r2
    expect(trace(identity(10), makeState(identity(10), program, [1, 1, 0, 9]), 8)).toEqual([
      [0, 1, 1, 0, 9],
      [1, 7, 1, 0, 9],
      [2, 7, 6, 0, 9],
      [3, 2, 6, 0, 9],
      [4, 2, 6, 8, 9],
      [5, 2, 6, 8, 3],
      [6, 2, 8, 8, 3],
      [6, 2, 8, 8, 3],
      [6, 2, 8, 8, 3],
    ]);
    // the same program under M = 13: 42 = 3, 0 - 3 = 10, 13 = 0
    expect(trace(identity(13), makeState(identity(13), program, [1, 1, 0, 9]), 6)[6]).toEqual([6, 3, 10, 10, 0]);
  });

  it('takes a JZ branch both ways', () => {
    // 0: JZ r0, 3; 1: SET r1, 5; 2: HALT; 3: SET r1, 9; 4: HALT
    const program = [op('JZ', 0, 3), op('SET', 1, 5), op('HALT'), op('SET', 1, 9), op('HALT')];
    const world = identity(12);
    expect(trace(world, makeState(world, program, [0, 1, 2, 3]), 4)).toEqual([
      [0, 0, 1, 2, 3],
      [3, 0, 1, 2, 3],
      [4, 0, 9, 2, 3],
      [4, 0, 9, 2, 3],
      [4, 0, 9, 2, 3],
    ]);
    expect(trace(world, makeState(world, program, [4, 1, 2, 3]), 4)).toEqual([
      [0, 4, 1, 2, 3],
      [1, 4, 1, 2, 3],
      [2, 4, 5, 2, 3],
      [2, 4, 5, 2, 3],
      [2, 4, 5, 2, 3],
    ]);
  });

  it('DJNZ from 0 wraps to M - 1 and counts down to 0 (M = 8)', () => {
    const world = identity(8);
    const states = trace(world, makeState(world, [op('DJNZ', 0, 0)], [0, 0, 0, 0]), 9);
    expect(states.map((s) => s[1])).toEqual([0, 7, 6, 5, 4, 3, 2, 1, 0, 0]);
    expect(states.map((s) => s[0])).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]); // falls through to pc 1 = length: halted
  });

  it('reads tokens in the world dialect: the same tokens mean other primitives in another dialect', () => {
    const program = [op('SET', 0, 5), op('SET', 1, 3), op('SUB', 0, 1), op('HALT')];
    const plain = identity(16);
    const swapped: TraceWorld = { dialect: [0, 2, 1, 3, 4, 5, 6, 7], modulus: 16 }; // token 1 = SUB, token 2 = ADD
    // encoded in its own dialect, a program runs the same in every dialect ...
    expect(trace(swapped, makeState(swapped, program, [0, 0, 0, 0]), 4)[4]).toEqual([3, 2, 3, 0, 0]);
    // SUB is token 1 in `swapped`
    expect(Array.from(encodeProgram(swapped, program).subarray(6, 9))).toEqual([1, 0, 1]);
    // ... but the tokens written for `plain` (token 2 = SUB) compute 5 + 3 when read in `swapped`
    const state = makeState(plain, program, [0, 0, 0, 0]);
    expect(trace(swapped, state, 4)[4]).toEqual([3, 8, 3, 0, 0]);
    // a program read in a wrong dialect can put an immediate where a register is expected: it faults and stays
    const set = makeState(plain, [op('SET', 0, 9), op('HALT')], [0, 0, 0, 0]); // token 0 = SET in `plain`
    const asAdd: TraceWorld = { dialect: [1, 0, 2, 3, 4, 5, 6, 7], modulus: 16 }; // token 0 = ADD r0, r9
    expect(trace(asAdd, set, 2)).toEqual([
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
    ]);
    expect(trace(plain, set, 2)).toEqual([
      [0, 0, 0, 0, 0],
      [1, 9, 0, 0, 0],
      [1, 9, 0, 0, 0],
    ]);
  });

  it('step leaves its machine and program untouched', () => {
    const world = scenario.sampleWorld(createRng('det/world'));
    const state = scenario.reset(world, createRng('det/reset'), 'train');
    const before = [Array.from(state.machine), Array.from(state.program)];
    const next = scenario.step(world, state, null, createRng('unused'));
    expect(next).not.toBe(state);
    expect(next.machine).not.toBe(state.machine);
    expect([Array.from(state.machine), Array.from(state.program)]).toEqual(before);
  });

  it('has no actions: both policies return null', () => {
    const world = scenario.sampleWorld(createRng('policies'));
    const state = scenario.reset(world, createRng('policies/reset'), 'train');
    expect(scenario.spec.action).toBeNull();
    expect(scenario.behavior(world, state, createRng('p'))).toBeNull();
    expect(scenario.explore(world, state, createRng('p'))).toBeNull();
  });

  it('random programs: well formed, 32 transitions every episode, states in range, constant once halted', () => {
    const seen = { train: new Set<number>(), ood: new Set<number>() };
    const behaviour = { djnzLoop: 0, jzTaken: 0, jzNotTaken: 0, halted: 0 };
    const problems: string[] = []; // collected, then asserted once (an expect per value is slow)
    const N = 60; // worlds per split, 5 episodes each
    for (const split of ['train', 'test', 'ood'] as const)
      for (let w = 0; w < N; w++) {
        const world = scenario.sampleWorld(createRng(`random/${split}/${w}`));
        const ep = simulateEpisodes(scenario, world, {
          count: 5,
          split,
          policy: 'explore',
          rng: createRng(`random/${split}/${w}/episodes`),
        });
        expect(ep.views.state.shape).toEqual([5, T + 1, 5]);
        for (let e = 0; e < 5; e++) {
          const where = `${split} world ${w} episode ${e}`;
          const program = block(ep.context.program, e);
          const L = programLength(program);
          seen[split === 'ood' ? 'ood' : 'train'].add(L);
          if (program.subarray(L * 3).some((x) => x !== PAD)) problems.push(`${where}: padding holds a non-pad token`);
          for (let i = 0; i < L; i++) {
            const [token, a, b] = program.subarray(i * 3, i * 3 + 3);
            const name = PRIMITIVES[world.dialect[token]];
            const ok =
              token < OPCODES &&
              a < 4 &&
              // JZ: a valid instruction, never itself; DJNZ: back to its body
              (name === 'SET' ? b < 16 : name === 'JZ' ? b !== i && b < L : name === 'DJNZ' ? b <= i : b < 4);
            if (!ok) problems.push(`${where}: row ${i} [${token}, ${a}, ${b}] (${name}) is malformed`);
          }
          let halted = false;
          const flags = { djnz: false, jzTaken: false, jzNot: false };
          for (let t = 0; t < T; t++) {
            const [s, n] = [block(ep.views.state, e, t), block(ep.views.state, e, t + 1)];
            for (const x of [s, n])
              if (x[0] > L || x.subarray(1).some((r) => r >= world.modulus))
                problems.push(`${where} step ${t}: [${x}] out of range`);
            const constant = s.every((v, i) => v === n[i]);
            if (halted && !constant) problems.push(`${where} step ${t}: moved after halting`);
            halted ||= constant;
            if (s[0] < L) {
              const name = PRIMITIVES[world.dialect[program[s[0] * 3]]];
              if (name === 'DJNZ' && n[0] !== s[0] + 1) flags.djnz = true;
              if (name === 'JZ') flags[n[0] === s[0] + 1 ? 'jzNot' : 'jzTaken'] = true;
            }
          }
          if (split === 'train') {
            behaviour.djnzLoop += +flags.djnz;
            behaviour.jzTaken += +flags.jzTaken;
            behaviour.jzNotTaken += +flags.jzNot;
            behaviour.halted += +halted;
          }
        }
      }
    expect(problems).toEqual([]);
    expect([...seen.train].sort((a, b) => a - b)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect([...seen.ood].sort((a, b) => a - b)).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
    // broad behaviour (README: loop 54%, JZ taken 21% / not taken 45%, halted within 32 steps 83%, on 2000 episodes)
    const share = (n: number) => n / (N * 5);
    expect(share(behaviour.djnzLoop)).toBeGreaterThan(0.4);
    expect(share(behaviour.jzTaken)).toBeGreaterThan(0.1);
    expect(share(behaviour.jzNotTaken)).toBeGreaterThan(0.3);
    expect(share(behaviour.halted)).toBeGreaterThan(0.7);
    expect(share(behaviour.halted)).toBeLessThan(0.95);
  });

  it('shift draws a different dialect (a permutation) and a modulus from the set', () => {
    let modulusChanged = 0;
    for (let k = 0; k < 300; k++) {
      const world = scenario.sampleWorld(createRng(`shift/${k}`));
      const shifted = scenario.shift!(world, createRng(`shift/${k}/new`));
      expect([...shifted.dialect].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(shifted.dialect).not.toEqual(world.dialect);
      expect(MODULI).toContain(shifted.modulus);
      modulusChanged += +(shifted.modulus !== world.modulus);
    }
    expect(Math.abs(modulusChanged / 300 - 8 / 9)).toBeLessThan(0.06); // binomial sd ~0.018
    // a shift mid-episode keeps the state in range: registers are reduced into the new 0..M-1
    const world: TraceWorld = { dialect: PRIMITIVES.map((_, i) => i), modulus: 16 };
    const state = makeState(world, [op('ADD', 0, 1), op('HALT')], [15, 14, 3, 9]);
    expect(Array.from(scenario.step({ ...world, modulus: 8 }, state, null, createRng('unused')).machine)).toEqual([
      1, 5, 6, 3, 1,
    ]); // 29 = 5 mod 8
  });

  it(
    'hypotheses: the true assignment predicts every clean transition exactly (train and ood); wrong ' + 'ones do not',
    () => {
      let swappedWrong = 0,
        saturateWrong = 0,
        transitions = 0;
      for (let w = 0; w < 20; w++) {
        const world = scenario.sampleWorld(createRng(`hyp/${w}`));
        const truth = scenario.hypotheses!.truth(world);
        expect(truth).toEqual({ id: wrapSpace.id, assignment: trueAssignment(world) });
        // SET and ADD swapped: a wrong dialect
        const set = world.dialect.indexOf(0),
          add = world.dialect.indexOf(1);
        const swapped = [...truth.assignment!];
        [swapped[set], swapped[add]] = [swapped[add], swapped[set]];
        for (const split of ['train', 'ood'] as const) {
          const ep = simulateEpisodes(scenario, world, {
            count: 4,
            split,
            policy: 'explore',
            rng: createRng(`hyp/${w}/${split}`),
          });
          for (let e = 0; e < 4; e++)
            for (let t = 0; t < T; t++) {
              const tr = transition(ep, e, t);
              expect(Array.from(wrapSpace.predict(truth.assignment!, tr))).toEqual(Array.from(tr.next!));
              const differs = (p: Float32Array) => p.some((x, i) => x !== tr.next![i]);
              swappedWrong += +differs(wrapSpace.predict(swapped, tr));
              saturateWrong += +differs(saturateSpace.predict(truth.assignment!, tr));
              transitions++;
            }
        }
      }
      expect(swappedWrong / transitions).toBeGreaterThan(0.02);
      expect(saturateWrong / transitions).toBeGreaterThan(0.005); // the laws differ only on a wrap
    },
  );

  it('evidence never excludes the truth and pins down ~97% of tokens and the modulus after 256 transitions', () => {
    const W = 40;
    let identified = 0,
      modulusIdentified = 0,
      saturateRefuted = 0;
    for (let w = 0; w < W; w++) {
      const world = scenario.sampleWorld(createRng(`evidence/${w}`));
      const truth = trueAssignment(world);
      const ep = simulateEpisodes(scenario, world, {
        count: 256 / T,
        split: 'train',
        policy: 'behavior',
        rng: createRng(`evidence/${w}/train`),
      });
      const left = wrapSpace.factors.map((f) => new Set(f.options.keys()));
      const saturateLeft = saturateSpace.factors.map((f) => new Set(f.options.keys()));
      for (let e = 0; e < 256 / T; e++)
        for (let t = 0; t < T; t++) {
          const tr = transition(ep, e, t);
          for (const [space, sets] of [
            [wrapSpace, left],
            [saturateSpace, saturateLeft],
          ] as const)
            for (const { factor, consistent } of space.evidence(tr))
              for (const o of [...sets[factor]]) if (!consistent.includes(o)) sets[factor].delete(o);
        }
      left.forEach((set, factor) => expect(set.has(truth[factor])).toBe(true));
      for (let token = 0; token < OPCODES; token++) identified += +(left[token].size === 1);
      modulusIdentified += +(left[MODULUS_FACTOR].size === 1);
      saturateRefuted += +saturateLeft.some((set) => set.size === 0);
    }
    // README: 97.1% of tokens and 100% of moduli on 200 worlds (seeds 0-199)
    expect(identified / (W * OPCODES)).toBeGreaterThan(0.9);
    expect(modulusIdentified / W).toBeGreaterThan(0.9);
    expect(saturateRefuted / W).toBeGreaterThan(0.5);
  });
});
