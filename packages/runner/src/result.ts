// One line of results.jsonl: the shape other tools read (docs/metrics.md). Keep it stable.
import type { HorizonMetrics } from '@worldbench/core';
import { z } from 'zod';
import type { RunEnv } from './env';
import type { LiveResult } from './protocols';
import type { StatePlaneHistogram } from './state-plane';
import { PROTOCOLS, type Job } from './jobs';

export type JobStatus = 'ok' | 'failed' | 'unsupported';

/**
 * The format of a results line. 1 (a line without `format`): `error` is the message alone. 2: `error` is a
 * JobFailure. Readers take both (`failureOf`); a writer writes the newest.
 */
export const RESULTS_FORMAT = 2;

/**
 * What a job was doing: the runner's stages (load the plug-ins, create the model, make the data, train, score
 * the forecasts, stream the live protocol) and, inside them, the model's own methods (fit, act, forecast,
 * update, explain). A failure is recorded under the innermost one; `start` is a worker process that died
 * before it said anything.
 */
export const JOB_PHASES = [
  'start',
  'load',
  'create',
  'data',
  'fit',
  'on-policy',
  'act',
  'forecast',
  'live',
  'update',
  'explain',
] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

/** Why a job failed: the message, the phase it failed in, and the stack of the error thrown (when one was). */
export interface JobFailure {
  message: string;
  phase: JobPhase;
  stack?: string;
}

export interface JobResult extends Job {
  /** RESULTS_FORMAT of the writer; absent in lines of format 1. */
  format?: number;
  key: string;
  /** Fingerprint of the code the job imported. */
  fingerprint: string;
  status: JobStatus;
  /** Why a job failed (status "failed"): a JobFailure; a string in lines of format 1 (read them with failureOf). */
  error?: JobFailure | string;
  /** Why a model does not read this view (status "unsupported"). */
  reason?: string;
  /** The model read something the others are not told (a scenario's hypotheses). */
  privileged: boolean;
  metrics: { test: HorizonMetrics; ood: HorizonMetrics } | null;
  /** wallSeconds: the whole job, worker start to result (recorded by the parent; absent in older lines). */
  cost: {
    fitSeconds: number;
    forecastStepsPerSecond: number;
    params: number;
    peakMemoryMB: number;
    wallSeconds?: number;
  } | null;
  env: RunEnv;
  explain?: Record<string, unknown>;
  /** live protocol: the stream's moving skill, shifts, dips and recovery. */
  live?: LiveResult;
  /** Image views: PNG data URIs of true (top row) and forecast (bottom row) frames of the first test windows. */
  filmstrip?: string[];
  /** Where the training data lies on the scenario's state plane (state-plane.ts); absent without a plane, and in lines
   * written before it was recorded. */
  statePlane?: StatePlaneHistogram;
  /** Derived when results are read together (summarize.ts): on-policy gains in skill at h = 1, selfForcingGain, auc. */
  onPolicyGain?: number | null;
  onPolicyGainExplore?: number | null;
  onPolicyGainRandom?: number | null;
  /** Generalist rows: skill at h = 1 minus the specialist's (offline, same model, config, budget, seed). */
  transferGain?: number | null;
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

const planeAxis = z.looseObject({ label: z.string(), lo: z.number(), hi: z.number() }).refine((a) => a.lo < a.hi, {
  message: 'an axis needs lo < hi',
});
const statePlaneHistogram = z
  .looseObject({
    view: z.string(),
    x: planeAxis,
    y: planeAxis,
    bins: z.number().int().positive().max(256),
    counts: z.array(z.number().int().nonnegative()),
    outside: z.number().int().nonnegative(),
  })
  .refine((h) => h.counts.length === h.bins * h.bins, { message: 'counts must hold bins * bins entries' });

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
    // a line of a newer format may have changed a field's shape: read as this format, it would be misread
    format: z
      .number()
      .int()
      .positive()
      .max(RESULTS_FORMAT, {
        message:
          `a line of a newer results format than this checkout reads (it ` +
          `reads up to ${RESULTS_FORMAT}): update worldbench to read it`,
      })
      .optional(),
    // format 1: the message; format 2: { message, phase, stack }. A phase this reader does not know is kept as text.
    error: z
      .union([z.string(), z.looseObject({ message: z.string(), phase: z.string(), stack: z.string().optional() })])
      .optional(),
    reason: z.string().optional(),
    metrics: z.looseObject({ test: horizonMetrics, ood: horizonMetrics }).nullable(),
    cost: z
      .looseObject({
        fitSeconds: z.number(),
        forecastStepsPerSecond: z.number(),
        params: z.number(),
        peakMemoryMB: z.number(),
      })
      .partial()
      .nullable(),
    env: z
      .looseObject({
        backend: z.string(),
        ort: z.string().nullable(),
        node: z.string(),
        cpu: z.string(),
        commit: z.string().nullable(),
      })
      .partial()
      .optional(),
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
    statePlane: statePlaneHistogram.optional(),
    onPolicyGain: numberOrNull.optional(),
    onPolicyGainExplore: numberOrNull.optional(),
    onPolicyGainRandom: numberOrNull.optional(),
    transferGain: numberOrNull.optional(),
    worlds: z.array(z.string()).optional(),
    tellWorld: z.boolean().optional(),
    selfForcingGain: numberOrNull.optional(),
    auc: numberOrNull.optional(),
    finishedAt: z.string().optional(),
  })
  .refine((r) => r.status !== 'ok' || (r.metrics !== null && hasScore(r.metrics.test) && hasScore(r.metrics.ood)), {
    message:
      'an ok result needs metrics with a number for mse on test and ood (all null: its forecast was never scored)',
  });

function hasScore(metrics: HorizonMetrics): boolean {
  return Object.values(metrics.mse ?? {}).some((v) => typeof v === 'number');
}

/** Why a parsed line is not a result (the first problem, with where it is), or null when it is one. */
export function resultProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `not a JSON object: ${String(JSON.stringify(value)).slice(0, 60)}`;
  const parsed = resultLine.safeParse(value);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

/** The failure of a failed line, whatever its format (a format-1 line only has the message: its phase is unknown). */
export function failureOf(
  r: Pick<JobResult, 'error'>,
): { message: string; phase: string | null; stack: string | null } | null {
  if (r.error === undefined) return null;
  if (typeof r.error === 'string') return { message: r.error, phase: null, stack: null };
  return { message: r.error.message, phase: r.error.phase, stack: r.error.stack ?? null };
}

/** "fit: Cannot read properties of undefined (reading 'shape')": a failure in one line. */
export function describeFailure(r: Pick<JobResult, 'error'>): string {
  const f = failureOf(r);
  if (!f) return 'failed (no reason recorded)';
  return f.phase ? `in ${f.phase}: ${f.message}` : f.message;
}

/** At most this much of a stack is kept in a results line: the frames that say where, not a megabyte of them. */
const STACK_LINES = 40;

/** The failure of an error thrown in `phase`: its message and, for an Error, its stack (cut to STACK_LINES lines). */
export function failureFrom(err: unknown, phase: JobPhase): JobFailure {
  const message = err instanceof Error ? err.message : String(err);
  const stack =
    err instanceof Error && typeof err.stack === 'string'
      ? err.stack.split('\n').slice(0, STACK_LINES).join('\n')
      : undefined;
  return stack ? { message, phase, stack } : { message, phase };
}
