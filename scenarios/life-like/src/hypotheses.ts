// The candidate worlds of life-like-v1, on the `state` view: a birth/survival bit per neighbour count, on
// four lattices. The truth is the Moore torus with the world's rule; the other three lattices are
// structurally wrong (no assignment of their bits reproduces the data in general), and every wrong bit
// vector of the true lattice is a wrong candidate too.
import type { FactoredSpace, HypothesisSpace, Transition } from '@worldbench/core';
import { advance, binarise, makeLattice, neighbourCounts, type Edges, type Neighbourhood } from './grid';
import { ruleBits, ruleFromBits, type Rule } from './rule';

/** The id of the true candidate. */
export const TRUE_CANDIDATE = 'moore-torus';

const STATEMENTS: Record<string, string> = {
  'moore-torus':
    'a cell counts its 8 surrounding cells, rows and columns wrapping around; dead + n live -> born iff Bn; live + ' +
    'n -> survives iff Sn',
  'von-neumann-torus': 'as moore-torus, but a cell counts only the 4 cells sharing an edge (counts 0..4)',
  'moore-bounded': 'as moore-torus, but the grid does not wrap: cells beyond an edge count as dead',
  'von-neumann-bounded': 'the 4 edge-sharing cells, no wrapping (counts 0..4)',
};

/**
 * A life-like rule on one lattice: factors B0..Bm then S0..Sm (m = 8 or 4), options [0, 1] (the option
 * index is the bit). Views are read as live where > 0.5.
 */
export function lifeLikeSpace(neighbourhood: Neighbourhood, edges: Edges): FactoredSpace {
  const lattice = makeLattice(neighbourhood, edges);
  const m = lattice.maxCount;
  const id = `${neighbourhood}-${edges}`;
  const factors = [
    ...Array.from({ length: m + 1 }, (_, n) => ({ name: `B${n}`, options: [0, 1] })),
    ...Array.from({ length: m + 1 }, (_, n) => ({ name: `S${n}`, options: [0, 1] })),
  ];
  return {
    kind: 'factored',
    id,
    statement: STATEMENTS[id],
    factors,
    // Every cell is one observation of one bit: dead with n live neighbours shows Bn, live shows Sn, and the
    // bit equals the cell's next value. A factor seen with both values in one transition (impossible under
    // the true lattice) gets an empty list: no option explains it, so the candidate is refuted.
    evidence(t: Transition) {
      if (!t.next) throw new Error(`${id}.evidence: the transition has no next view; evidence needs current and next`);
      const current = binarise(t.current);
      const next = binarise(t.next);
      const counts = neighbourCounts(lattice, current);
      const seen = new Int8Array(2 * (m + 1)).fill(-1); // per factor: -1 unseen, 0/1 the bit, 2 contradicted
      for (let i = 0; i < current.length; i++) {
        const factor = current[i] ? m + 1 + counts[i] : counts[i];
        if (seen[factor] === -1) seen[factor] = next[i];
        else if (seen[factor] !== next[i]) seen[factor] = 2;
      }
      const out: Array<{ factor: number; consistent: number[] }> = [];
      seen.forEach((bit, factor) => {
        if (bit !== -1) out.push({ factor, consistent: bit === 2 ? [] : [bit] });
      });
      return out;
    },
    predict(assignment, t) {
      return new Float32Array(advance(lattice, ruleFromBits(assignment, m), binarise(t.current)));
    },
  };
}

export const hypotheses: HypothesisSpace = {
  view: 'state',
  candidates: [
    lifeLikeSpace('moore', 'torus'),
    lifeLikeSpace('von-neumann', 'torus'),
    lifeLikeSpace('moore', 'bounded'),
    lifeLikeSpace('von-neumann', 'bounded'),
  ],
  truth(world) {
    return { id: TRUE_CANDIDATE, assignment: ruleBits((world as { rule: Rule }).rule) };
  },
  notes:
    'moore-torus is the truth (assignment: B0..B8 then S0..S8 of the world rule). moore-bounded agrees with it on ' +
    'the 22 x 22 interior ' +
    'and differs only on edge cells with a live neighbour across the wrap; the von Neumann lattices count a subset ' +
    'of the Moore neighbours, so ' +
    'they fit grids whose diagonal neighbours happen to be dead. B0 is 0 in every world (sampleWorld excludes it) ' +
    'but is kept as a factor.',
};
