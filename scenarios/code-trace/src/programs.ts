// Random programs, written in primitives (the dialect encodes them into tokens in index.ts). A program is a
// sequence of blocks: single arithmetic instructions, DJNZ countdown loops, JZ branches and the odd HALT,
// optionally ending in HALT. Every jump targets an instruction of the program. Every number is in README.md.
import type { Rng } from '@worldbench/core';
import { ADD, DJNZ, HALT, JZ, MOV, MUL, REGISTERS, SET, SUB } from './machine';

export interface Instruction {
  /** Primitive index (machine.ts PRIMITIVES). */
  op: number;
  /** A register 0..3 (ignored by HALT). */
  a: number;
  /**
   * SET: an immediate 0..15; ADD/SUB/MUL/MOV: a register 0..3; JZ/DJNZ: a target 0..length-1; HALT: a register,
   * ignored.
   */
  b: number;
}

/** Program lengths (instructions, inclusive): train/test 4..12; ood 13..20. */
export const TRAIN_LENGTH = [4, 12] as const;
export const OOD_LENGTH = [13, 20] as const;
/** SET immediates are drawn from 0..15 whatever the modulus, so SET reveals M by wrapping. */
export const IMMEDIATES = 16;
/** The last instruction is HALT with this probability; otherwise the program runs off its end. */
export const FINAL_HALT_PROBABILITY = 0.5;
/** Block weights; a loop needs 3 free slots and is skipped (weights renormalised) when fewer remain. */
export const BLOCK_WEIGHTS = { arithmetic: 0.5, loop: 0.25, branch: 0.2, halt: 0.05 } as const;
/** Arithmetic instructions: SET 0.3, ADD/SUB/MUL/MOV 0.175 each. */
export const ARITHMETIC_WEIGHTS: ReadonlyArray<readonly [number, number]> = [
  [SET, 0.3],
  [ADD, 0.175],
  [SUB, 0.175],
  [MUL, 0.175],
  [MOV, 0.175],
];
/**
 * A loop is preceded by SET c, k (k in 1..4) with this probability; otherwise it counts down from c's current value.
 */
export const LOOP_PRESET_PROBABILITY = 0.75;
export const LOOP_COUNT = [1, 4] as const;
/** Loop bodies have 1..3 arithmetic instructions, none writing the counter. */
export const LOOP_BODY = [1, 3] as const;
/**
 * A JZ tests the most recent loop counter (0 after its loop) with this probability when there is one; else a random
 * register.
 */
export const BRANCH_ON_COUNTER_PROBABILITY = 0.5;
/** A JZ jumps forward (skipping at least one instruction) with this probability when it can; else backward. */
export const BRANCH_FORWARD_PROBABILITY = 0.75;

function weighted(rng: Rng, items: ReadonlyArray<readonly [number, number]>): number {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let u = rng.next() * total;
  for (const [item, w] of items) if ((u -= w) < 0) return item;
  return items[items.length - 1][0];
}

function between(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

function arithmetic(rng: Rng, avoid = -1): Instruction {
  const op = weighted(rng, ARITHMETIC_WEIGHTS);
  const a = avoid < 0 ? rng.int(REGISTERS) : (avoid + 1 + rng.int(REGISTERS - 1)) % REGISTERS;
  return { op, a, b: op === SET ? rng.int(IMMEDIATES) : rng.int(REGISTERS) };
}

/** A random program of exactly `length` instructions (4..20). */
export function generateProgram(rng: Rng, length: number): Instruction[] {
  const finalHalt = rng.bernoulli(FINAL_HALT_PROBABILITY);
  const slots = length - (finalHalt ? 1 : 0);
  const program: Instruction[] = [];
  const branches: number[] = [];
  let counter = -1;
  const LOOP = 0,
    ARITH = 1,
    BRANCH = 2,
    STOP = 3;
  while (program.length < slots) {
    const room = slots - program.length;
    const kinds: [number, number][] = [
      [ARITH, BLOCK_WEIGHTS.arithmetic],
      [BRANCH, BLOCK_WEIGHTS.branch],
      [STOP, BLOCK_WEIGHTS.halt],
    ];
    if (room >= 3) kinds.push([LOOP, BLOCK_WEIGHTS.loop]);
    const kind = weighted(rng, kinds);
    if (kind === ARITH) program.push(arithmetic(rng));
    else if (kind === STOP) program.push({ op: HALT, a: rng.int(REGISTERS), b: rng.int(REGISTERS) });
    else if (kind === BRANCH) {
      const a = counter >= 0 && rng.bernoulli(BRANCH_ON_COUNTER_PROBABILITY) ? counter : rng.int(REGISTERS);
      branches.push(program.length);
      program.push({ op: JZ, a, b: -1 }); // target fixed below, once the length is known
    } else {
      const c = rng.int(REGISTERS);
      const preset = rng.bernoulli(LOOP_PRESET_PROBABILITY);
      if (preset) program.push({ op: SET, a: c, b: between(rng, LOOP_COUNT[0], LOOP_COUNT[1]) });
      const start = program.length;
      const body = between(rng, LOOP_BODY[0], Math.min(LOOP_BODY[1], room - 1 - (preset ? 1 : 0)));
      for (let k = 0; k < body; k++) program.push(arithmetic(rng, c));
      program.push({ op: DJNZ, a: c, b: start });
      counter = c;
    }
  }
  if (finalHalt) program.push({ op: HALT, a: rng.int(REGISTERS), b: rng.int(REGISTERS) });
  // A JZ never targets itself (that would be a HALT when taken). With length >= 4 one direction always exists.
  for (const i of branches) {
    const forward = i + 2 <= length - 1;
    const backward = i >= 1;
    program[i].b =
      forward && (!backward || rng.bernoulli(BRANCH_FORWARD_PROBABILITY))
        ? between(rng, i + 2, length - 1)
        : between(rng, 0, i - 1);
  }
  return program;
}
