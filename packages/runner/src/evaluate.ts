// Evaluation of a job's splits: the implementation lives in @worldbench/core (evaluate.ts).
export { assertForecast, scoreSplit, type SplitScore } from '@worldbench/core';
