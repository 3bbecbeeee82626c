export interface PossibleWorldsConfig {
  /**
   * 'scenario': the scenario's own HypothesisSpace when it has one (the row is then marked privileged), else
   * the generic library (said in explain().library); 'generic': always the generic library.
   */
  library: 'scenario' | 'generic';
  /** 'marginal': exact marginal likelihood for linear-Gaussian hypotheses (BIC where there is none); 'bic': BIC throughout. */
  evidence: 'marginal' | 'bic';
  /** Comma-separated ids of the candidates to hold (ablations, e.g. "linear,sparse-nonlinear"); empty: every candidate of the library. */
  candidates: string;
  /** 'map': forecast with the most probable world; 'mixture': the posterior mixture of worlds above 1e-3 mass. */
  prediction: 'map' | 'mixture';
  /** Filter the noisy history through the law before rolling out (off: start from the last observation as is). */
  filterHistory: boolean;
  /** Candidate actions scored by act() per episode (real-valued action spaces; int ones try every value). */
  actCandidates: number;
  /** Live protocol: declare a change when "another world made the recent window" beats "one world made everything" by this many nats (log Bayes factor). */
  changeThreshold: number;
}

export const possibleWorldsDefaults: PossibleWorldsConfig = {
  library: 'scenario',
  evidence: 'marginal',
  candidates: '',
  prediction: 'map',
  filterHistory: true,
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
  oneOf('library', ['scenario', 'generic']);
  oneOf('evidence', ['marginal', 'bic']);
  oneOf('prediction', ['map', 'mixture']);
  if (!(Number.isInteger(c.actCandidates) && c.actCandidates >= 1)) problems.push(`actCandidates is an integer >= 1, got ${c.actCandidates}`);
  if (!(c.changeThreshold > 0)) problems.push(`changeThreshold is > 0, got ${c.changeThreshold}`);
  if (problems.length) throw new Error(`possible-worlds config: ${problems.join('; ')}`);
  return c;
}
