// `pnpm bench export DIR... [--format csv|parquet] [--out FILE] [--all]`: the results as one tidy table, the
// flattening every user would otherwise write before pandas or a spreadsheet. One row per (job, split, metric,
// horizon) of the ok jobs: the job's fields, its config flattened into `config.<key>` columns, its cost, backend
// and derived gains, then `split`, `metric`, `h` and `value`. Failed and unsupported jobs (one row each, with
// `status`, `phase` and `reason`) go to a second file beside it, FILE.failed.csv (or .parquet), or with --all
// into the same file with empty split, metric, h and value.
import { dirname } from 'node:path';
import { UserError } from '@worldbench/core';
import { stringify } from 'csv-stringify/sync';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { writeFileAtomic } from './atomic';
import { checkOutFolder } from './paths';
import { readRunsWithSkipped, type SkippedLines } from './report';
import { failureOf, type JobResult } from './result';
import { diskError } from './store';
import { withDerived } from './summarize';

export const EXPORT_FORMATS = ['csv', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

type Cell = string | number | boolean | null;
type Row = Record<string, Cell>;

/** The job-level columns, in order; `config.<key>` columns follow them, then the row's own. */
const JOB_COLUMNS = [
  'key',
  'model',
  'modelId',
  'scenario',
  'view',
  'protocol',
  'budget',
  'seed',
  'status',
  'evaluation.testEpisodes',
  'evaluation.oodEpisodes',
  'evaluation.horizon',
  'privileged',
  'cost.fitSeconds',
  'cost.forecastStepsPerSecond',
  'cost.params',
  'cost.peakMemoryMB',
  'cost.wallSeconds',
  'env.backend',
  'env.commit',
  'fingerprint',
  'finishedAt',
  'auc',
  'onPolicyGain',
  'onPolicyGainExplore',
  'onPolicyGainRandom',
  'selfForcingGain',
  'worlds',
  'tellWorld',
  'transferGain',
] as const;
const METRIC_COLUMNS = ['split', 'metric', 'h', 'value'] as const;
const FAILURE_COLUMNS = ['phase', 'reason'] as const;

/** A value as a cell: numbers, booleans and strings as they are; objects and arrays as JSON text. */
const asCell = (v: unknown): Cell =>
  v === undefined || v === null
    ? null
    : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string'
      ? v
      : JSON.stringify(v);

/** {a: 1, b: {c: 2}} -> { 'config.a': 1, 'config.b.c': 2 } */
function flatten(value: unknown, prefix: string, out: Row): Row {
  if (value && typeof value === 'object' && !Array.isArray(value))
    for (const [k, v] of Object.entries(value)) flatten(v, `${prefix}.${k}`, out);
  else out[prefix] = asCell(value);
  return out;
}

function jobCells(r: JobResult): Row {
  const row: Row = {
    key: r.key,
    model: r.model,
    modelId: r.modelId,
    scenario: r.scenario,
    view: r.view,
    protocol: r.protocol,
    budget: r.budget,
    seed: r.seed,
    status: r.status,
    'evaluation.testEpisodes': r.evaluation.testEpisodes,
    'evaluation.oodEpisodes': r.evaluation.oodEpisodes,
    'evaluation.horizon': r.evaluation.horizon,
    privileged: r.privileged ?? false,
    'cost.fitSeconds': r.cost?.fitSeconds ?? null,
    'cost.forecastStepsPerSecond': r.cost?.forecastStepsPerSecond ?? null,
    'cost.params': r.cost?.params ?? null,
    'cost.peakMemoryMB': r.cost?.peakMemoryMB ?? null,
    'cost.wallSeconds': r.cost?.wallSeconds ?? null,
    'env.backend': r.env?.backend ?? null,
    'env.commit': r.env?.commit ?? null,
    fingerprint: r.fingerprint,
    finishedAt: r.finishedAt ?? null,
    auc: r.auc ?? null,
    onPolicyGain: r.onPolicyGain ?? null,
    onPolicyGainExplore: r.onPolicyGainExplore ?? null,
    onPolicyGainRandom: r.onPolicyGainRandom ?? null,
    selfForcingGain: r.selfForcingGain ?? null,
    // generalist rows: the scenario set of the fit (JSON), whether the model was told the worlds, the gain
    worlds: asCell(r.worlds),
    tellWorld: r.tellWorld ?? null,
    transferGain: r.transferGain ?? null,
  };
  return flatten(r.config, 'config', row);
}

export interface ExportTable {
  columns: string[];
  rows: Row[];
}

/** The table: `results` must carry the derived fields (withDerived); `failures` selects the second file's rows. */
export function exportTable(results: readonly JobResult[], which: 'ok' | 'failures' | 'all'): ExportTable {
  const rows: Row[] = [];
  for (const r of results) {
    if (r.status === 'ok' && which !== 'failures') {
      const job = jobCells(r);
      for (const split of ['test', 'ood'] as const)
        for (const metric of Object.keys(r.metrics?.[split] ?? {}).sort())
          for (const [h, value] of Object.entries(r.metrics![split][metric]).sort(([a], [b]) => Number(a) - Number(b)))
            rows.push({ ...job, split, metric, h: Number(h), value });
    } else if (r.status !== 'ok' && which !== 'ok') {
      const f = failureOf(r);
      rows.push({ ...jobCells(r), phase: f?.phase ?? null, reason: f?.message ?? r.reason ?? null });
    }
  }
  const config = [...new Set(rows.flatMap((row) => Object.keys(row).filter((k) => k.startsWith('config.'))))].sort();
  const own =
    which === 'ok' ? METRIC_COLUMNS : which === 'failures' ? FAILURE_COLUMNS : [...METRIC_COLUMNS, ...FAILURE_COLUMNS];
  return { columns: [...JOB_COLUMNS, ...config, ...own], rows };
}

export function toCsv(table: ExportTable): string {
  return stringify(
    table.rows.map((row) => table.columns.map((c) => row[c] ?? null)),
    { header: true, columns: table.columns, cast: { boolean: (b) => String(b) } },
  );
}

/**
 * Parquet, a typed column each: DOUBLE where every value is a number (INT32 where every one is an integer that
 * fits), BOOLEAN where every one is a boolean, STRING otherwise (a config key that is a number for one model and
 * a string for another becomes text); null where a row has no value.
 */
export function toParquet(table: ExportTable): Uint8Array {
  const columnData = table.columns.map((name) => {
    const data = table.rows.map((row) => row[name] ?? null);
    const present = data.filter((v) => v !== null);
    if (present.length && present.every((v) => typeof v === 'number')) {
      const int = present.every((v) => Number.isInteger(v) && Math.abs(v as number) < 2 ** 31);
      return { name, data, type: int ? ('INT32' as const) : ('DOUBLE' as const) };
    }
    if (present.length && present.every((v) => typeof v === 'boolean')) return { name, data, type: 'BOOLEAN' as const };
    return { name, data: data.map((v) => (v === null ? null : String(v))), type: 'STRING' as const };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData, createdBy: 'worldbench export' }));
}

