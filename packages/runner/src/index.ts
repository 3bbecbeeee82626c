// @worldbench/runner: the bench. Scripts call `main`; the rest is public for tools and tests.
export { DEFAULT_JOB_TIMEOUT_SECONDS, main, parseCli, parseSeeds, type ParsedArgs } from './cli';
export {
  canonicalJson,
  jobKey,
  modelLabel,
  parseModelChoice,
  PROTOCOLS,
  resolveConfig,
  splitList,
  type EvaluationSettings,
  type Job,
  type Protocol,
} from './jobs';
export { FULL_BUDGETS, isModelPath, modelPathEntry, planJobs, QUICK_BUDGETS, type PlanOptions } from './plan';
export { failedResult, runJob, type PlannedJob } from './run-job';
export {
  JOB_THREADS,
  poolSize,
  runInWorkers,
  SINGLE_THREAD_ENV,
  workerDeathReason,
  type JobRunContext,
  type PoolListener,
  type PoolOptions,
} from './pool';
export { runSweep, type SweepOptions } from './sweep';
export {
  parseShard,
  planRecord,
  readPlanRecords,
  resultsFileName,
  shardJobs,
  type PlanRecord,
  type Shard,
} from './shard';
export { describeMerge, mergeShards, type MergeSummary } from './merge';
export { readResultLines, ResultsStore } from './store';
export { formatTables, type TableOptions } from './table';
export {
  describeFailure,
  failureOf,
  RESULTS_FORMAT,
  type JobFailure,
  type JobPhase,
  type JobResult,
  type JobStatus,
} from './result';
export { runCheck } from './check';
export { exportRuns, exportTable, type ExportFormat } from './export';
export { interval95, pairedDifferences, type Interval } from './intervals';
export { estimatePlan, readTimings, type PlanEstimate } from './estimate';
export type { RunEnv } from './env';
