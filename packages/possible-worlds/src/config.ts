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
  /** Live protocol: refit on the recent window when its log-likelihood per step falls this many nats below the fit's. */
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
