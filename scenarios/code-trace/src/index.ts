// code-trace-v1: execution traces of random register-machine programs written in a hidden opcode dialect.
// Each job's world is a dialect (which opcode token means which primitive, a permutation of 8) and a
// modulus M; each episode runs a fresh random program from random registers. A model sees the program
// (context) and the machine state (pc, r0..r3) and has to predict how the state evolves, which it can only
// do by working out what each token does. Every number here is frozen in README.md; changing one bumps the id.
import type { Scenario, ScenarioSpec, Split } from '@worldbench/core';
import { dialectHypotheses } from './hypotheses';
import {
  MAX_PROGRAM,
  MODULI,
  OPCODES,
  PAD,
  PROGRAM_VOCAB,
  REGISTERS,
  ROW,
  STATE_SIZE,
  STATE_VOCAB,
  stepMachine,
} from './machine';
import { OOD_LENGTH, TRAIN_LENGTH, generateProgram, type Instruction } from './programs';

export { MODULI, OPCODES, PAD, PRIMITIVES, programLength, stepMachine, type PrimitiveName } from './machine';
export { generateProgram, type Instruction } from './programs';
export { MODULUS_FACTOR, saturateSpace, wrapSpace } from './hypotheses';

/** The hidden law of one job. */
export interface TraceWorld {
  /** dialect[token] = the primitive index (PRIMITIVES) that opcode token means; a permutation of 0..7. */
  readonly dialect: readonly number[];
  /** M: registers hold 0..M-1 and arithmetic wraps mod M; one of MODULI. */
  readonly modulus: number;
}

export interface TraceState {
  /**
   * [20 * 3] tokens: rows [opcode token, a, b], pad rows all PAD. Shared by every state of the episode; never mutated.
   */
  readonly program: Int32Array;
  /** Instructions before the padding, 4..20. */
  readonly length: number;
  /** [pc, r0, r1, r2, r3]. */
  readonly machine: Int32Array;
}

const spec: ScenarioSpec = {
  id: 'code-trace-v1',
  summary:
    'Random 4-12 instruction register-machine programs (13-20 in ood) run in a hidden opcode dialect and modulus; ' +
    'forecast pc and registers.',
  views: {
    state: { shape: [STATE_SIZE], kind: 'int', vocab: STATE_VOCAB, range: [0, STATE_VOCAB - 1] },
  },
  context: {
    program: { shape: [MAX_PROGRAM, ROW], kind: 'token', vocab: PROGRAM_VOCAB, range: [0, PROGRAM_VOCAB - 1] },
  },
  action: null,
  episodeLength: 32,
  historySteps: 1,
  horizon: 8,
  tags: ['code', 'discrete', 'no-actions', 'context', 'hidden-dialect'],
};

/** The token of each primitive under a dialect: the inverse permutation. */
function tokensOf(dialect: readonly number[]): number[] {
  const tokens = new Array<number>(OPCODES);
  dialect.forEach((primitive, token) => (tokens[primitive] = token));
  return tokens;
}

/** A program written in primitives, encoded in the world's dialect and padded to [20 * 3]. */
export function encodeProgram(world: TraceWorld, instructions: readonly Instruction[]): Int32Array {
  if (instructions.length < 1 || instructions.length > MAX_PROGRAM)
    throw new RangeError(`code-trace: a program has 1..${MAX_PROGRAM} instructions, got ${instructions.length}`);
  const tokens = tokensOf(world.dialect);
  const program = new Int32Array(MAX_PROGRAM * ROW).fill(PAD);
  instructions.forEach(({ op, a, b }, i) => program.set([tokens[op], a, b], i * ROW));
  return program;
}

/** The start state of a program with the given registers (pc 0). */
export function makeState(
  world: TraceWorld,
  instructions: readonly Instruction[],
  registers: readonly number[],
): TraceState {
  if (registers.length !== REGISTERS)
    throw new RangeError(`code-trace: ${REGISTERS} registers expected, got ${registers.length}`);
  return {
    program: encodeProgram(world, instructions),
    length: instructions.length,
    machine: Int32Array.from([0, ...registers]),
  };
}

/** The true assignment of the hypothesis space: the dialect, then the modulus' index in MODULI. */
export function trueAssignment(world: TraceWorld): number[] {
  return [...world.dialect, MODULI.indexOf(world.modulus as (typeof MODULI)[number])];
}

function sameDialect(a: readonly number[], b: readonly number[]): boolean {
  return a.every((p, i) => p === b[i]);
}

const identity = Array.from({ length: OPCODES }, (_, i) => i);

const scenario: Scenario<TraceWorld, TraceState> = {
  spec,

  sampleWorld(rng) {
    return { dialect: rng.shuffle(identity), modulus: rng.pick(MODULI) };
  },

  reset(world, rng, split: Split) {
    const [lo, hi] = split === 'ood' ? OOD_LENGTH : TRAIN_LENGTH;
    const length = lo + rng.int(hi - lo + 1);
    const instructions = generateProgram(rng, length);
    const registers = Array.from({ length: REGISTERS }, () => rng.int(world.modulus));
    return makeState(world, instructions, registers);
  },

  step(world, state) {
    const machine = stepMachine(
      state.program,
      state.length,
      (token) => world.dialect[token],
      world.modulus,
      state.machine,
    );
    return { program: state.program, length: state.length, machine };
  },

  render(_world, state) {
    return { state: Float32Array.from(state.machine) };
  },

  context(_world, state) {
    return { program: Float32Array.from(state.program) };
  },

  // No actions: the program runs by itself, so there is no expert and no exploration to tell apart.
  behavior() {
    return null;
  },

  explore() {
    return null;
  },

  // A new dialect (any permutation but the old one) and a modulus drawn afresh from MODULI (it stays the same
  // with probability 1/9).
  shift(world, rng) {
    let dialect: number[];
    do dialect = rng.shuffle(identity);
    while (sameDialect(dialect, world.dialect));
    return { dialect, modulus: rng.pick(MODULI) };
  },

  hypotheses: dialectHypotheses((world) => trueAssignment(world as TraceWorld)),
};

export default scenario;
