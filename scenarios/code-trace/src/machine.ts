// The register machine: its primitives, the program encoding, and one step of execution. The same step
// function runs the world (scenario.step, decoding tokens with the world's dialect) and every hypothesis
// (hypotheses.ts, decoding tokens with an assignment), so the true assignment reproduces the world exactly.

/** The primitives, by index. A dialect maps each opcode token 0..P-1 to one of them (a permutation). */
export const PRIMITIVES = ['SET', 'ADD', 'SUB', 'MUL', 'MOV', 'JZ', 'DJNZ', 'HALT'] as const;
export type PrimitiveName = (typeof PRIMITIVES)[number];
/** P = 8 opcode tokens (0..7), one per primitive. */
export const OPCODES: number = PRIMITIVES.length;
export const [SET, ADD, SUB, MUL, MOV, JZ, DJNZ, HALT] = PRIMITIVES.map((_, i) => i);

/** r0..r3. */
export const REGISTERS = 4;
/** Program rows, padded: every program has 1..20 instructions. */
export const MAX_PROGRAM = 20;
/** Columns of a program row: opcode token, argument a, argument b. */
export const ROW = 3;
/** The pad token: fills every column of the rows past the program's end. */
export const PAD = 20;
/** One vocab for the program: opcode tokens 0..7, arguments 0..19 (registers, immediates, targets), pad 20. */
export const PROGRAM_VOCAB = 21;
/** The state view [pc, r0, r1, r2, r3]: pc in 0..20, registers in 0..15. */
export const STATE_SIZE = 1 + REGISTERS;
export const STATE_VOCAB = 21;
/** The moduli a world draws from (registers hold values 0..M-1). */
export const MODULI = [8, 9, 10, 11, 12, 13, 14, 15, 16] as const;

/** How arithmetic leaves 0..M-1: the machine wraps (mod M); `saturate` is a wrong alternative law (clamp). */
export type Arithmetic = 'wrap' | 'saturate';

/** Number of instructions: the rows before the first pad row. */
export function programLength(program: ArrayLike<number>): number {
  for (let i = 0; i < MAX_PROGRAM; i++) if (program[i * ROW] === PAD) return i;
  return MAX_PROGRAM;
}

function reduce(v: number, m: number, arithmetic: Arithmetic): number {
  return arithmetic === 'wrap' ? ((v % m) + m) % m : Math.min(Math.max(v, 0), m - 1);
}

/**
 * One step. `machine` is [pc, r0, r1, r2, r3]; `primitiveOf(token)` decodes an opcode token. The machine is
 * halted when pc >= the program length (it ran off the end, pc = length) or it executes HALT (pc stays).
 * An instruction whose register argument is >= 4 faults and stays put like HALT; the program generator never
 * writes one, but a wrong decoding (a hypothesis, or a program read in a shifted dialect) can.
 * Registers are M-valued: after every step each register is stored reduced into 0..M-1, a no-op within one
 * world, which keeps the state in range when `shift` moves the world to a smaller modulus mid-episode.
 */
export function stepMachine(
  program: ArrayLike<number>,
  length: number,
  primitiveOf: (token: number) => number,
  modulus: number,
  machine: ArrayLike<number>,
  arithmetic: Arithmetic = 'wrap',
): Int32Array {
  const next = Int32Array.from(machine as ArrayLike<number>);
  const pc = machine[0];
  if (pc < length)
    execute(primitiveOf(program[pc * ROW]), program[pc * ROW + 1], program[pc * ROW + 2], next, modulus, arithmetic);
  for (let r = 1; r <= REGISTERS; r++) next[r] = reduce(next[r], modulus, arithmetic);
  return next;
}

/** Executes one instruction on `m` = [pc, r0..r3] in place. */
function execute(
  primitive: number,
  a: number,
  b: number,
  m: Int32Array,
  modulus: number,
  arithmetic: Arithmetic,
): void {
  const pc = m[0];
  const isRegister = (x: number) => x >= 0 && x < REGISTERS;
  const needsB = primitive === ADD || primitive === SUB || primitive === MUL || primitive === MOV;
  if (primitive === HALT || !isRegister(a) || (needsB && !isRegister(b))) return; // halted or faulted: stay
  const ra = m[1 + a];
  const rb = needsB ? m[1 + b] : 0;
  m[0] = pc + 1;
  switch (primitive) {
    case SET:
      m[1 + a] = reduce(b, modulus, arithmetic);
      break;
    case ADD:
      m[1 + a] = reduce(ra + rb, modulus, arithmetic);
      break;
    case SUB:
      m[1 + a] = reduce(ra - rb, modulus, arithmetic);
      break;
    case MUL:
      m[1 + a] = reduce(ra * rb, modulus, arithmetic);
      break;
    case MOV:
      m[1 + a] = rb;
      break;
    case JZ:
      if (ra === 0) m[0] = b;
      break;
    case DJNZ: {
      const v = reduce(ra - 1, modulus, arithmetic);
      m[1 + a] = v;
      if (v !== 0) m[0] = b;
      break;
    }
    default:
      throw new RangeError(`code-trace: primitive index ${primitive} is not in 0..${OPCODES - 1}`);
  }
}
