// One line of results.jsonl: the shape other tools read (docs/metrics.md). Keep it stable.
import type { HorizonMetrics } from '@worldbench/core';
import type { RunEnv } from './env';
import type { LiveResult } from './protocols';
import type { Job } from './jobs';

export type JobStatus = 'ok' | 'failed' | 'unsupported';

export interface JobResult extends Job {
  key: string;
  /** Fingerprint of the code the job imported. */
  fingerprint: string;
  status: JobStatus;
  /** Why a job failed (status "failed"). */
  error?: string;
  /** Why a model does not read this view (status "unsupported"). */
  reason?: string;
  /** The model read something the others are not told (a scenario's hypotheses). */
  privileged: boolean;
  metrics: { test: HorizonMetrics; ood: HorizonMetrics } | null;
  cost: { fitSeconds: number; forecastStepsPerSecond: number; params: number; peakMemoryMB: number } | null;
  env: RunEnv;
  explain?: Record<string, unknown>;
  /** live protocol: the stream's moving skill, shifts, dips and recovery. */
  live?: LiveResult;
  /** Image views: PNG data URIs of true (top row) and forecast (bottom row) frames of the first test windows. */
  filmstrip?: string[];
  /** Derived when results are read together (summarize.ts): on-policy gains in skill at h = 1, selfForcingGain, auc. */
  onPolicyGain?: number | null;
  onPolicyGainExplore?: number | null;
  onPolicyGainRandom?: number | null;
  selfForcingGain?: number | null;
  auc?: number | null;
  notes?: Record<string, unknown>;
  /** ISO time the job finished. */
  finishedAt: string;
}
