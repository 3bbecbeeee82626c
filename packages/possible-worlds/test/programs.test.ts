// Program induction on a planted machine outside code-trace's instruction set: a register swap, a conditional
// skip, an increment, an add-immediate, a reverse subtract and an unconditional jump, in a dialect of its own,
// registers mod 7. The search, told only the spec, finds each opcode's program; each is checked against the
// planted semantics on states and arguments it never saw.
import { describe, expect, it } from 'vitest';
import {
  createRng,
  evaluateModel,
  simulateEpisodes,
  type Rng,
  type Scenario,
  type ScenarioSpec,
} from '@worldbench/core';
import possibleWorlds from '../src/index';
import { discreteTransitions } from '../src/discrete-data';
import { programWorld, searchPrograms } from '../src/programs';

const M = 7,
  ROWS = 12,
  REGS = 3,
  PAD = 15;
/** The planted opcodes, by token (a dialect of its own: the token is not the semantics' index). */
const SWAP = 4,
  SKIPZ = 0,
  INC = 5,
  ADDI = 2,
  RSUB = 1,
  JMP = 3,
  HALT = 6;
const wrap = (v: number) => ((v % M) + M) % M;

/** One step of the planted machine on [p, r0, r1, r2] with program rows [token, a, b]. */
function run(program: ArrayLike<number>, x: readonly number[]): number[] {
  const [p, ...r] = x;
  if (p >= ROWS || program[p * 3] === PAD) return x.slice();
  const [op, a, b] = [program[p * 3], program[p * 3 + 1], program[p * 3 + 2]];
  const s = r.slice();
  let q = p + 1;
  if (op === SWAP) [s[a], s[b]] = [r[b], r[a]];
  else if (op === SKIPZ) q = r[a] === 0 ? p + 2 : p + 1;
  else if (op === INC) s[a] = wrap(r[a] + 1);
  else if (op === ADDI) s[a] = wrap(r[a] + b);
  else if (op === RSUB) s[a] = wrap(r[b] - r[a]);
  else if (op === JMP) q = b;
  else if (op === HALT) q = p;
  return [q, ...s];
}

/**
 * A random program of 5-10 rows: mostly data instructions (arguments a, b registers; ADDI: b an immediate 0-6),
 * a jump one time in ten (to any row), HALT only as the last row (half the programs; the others run off the end).
 */
function randomProgram(rng: Rng, tokens: readonly number[]): Float32Array {
  const length = 5 + rng.int(6);
  const program = new Float32Array(ROWS * 3).fill(PAD);
  const data = tokens.filter((op) => op !== JMP && op !== HALT);
  for (let i = 0; i < length; i++) {
    const op =
      i === length - 1 && tokens.includes(HALT) && rng.bernoulli(0.5)
        ? HALT
        : tokens.includes(JMP) && rng.bernoulli(0.1)
          ? JMP
          : rng.pick(data);
    const b = op === ADDI ? rng.int(M) : op === JMP ? rng.int(length) : rng.int(REGS);
    program.set([op, rng.int(REGS), b], i * 3);
  }
  return program;
}

interface PlantedState {
  program: Float32Array;
  x: number[];
}

function plantedMachine(tokens: readonly number[]): Scenario<null, PlantedState> {
  const spec: ScenarioSpec = {
    id: 'planted-machine-v1',
    summary: 'a register machine with a swap, a conditional skip, increments, a reverse subtract and jumps',
    views: { state: { shape: [1 + REGS], kind: 'int', vocab: 16, range: [0, 15] } },
    context: { program: { shape: [ROWS, 3], kind: 'token', vocab: 16 } },
    action: null,
    episodeLength: 16,
    historySteps: 1,
    horizon: 4,
    tags: [],
  };
  return {
    spec,
    sampleWorld: () => null,
    reset: (_w, rng) => ({
      program: randomProgram(rng, tokens),
      x: [0, ...Array.from({ length: REGS }, () => rng.int(M))],
    }),
    step: (_w, s) => ({ program: s.program, x: run(s.program, s.x) }),
    render: (_w, s) => ({ state: Float32Array.from(s.x) }),
    context: (_w, s) => ({ program: s.program }),
    behavior: () => null,
    explore: () => null,
  };
}

