import { defineConfig, z, type ConfigOf } from '@worldbench/core';

// The ridge penalty is on standardised features, per transition; the target is the change of the observation,
// so the penalty shrinks toward persistence.
export const linearConfig = defineConfig('linear', {
  ridge: z
    .number()
    .min(0)
    .default(1e-3)
    .describe(
      'Ridge penalty toward persistence: 1e-3 barely regularises once there are more transitions than features, and ' +
        'keeps image views (1024 features) solvable at small budgets.',
    ),
});

export type LinearConfig = ConfigOf<typeof linearConfig>;
