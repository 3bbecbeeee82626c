export interface LinearConfig {
  /**
   * Ridge penalty on standardised features, per transition. The target is the change of the observation,
   * so the penalty shrinks toward persistence; 1e-3 barely regularises once there are more transitions
   * than features, and keeps image views (1024 features) solvable at small budgets.
   */
  ridge: number;
}

export const linearDefaults: LinearConfig = { ridge: 1e-3 };

/** The defaults with `overrides`; throws when the ridge penalty is not a finite number >= 0. */
export function resolveLinearConfig(overrides: Partial<LinearConfig> = {}): LinearConfig {
  const c: LinearConfig = { ...linearDefaults, ...overrides };
  if (!(Number.isFinite(c.ridge) && c.ridge >= 0)) throw new Error(`linear config: ridge is a finite number >= 0, got ${c.ridge}`);
  return c;
}
