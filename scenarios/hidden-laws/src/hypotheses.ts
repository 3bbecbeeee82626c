// The hypothesis space on the `state` view: one LawFamily per candidate law (the 7 a world can have and 3
// wrong alternatives). predict() is one transition of the simulator's own integrator from the observed
// state, rounded to float32 as the view is, so the true family with the episode's parameters reproduces a
// clean transition bit for bit.
import type { HypothesisSpace, LawFamily, Transition } from '@worldbench/core';
import { ALTERNATIVE_LAWS, TRUE_LAWS, type Law, type TrueLawId } from './laws';
import { advance } from './physics';

/** One transition of `law` under `params` from t.current (x, y, vx, vy) with t.action (null: no force). */
function predictWith(law: Law, params: ArrayLike<number>, t: Transition): Float32Array {
  return Float32Array.from(advance(law.dynamics(params), t.current, t.action));
}

function family(law: Law, isTrue: boolean): LawFamily {
  const basis = law.affineBasis;
  return {
    kind: 'family',
    id: law.id,
    statement: law.statement,
    parameters: law.parameters.map((p) => ({
      name: p.name,
      range: p.train,
      perEpisode: true,
      doc: isTrue ? p.doc : `${p.doc} (prior range of a law no world has)`,
    })),
    nestedIn: law.nestedIn,
    predict: (params, t) => predictWith(law, params, t),
    // Only where the one-step map is exactly affine in the parameters (a constant acceleration, integrated
    // exactly). The restoring and damping laws are not: with substeps the map holds powers of k and
    // exponentials of c, so they have no `linear` and are fitted through predict().
    linear: basis && {
      base: (t) => advance(law.dynamics(law.parameters.map(() => 0)), t.current, t.action),
      basis: () => basis.map((b) => Float64Array.from(b)),
    },
  };
}

export const NOTES = [
  'Nested (bit for bit in this integrator): free flight is every law with its parameters at 0 (gravity g = 0, ' +
    'spring k = 0, damped spring k = c = 0, pendulum w2 = 0, drag c = 0, central mu = 0, linear drag c = 0, ' +
    'anisotropic spring kx = ky = 0, uniform field 0); these zeros lie outside the prior ranges, so within the ' +
    'priors free flight is distinct.',
  'spring is damped-spring with c = 0 and anisotropic-spring with kx = ky = k; gravity is uniform-field with (ax, ' +
    'ay) = (0, -g); linear-drag is damped-spring with k = 0.',
  'Nearly equivalent: pendulum ~ spring with k = w2 where |x_i| << L (force error ~ x_i^2 / (6 L^2): 1% at |x_i| = ' +
    '0.5 for L = 2, 4% at 1.0).',
  'central ~ spring near a radius R: a circular orbit of radius R is the same uniform circular motion under both ' +
    'when k = mu / (R^2 + eps^2)^(3/2), so one circular orbit cannot tell them apart; inside the softened core (|x| ' +
    '<< eps = 0.25) central is a stiff spring with k = mu / eps^3 = 64 mu.',
  'drag ~ linear-drag with c_lin = c |v| while the speed stays near |v|; they part as the particle slows.',
  'Over a short window: gravity with small g ~ free flight (g = 0.2 moves y by g t^2 / 2 = 0.009 in the 0.3 s a ' +
    '4-step history spans, under half the state noise 0.02); damped-spring with small c ~ spring.',
].join('\n');

export const hypotheses: HypothesisSpace = {
  view: 'state',
  candidates: [...TRUE_LAWS.map((l) => family(l, true)), ...ALTERNATIVE_LAWS.map((l) => family(l, false))],
  truth: (world) => ({ id: (world as { law: TrueLawId }).law }),
  notes: NOTES,
};
