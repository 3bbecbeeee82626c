// @worldbench/runner: the bench. Scripts call `main`; the rest is public for tools and tests.
export { main, parseCli, parseSeeds } from './cli';
export { canonicalJson, jobKey, modelLabel, parseModelChoice, PROTOCOLS, resolveConfig, splitList, type EvaluationSettings, type Job, type Protocol } from './jobs';
export { FULL_BUDGETS, planJobs, QUICK_BUDGETS, type PlanOptions } from './plan';
export { runJob, type PlannedJob } from './run-job';
export { ResultsStore } from './store';
export { formatTables } from './table';
export type { JobResult, JobStatus } from './result';
export type { RunEnv } from './env';
