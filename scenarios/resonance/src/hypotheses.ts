// The hypothesis space on the `state` view: one LawFamily per candidate restoring law (the 3 a world can have and 1
// wrong alternative), each with the world's stiffness k and the episode's damping c. predict() is one transition of
// the simulator's own integrator from the observed state, rounded to float32 as the view is, so the true family with
// the true k and c reproduces a clean transition bit for bit.
import type { HypothesisSpace, LawFamily } from '@worldbench/core';
import { ALTERNATIVE_LAWS, DAMPING, restoring, STIFFNESS, TRUE_LAWS, type Law, type TrueLawId } from './laws';
import { advance, FORCE_SCALE } from './physics';

function family(law: Law, isTrue: boolean): LawFamily {
  return {
    kind: 'family',
    id: law.id,
    statement: `${law.statement}; plus the damping -c v and the applied force`,
    parameters: [
      {
        name: 'k',
        range: STIFFNESS,
        perEpisode: false,
        doc: `stiffness per unit mass, 1 / s^2 (small-amplitude angular frequency sqrt(k))${
          isTrue ? '' : ' (prior range of a law no world has)'
        }`,
      },
      { name: 'c', range: DAMPING.train, perEpisode: true, doc: 'linear damping rate, 1 / s' },
    ],
    nestedIn: [],
    predict: (params, t) =>
      Float32Array.from(
        advance(restoring(law, params[0]), params[1], t.current, t.action ? FORCE_SCALE * t.action[0] : 0),
      ),
  };
}

export const NOTES = [
  'Every law is a = -k L f(x / L) with f(u) = u + O(u^3) (L = 1): the same spring -k x at small amplitude. The ' +
    'cubic terms are 0 (spring), +1/3 (hardening), -1/3 (softening, tanh) and -1/6 (pendulum, sin), so two laws ' +
    'differ in force by about k |x|^3 / 3 (spring against either other) or 2 k |x|^3 / 3 (hardening against ' +
    'softening): one step moves v by DT times that, under the noise 0.01 while |x| < 0.72 at k = 1 and 0.44 at k = 4.',
  'pendulum lies between spring and softening (half the cubic term of softening): the hardest wrong law to rule out ' +
    'when the world softens.',
  "k is the world's, the same in every episode. The frequency of each law changes with the amplitude in its own " +
    'way (up for hardening, down for softening and pendulum, not at all for spring), so over a swing a wrong law ' +
    "drifts out of phase even if its k is re-read from each window's amplitude.",
].join('\n');

export const hypotheses: HypothesisSpace = {
  view: 'state',
  candidates: [...TRUE_LAWS.map((l) => family(l, true)), ...ALTERNATIVE_LAWS.map((l) => family(l, false))],
  truth: (world) => {
    const w = world as { law: TrueLawId; k: number };
    return { id: w.law, params: { k: w.k } };
  },
  notes: NOTES,
};
