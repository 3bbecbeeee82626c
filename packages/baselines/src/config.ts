export interface LinearConfig {
  /**
   * Ridge penalty on standardised features, per transition. The target is the change of the observation,
   * so the penalty shrinks toward persistence; 1e-3 barely regularises once there are more transitions
   * than features, and keeps image views (1024 features) solvable at small budgets.
   */
  ridge: number;
}

export const linearDefaults: LinearConfig = { ridge: 1e-3 };
