// One line of results.jsonl: the shape other tools read (docs/metrics.md). Keep it stable.
import type { HorizonMetrics } from '@worldbench/core';
import { z } from 'zod';
import type { RunEnv } from './env';
import type { LiveResult } from './protocols';
import { PROTOCOLS, type Job } from './jobs';

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

/** A filmstrip frame as the runner writes it: a PNG, base64-encoded, nothing else (it lands in an <img src>). */
export const PNG_DATA_URI = /^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/;

const count = z.number().int().positive();
const numberOrNull = z.number().nullable(); // zod's number is finite: NaN and infinity are refused
const horizonMetrics = z.record(z.string(), z.record(z.string(), numberOrNull));

/**
 * What a line must hold to be read as a result: the fields every reader uses, with their types. Results files
 * are shared and merged across machines, so a line is untrusted until it passes (a string where a number
 * belongs would reach the HTML report). Fields added later are optional, so older lines still pass; unknown
 * fields are kept.
 */
const resultLine = z
  .looseObject({
    key: z.string().min(1),
    fingerprint: z.string(),
    status: z.enum(['ok', 'failed', 'unsupported']),
    model: z.string(),
    modelId: z.string(),
    config: z.record(z.string(), z.unknown()),
    scenario: z.string(),
    view: z.string(),
    protocol: z.enum(PROTOCOLS),
    budget: count.nullable(),
    seed: z.number().int().nonnegative(),
    evaluation: z.looseObject({ testEpisodes: count, oodEpisodes: count, horizon: count }),
    privileged: z.boolean().optional(),
    error: z.string().optional(),
    reason: z.string().optional(),
    metrics: z.looseObject({ test: horizonMetrics, ood: horizonMetrics }).nullable(),
    cost: z.looseObject({ fitSeconds: z.number(), forecastStepsPerSecond: z.number(), params: z.number(), peakMemoryMB: z.number() }).partial().nullable(),
    env: z.looseObject({ backend: z.string(), ort: z.string().nullable(), node: z.string(), cpu: z.string(), commit: z.string().nullable() }).partial().optional(),
    explain: z.record(z.string(), z.unknown()).optional(),
    notes: z.record(z.string(), z.unknown()).optional(),
    live: z
      .looseObject({
        meanSkill: numberOrNull,
        movingSkill: z.array(numberOrNull),
        shifts: z.array(z.number().int().nonnegative()),
        dips: z.array(numberOrNull),
        recoverable: z.array(z.boolean()).optional(),
        recovery: z.array(numberOrNull),
        updates: z.boolean(),
      })
      .optional(),
    filmstrip: z.array(z.string().regex(PNG_DATA_URI)).optional(),
    onPolicyGain: numberOrNull.optional(),
    onPolicyGainExplore: numberOrNull.optional(),
    onPolicyGainRandom: numberOrNull.optional(),
    selfForcingGain: numberOrNull.optional(),
    auc: numberOrNull.optional(),
    finishedAt: z.string().optional(),
  })
  .refine((r) => r.status !== 'ok' || (r.metrics !== null && hasScore(r.metrics.test) && hasScore(r.metrics.ood)), {
    message: 'an ok result needs metrics with a number for mse on test and ood (all null: its forecast was never scored)',
  });

function hasScore(metrics: HorizonMetrics): boolean {
  return Object.values(metrics.mse ?? {}).some((v) => typeof v === 'number');
}

/** Why a parsed line is not a result (the first problem, with where it is), or null when it is one. */
export function resultProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `not a JSON object: ${String(JSON.stringify(value)).slice(0, 60)}`;
  const parsed = resultLine.safeParse(value);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}
