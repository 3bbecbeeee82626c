// A unit of work of the sweep: one job, or one generalist fit with all its rows (PlannedJob.fitRows).
import type { RunContext } from '@worldbench/core';
import { runGeneralistFit } from './generalist';
import type { JobPhase, JobResult } from './result';
import { runJob, type PlannedJob } from './run-job';

/** Runs a unit: its lines, one per row (a job's one line, or a generalist fit's line per world). */
export async function runUnit(
  planned: PlannedJob,
  root: string,
  run: RunContext,
  onPhase: (phase: JobPhase) => void = () => {},
): Promise<JobResult[]> {
  return planned.fitRows
    ? runGeneralistFit(planned.fitRows, root, run, onPhase)
    : [await runJob(planned, root, run, onPhase)];
}
