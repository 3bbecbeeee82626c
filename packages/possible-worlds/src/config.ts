export interface PossibleWorldsConfig {
  /**
   * Where the candidate laws come from. 'search' (the default, told what every model is told): found from
   * the data by equation discovery, beside the generic laws. 'scenario': the scenario's own HypothesisSpace
   * (an oracle: the runner hands it over only for this value and marks the rows privileged). 'generic': the
   * generic library alone (an ablation).
   */
  library: 'search' | 'scenario' | 'generic';
  /** 'marginal': exact marginal likelihood for linear-Gaussian hypotheses (BIC where there is none); 'bic': BIC throughout. */
  evidence: 'marginal' | 'bic';
  /** Comma-separated ids of the candidates to hold (ablations, e.g. "linear,sparse-nonlinear"); empty: every candidate of the library. */
  candidates: string;
  /** 'map': forecast with the most probable world; 'mixture': the posterior mixture of worlds above 1e-3 mass. */
  prediction: 'map' | 'mixture';
  /** Filter the noisy history through the law before rolling out (off: start from the last observation as is). */
  filterHistory: boolean;
  /** library 'search': how many candidate expressions (or rules, or programs) the search may score; fit time grows with it. */
  searchEffort: number;
  /** Candidate actions scored by act() per episode (real-valued action spaces; int ones try every value). */
  actCandidates: number;
  /** Live protocol: declare a change when "another world made the recent window" beats "one world made everything" by this many nats (log Bayes factor). */
  changeThreshold: number;
}

export const possibleWorldsDefaults: PossibleWorldsConfig = {
  library: 'search',
  evidence: 'marginal',
  candidates: '',
  prediction: 'map',
  filterHistory: true,
  searchEffort: 20000,
  actCandidates: 16,
  changeThreshold: 3,
};

/** The defaults with `overrides`; throws naming every field whose value this model cannot use. */
export function resolvePossibleWorldsConfig(overrides: Partial<PossibleWorldsConfig> = {}): PossibleWorldsConfig {
  const c: PossibleWorldsConfig = { ...possibleWorldsDefaults, ...overrides };
  const problems: string[] = [];
  const oneOf = (key: keyof PossibleWorldsConfig, valid: string[]) => {
    if (!valid.includes(c[key] as string)) problems.push(`${key} is ${valid.map((v) => `'${v}'`).join(' or ')}, got ${JSON.stringify(c[key])}`);
  };
  oneOf('library', ['search', 'scenario', 'generic']);
  oneOf('evidence', ['marginal', 'bic']);
  oneOf('prediction', ['map', 'mixture']);
  if (!(Number.isInteger(c.searchEffort) && c.searchEffort >= 1)) problems.push(`searchEffort is an integer >= 1, got ${c.searchEffort}`);
  if (!(Number.isInteger(c.actCandidates) && c.actCandidates >= 1)) problems.push(`actCandidates is an integer >= 1, got ${c.actCandidates}`);
  if (!(c.changeThreshold > 0)) problems.push(`changeThreshold is > 0, got ${c.changeThreshold}`);
  if (problems.length) throw new Error(`possible-worlds config: ${problems.join('; ')}`);
  return c;
}