/** FILE.failed.csv beside FILE.csv (FILE.failed.parquet beside FILE.parquet). */
export const failuresFileOf = (file: string, format: ExportFormat) =>
  file.replace(new RegExp(`(\\.${format})?$`), `.failed.${format}`);

export interface ExportSummary {
  file: string;
  rows: number;
  /** The second file and its rows (null with --all). */
  failures: { file: string; rows: number } | null;
  jobs: { ok: number; other: number };
  skipped: SkippedLines[];
}

/**
 * Reads the run folders (newest line per job, as the report does) and writes the table(s), each whole or not at all.
 */
export function exportRuns(
  runDirs: readonly string[],
  file: string,
  options: { format: ExportFormat; all: boolean },
): ExportSummary {
  const read = readRunsWithSkipped(runDirs);
  const results = withDerived(read.results);
  if (!results.length) throw new UserError(`${runDirs.join(', ')}: no results yet; run pnpm bench --out DIR first`);
  checkOutFolder(dirname(file), '--out');
  const encode = (t: ExportTable) => (options.format === 'csv' ? toCsv(t) : toParquet(t));
  const main = exportTable(results, options.all ? 'all' : 'ok');
  const failures = options.all
    ? null
    : { file: failuresFileOf(file, options.format), table: exportTable(results, 'failures') };
  try {
    writeFileAtomic(file, encode(main));
    if (failures) writeFileAtomic(failures.file, encode(failures.table));
  } catch (err) {
    throw diskError(err, file);
  }
  const ok = results.filter((r) => r.status === 'ok').length;
  return {
    file,
    rows: main.rows.length,
    failures: failures && { file: failures.file, rows: failures.table.rows.length },
    jobs: { ok, other: results.length - ok },
    skipped: read.skipped,
  };
}
