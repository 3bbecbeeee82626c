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
  actCandidates: z
    .number()
    .int()
    .min(1)
    .default(16)
    .describe('Candidate actions scored by act() per episode (real-valued action spaces; int ones try every value).'),
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
