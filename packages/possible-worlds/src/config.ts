// The possible-worlds model's config: one row per field (type, default, range or choices, and why).
import { defineConfig, z, type ConfigOf } from '@worldbench/core';

export const possibleWorldsConfig = defineConfig('possible-worlds', {
  // 'search' is told what every model is told; 'scenario' is an oracle (the runner hands the scenario's
  // HypothesisSpace over only for this value and marks the rows privileged); 'generic' is an ablation.
  library: z
    .enum(['search', 'scenario', 'generic'])
    .default('search')
    .describe(
      "Where the candidate laws come from: 'search' finds them from the data by equation discovery beside the " +
        "generic laws; 'scenario' is the scenario's own hypotheses (an oracle); 'generic' the generic library alone.",
    ),
  evidence: z
    .enum(['marginal', 'bic'])
    .default('marginal')
    .describe(
      "'marginal': exact marginal likelihood for linear-Gaussian hypotheses (BIC where there is none), which " +
        "penalises parameters by what they explain; 'bic': BIC throughout.",
    ),
  candidates: z
    .string()
    .default('')
    .describe(
      'Comma-separated ids of the candidates to hold, for ablations (e.g. "linear,sparse-nonlinear"); empty: every ' +
        'candidate of the library.',
    ),
  prediction: z
    .enum(['map', 'mixture'])
    .default('map')
    .describe(
      "'map': forecast with the most probable world; 'mixture': the posterior mixture of worlds above 1e-3 mass.",
    ),
  windowEvidence: z
    .boolean()
    .default(true)
    .describe(
      "Weigh the worlds per forecast window by the training evidence and the window's own observed steps (the " +
        'posterior given both); off: by the training evidence alone.',
    ),
  filterHistory: z
    .boolean()
    .default(true)
    .describe(
      'Filter the noisy history through the law before rolling out (off: start from the last observation as is).',
    ),
  searchEffort: z
    .number()
    .int()
    .min(1)
    .default(20000)
    .describe(
      "library 'search': how many candidate expressions (or rules, or programs) the search may score; fit time " +
        'grows with it.',
    ),
  // act() plans experiments (planner.ts): the defaults were set on the worlds where one step shows nothing (a driven
  // spring whose laws part only at large amplitude), and their cost measured on every scenario with actions
  // (docs/experiments/2026-12-07-possible-worlds-planned-experiments.md)
  actObjective: z
    .enum(['information', 'evidence'])
    .default('information')
    .describe(
      "act(): what a plan is scored by (planner.ts). 'information': the expected information gain about which held " +
        "world is true, bounded by the posterior's entropy; 'evidence': the expected log Bayes factor between the " +
        'held worlds, unbounded, so it keeps testing them where they differ most, beyond where they were fitted.',
    ),
  actHorizon: z
    .number()
    .int()
    .min(1)
    .default(16)
    .describe(
      'act(): steps planned ahead (receding horizon: the first is taken, the plan replanned every step). 16: long ' +
        'enough for a sequence of pushes to change what the worlds predict where one step changes nothing (a ' +
        'quarter to half a swing of a slow oscillator), short enough that the worlds rolled out open-loop stay ' +
        'comparable; 1 is the greedy one-step choice.',
    ),
  actCandidates: z
    .number()
    .int()
    .min(1)
    .default(32)
    .describe(
      'act(): action sequences scored per iteration of the cross-entropy method, per episode. 32 with the best 4 ' +
        'kept: enough that the kept ones say which way to push; cost grows with candidates x iterations x horizon.',
    ),
  actIterations: z
    .number()
    .int()
    .min(1)
    .default(3)
    .describe(
      'act(): iterations of the cross-entropy method (1: random shooting). 3: the sampling narrows from uniform to ' +
        'around the best plans twice; the plan of the previous step (shifted) warm-starts the first.',
    ),
  rolloutBound: z
    .number()
    .min(0)
    .default(4)
    .describe(
      'A rolled-out state whose component goes beyond this many times the largest magnitude it had in the data ' +
        "fitted or in the window is the law's divergence, not a forecast (a cubic force past its turning point): the " +
        'state is held there. 0: off (only non-finite states are held). Views with a range are clamped into it ' +
        'instead.',
    ),
  changeThreshold: z
    .number()
    .gt(0)
    .default(3)
    .describe(
      'Live protocol: declare a change when "another world made the recent window" beats "one world made ' +
        'everything" by this many nats (log Bayes factor).',
    ),
});

export type PossibleWorldsConfig = ConfigOf<typeof possibleWorldsConfig>;

export const possibleWorldsDefaults: PossibleWorldsConfig = possibleWorldsConfig.defaults;