const ALL = [SWAP, SKIPZ, INC, ADDI, RSUB, JMP, HALT];

describe('program induction on a planted machine (dev seed 0)', () => {
  it(
    'recovers every opcode: on 2000 states and arguments of its own (not from training), each learned program ' +
      'gives the planted next state',
    () => {
      const machine = plantedMachine(ALL);
      const episodes = simulateEpisodes(machine, null, {
        count: 64,
        split: 'train',
        policy: 'explore',
        rng: createRng('0/planted'),
      });
      const search = searchPrograms(
        machine.spec,
        'state',
        discreteTransitions(machine.spec, 'state', [episodes]),
        20000,
      );
      const world = programWorld(search.fits[0]);
      const details = world.details!() as any;
      expect(details.layout).toMatchObject({ pointer: 'x0', opcodeColumn: 0, modulus: M });
      const rng = createRng('0/check');
      for (const op of ALL)
        for (let k = 0; k < 2000 / ALL.length; k++) {
          const program = new Float32Array(ROWS * 3).fill(PAD);
          const p = rng.int(8);
          const b = op === ADDI ? rng.int(M) : op === JMP ? rng.int(ROWS) : rng.int(REGS);
          program.set([op, rng.int(REGS), b], p * 3);
          const x = [p, rng.int(M), rng.int(M), rng.int(M)];
          const next = world.step(Float64Array.from(x), Float64Array.from(x), new Float64Array(0), { program });
          expect(
            Array.from(next),
            `opcode ` +
              `${op} at ` +
              `${x} with row ${Array.from(program.subarray(p * 3, p * 3 + 3))}: ${details.programs[`opcode ${op}`]}`,
          ).toEqual(run(program, x));
        }
      // the swap is two simultaneous writes; the skip is a conditional on the register the row names
      expect(details.programs[`opcode ${SWAP}`]).toMatch(
        /r\[c1\] := r\[c2\]; r\[c2\] := r\[c1\]|r\[c2\] := r\[c1\]; r\[c1\] := r\[c2\]/,
      );
      expect(details.programs[`opcode ${SKIPZ}`]).toMatch(/^p := if /);
    },
  );

  it(
    'forecasts the planted machine exactly (accStep 1 at h = 1 and h = 4, budget 1024); ood ' + 'programs too',
    async () => {
      const r = await evaluateModel(possibleWorlds, plantedMachine(ALL) as Scenario, {
        view: 'state',
        budget: 1024,
        seed: 0,
      });
      expect(r.metrics.test.accStep['1']).toBe(1);
      expect(r.metrics.test.accStep['4']).toBe(1);
      expect(r.metrics.ood.accStep['1']).toBe(1);
    },
  );

  it('an opcode never seen in training runs the most probable program over all instructions, and says so', () => {
    const trained = plantedMachine(ALL.filter((op) => op !== RSUB));
    const episodes = simulateEpisodes(trained, null, {
      count: 64,
      split: 'train',
      policy: 'explore',
      rng: createRng('0/no-rsub'),
    });
    const world = programWorld(
      searchPrograms(trained.spec, 'state', discreteTransitions(trained.spec, 'state', [episodes]), 20000).fits[0],
    );
    const details = world.details!() as any;
    expect(details.programs[`opcode ${RSUB}`]).toBeUndefined();
    const program = new Float32Array(ROWS * 3).fill(PAD);
    program.set([RSUB, 0, 1], 0);
    const x = Float64Array.of(0, 2, 5, 1);
    const next = world.step(x, x, new Float64Array(0), { program });
    expect((world.details!() as any).answered).toEqual({ learned: 0, fallback: 1 });
    // the fallback is one of the learned programs (or no change), named in explain()
    expect(details.unseenInstructions).toMatch(/the most probable over every training step/);
    expect(next.length).toBe(4);
  });
});
