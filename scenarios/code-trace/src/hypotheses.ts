// The candidate worlds: a factored space over the dialect (one primitive per opcode token) and the modulus,
// under the true machine law (wrapping arithmetic), and the same space under a wrong law (saturating
// arithmetic). Evidence is exact: an option is kept iff some option of the other factor reproduces the
// transition, so it never excludes the truth.
import type { FactoredSpace, HypothesisSpace, Transition } from '@worldbench/core';
import { MODULI, OPCODES, PRIMITIVES, ROW, STATE_SIZE, programLength, stepMachine, type Arithmetic } from './machine';

/** Factor index of the modulus; factors 0..P-1 are the opcode tokens. */
export const MODULUS_FACTOR = OPCODES;

function machineSpace(id: string, arithmetic: Arithmetic, statement: string): FactoredSpace {
  const next = (t: Transition, primitiveOf: (token: number) => number, modulus: number) => {
    const program = t.context.program;
    return stepMachine(program, programLength(program), primitiveOf, modulus, t.current, arithmetic);
  };
  return {
    kind: 'factored',
    id,
    statement,
    factors: [
      ...Array.from({ length: OPCODES }, (_, token) => ({ name: `token ${token}`, options: [...PRIMITIVES] })),
      { name: 'modulus', options: [...MODULI] },
    ],
    // a dialect is a permutation: no two tokens share a primitive
    allDifferent: [Array.from({ length: OPCODES }, (_, token) => token)],
    predict(assignment, t) {
      return Float32Array.from(next(t, (token) => assignment[token], MODULI[assignment[MODULUS_FACTOR]]));
    },
    evidence(t) {
      if (!t.next) throw new Error(`${id}.evidence needs a transition with its next state`);
      const observed = t.next;
      const program = t.context.program;
      const pc = t.current[0];
      const running = pc < programLength(program);
      const token = running ? program[pc * ROW] : -1;
      const primitives = new Set<number>(),
        moduli = new Set<number>();
      // A halted machine executes nothing: every primitive gives the same next state, so try one.
      for (let p = 0; p < (running ? OPCODES : 1); p++)
        MODULI.forEach((m, mi) => {
          const predicted = next(t, () => p, m);
          for (let i = 0; i < STATE_SIZE; i++) if (predicted[i] !== observed[i]) return;
          primitives.add(p);
          moduli.add(mi);
        });
      const out: Array<{ factor: number; consistent: number[] }> = [
        { factor: MODULUS_FACTOR, consistent: [...moduli] },
      ];
      if (running) out.push({ factor: token, consistent: [...primitives] });
      return out;
    },
  };
}

/** The true law: arithmetic wraps mod M. */
export const wrapSpace = machineSpace(
  'register-machine-wrap',
  'wrap',
  'a 4-register machine; opcode token k means primitive assignment[k]; registers are M-valued and arithmetic ' +
    'wraps mod M',
);
/** A wrong law with the same factors: arithmetic saturates at 0 and M-1 instead of wrapping. */
export const saturateSpace = machineSpace(
  'register-machine-saturate',
  'saturate',
  'the same machine, but arithmetic saturates: results are clamped into 0..M-1 instead of reduced mod M',
);

export function dialectHypotheses(truth: (world: unknown) => number[]): HypothesisSpace {
  return {
    view: 'state',
    candidates: [wrapSpace, saturateSpace],
    truth: (world) => ({ id: wrapSpace.id, assignment: truth(world) }),
    notes:
      'Both candidates share the factors "token 0".."token 7" (a primitive each) and "modulus" (8..16). The tokens ' +
      'are declared `allDifferent` (worlds use permutations), so a searcher may rule out assignments that give ' +
      'two tokens the same primitive. The two laws agree on every transition whose arithmetic stays inside ' +
      '0..M-1 (SET with an immediate < M, ADD without overflow, SUB without underflow, MOV, JZ, HALT, DJNZ ' +
      'from a counter > 0); they differ only on a wrap.',
  };
}
