// `pnpm bench report <run-dir>`: a self-contained HTML report of a run (opens with no network). Plots are
// Vega-Lite specs compiled and rendered to SVG here, at report time; filmstrips are PNG data URIs the runner
// stored with each image-view result.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { learningCurveAuc, meanAndStandardError, UserError } from '@worldbench/core';
import { describeCoverage, runCoverage, type RunCoverage } from './coverage';
import { canonicalJson, protocolLabel } from './jobs';
import { leaderboard } from './leaderboard';
import { FULL_BUDGETS } from './plan';
import { failureOf, PNG_DATA_URI, type JobResult } from './result';
import { formatInterval, interval95 } from './intervals';
import { clip, readableRange, type ReadableRange } from './readable-range';
import { checkCompare, compareCell, headlineMetrics } from './table';
import { writeFileAtomic } from './atomic';
import { diskError, readResultLines, RESULTS_FILE } from './store';
import { withDerived } from './summarize';
import { esc, groupBy, num, svg } from './report-html';
import { GAIN_FIELDS, onPolicyGainsSection, statePlaneSection } from './on-policy-report';
import { transferMarkdown, transferRows, type TransferRow } from './transfer';

type Row = Record<string, unknown>;

/** What makes two results the same job, whatever code ran it. */
function jobIdentity(r: JobResult): string {
  const { modelId, config, scenario, view, protocol, budget, seed, evaluation, worlds, tellWorld } = r;
  return canonicalJson({
    modelId,
    config,
    scenario,
    view,
    protocol,
    budget,
    seed,
    evaluation,
    ...(worlds ? { worlds, tellWorld } : {}),
  });
}

/** Lines of a run folder's results file that are not results (store.ts, rule 3): skipped, and said. */
export interface SkippedLines {
  file: string;
  lines: number;
  /** The first one's problem. */
  problem: string;
}

/**
 * The results of a run folder: per job (model, config, scenario, view, protocol, budget, seed, evaluation), the
 * newest line. A job rerun after its code changed has a new key (the key holds the code's fingerprint); its old
 * result is superseded, not shown beside the new one. The file is read by the store's rules, never changed:
 * a torn last line and lines that are not results are skipped (the next run into the folder deals with them).
 */
function readRun(runDir: string): { results: JobResult[]; skipped: SkippedLines | null } {
  const file = join(runDir, RESULTS_FILE);
  if (!existsSync(file))
    throw new UserError(`no results in ${runDir} (no results.jsonl); give the --out folder of a pnpm bench run`);
  const read = readResultLines(file);
  const byJob = new Map<string, JobResult>();
  for (const r of read.results) byJob.set(jobIdentity(r), r);
  const skipped = read.rejected.length
    ? { file, lines: read.rejected.length, problem: read.rejected[0].problem }
    : null;
  return { results: [...byJob.values()], skipped };
}

export const readResults = (runDir: string): JobResult[] => readRun(runDir).results;

/** mean ± standard error [95% interval] over seeds (docs/metrics.md). */
const stat = (values: ReadonlyArray<number | null | undefined>, digits = 3) =>
  formatInterval(interval95(values), digits);

const skillAt = (r: JobResult, h: number | string, split: 'test' | 'ood' = 'test') =>
  r.metrics?.[split].skill?.[String(h)] ?? null;

function summaryTable(rs: JobResult[], compare: string | null): string {
  const H = Math.max(...rs.map((r) => r.evaluation.horizon));
  // accStep and accElement (int/token views), psnr (images)
  const metrics = headlineMetrics(rs).filter((m) => m !== 'mse');
  // persistence (the reference) first, oracles (privileged rows) last
  const rows = groupBy(rs, (r) => {
    const rank = r.model === 'persistence' ? 0 : r.privileged ? 2 : 1;
    return `${rank}\0${r.model}\0${protocolLabel(r)}\0${String(r.budget).padStart(8, '0')}`;
  });
  // runs with on-policy jobs: the gains against offline-explore and the random-action control too
  const onPolicy = rs.some((r) => r.protocol === 'on-policy');
  const byRow = new Map([...rows.values()].map((g) => [`${g[0].model}\0${protocolLabel(g[0])}\0${g[0].budget}`, g]));
  const body = [...rows.values()].map((group) => {
    const ok = group.filter((r) => r.status === 'ok');
    const r0 = group[0];
    const extra = (name: string) => stat(ok.map((r) => (r as unknown as Record<string, number | null>)[name] ?? null));
    const at = (name: string, h: number) => ok.map((r) => r.metrics?.test[name]?.[String(h)]);
    const reference = compare === null ? undefined : byRow.get(`${compare}\0${protocolLabel(r0)}\0${r0.budget}`);
    const compared =
      compare === null
        ? ''
        : [1, H].map((h) => `<td>${esc(compareCell(group, reference, h, r0.model === compare))}</td>`).join('');
    return (
      `<tr><td>` +
      `${esc(r0.model)}${group.some((r) => r.privileged) ? ' * oracle' : ''}</td><td>` +
      `${esc(protocolLabel(r0))}</td><td>${num(r0.budget)}</td><td>${ok.length}/${group.length}</td>` +
      `<td>` +
      `${stat(at('skill', 1))}</td><td>` +
      `${stat(at('skill', H))}</td>` +
      `${metrics.map((m) => `<td>${stat(at(m, 1), m === 'psnr' ? 2 : 3)}</td>`).join('')}` +
      `<td>${stat(ok.map((r) => skillAt(r, 1, 'ood')))}</td><td>${extra('onPolicyGain')}</td>` +
      `${onPolicy ? `<td>${extra('onPolicyGainExplore')}</td><td>${extra('onPolicyGainRandom')}</td>` : ''}<td>${stat(
        ok.map((r) => r.cost?.fitSeconds),
        2,
      )}</td>${compared}</tr>`
    );
  });
  const compareHead =
    compare === null ? '' : `<th>vs ${esc(compare)} h=1 [95%]</th><th>vs ${esc(compare)} h=${num(H)} [95%]</th>`;
  return (
    `<table><thead><tr><th>model</th><th>protocol</th><th>budget</th><th>seeds ok</th><th>skill ` +
    `h=1</th><th>skill h=${num(H)}</th>${metrics.map((m) => `<th>${esc(m)} h=1</th>`).join('')}<th>ood skill ` +
    `h=1</th>${
      onPolicy
        ? '<th>on-policy gain vs offline</th><th>vs offline-explore</th><th>vs on-policy-random</th>'
        : '<th>on-policy gain</th>'
    }<th>fit s</th>${compareHead}</tr></thead><tbody>${body.join('')}</tbody></table>`
  );
}

/** auc over the full grid per (model, protocol, seed), averaged over seeds; n/a where a budget is missing. */
function aucTable(rs: JobResult[]): string {
  const rows = groupBy(
    rs.filter((r) => r.status === 'ok'),
    (r) => `${r.model}\0${protocolLabel(r)}`,
  );
  const body = [...rows.values()].map((group) => {
    const perSeed = groupBy(group, (r) => String(r.seed));
    const aucs = [...perSeed.values()].map((g) =>
      learningCurveAuc(
        g.map((r) => ({ budget: r.budget as number, skill: skillAt(r, 1) })),
        FULL_BUDGETS,
      ),
    );
    const smallest = [...new Set(group.map((r) => r.budget as number))]
      .sort((a, b) => a - b)
      .find(
        (b) => (meanAndStandardError(group.filter((r) => r.budget === b).map((r) => skillAt(r, 1)))?.mean ?? -1) >= 0.9,
      );
    return (
      `<tr><td>` +
      `${esc(group[0].model)}</td><td>` +
      `${esc(protocolLabel(group[0]))}</td><td>` +
      `${stat(aucs)}</td><td>${smallest === undefined ? 'none' : num(smallest)}</td></tr>`
    );
  });
  return (
    `<table><thead><tr><th>model</th><th>protocol</th><th>auc (full grid)</th><th>smallest budget with skill ` +
    `h=1 >= 0.9</th></tr></thead><tbody>${body.join('')}</tbody></table>`
  );
}

/**
 * Points of a skill plot, each with its 95% interval, inside a readable range (readable-range.ts): a point
 * beyond it is drawn at the edge as a triangle, labelled with its true value; intervals are cut at the edge.
 */
function clippedPoints(points: Array<Row & { values: Array<number | null> }>): {
  data: Row[];
  range: ReadableRange | null;
} {
  const stats = points.map((p) => interval95(p.values));
  const range = readableRange(stats.flatMap((s) => [s?.mean, s?.lo, s?.hi]));
  const data = points.map(({ values: _v, ...p }, i) => {
    const s = stats[i];
    if (!s || !range) return { ...p, skill: null };
    const { shown, clipped } = clip(s.mean, range);
    const edge = (x: number | null) => (x === null ? shown : clip(x, range).shown);
    return { ...p, skill: shown, lo: edge(s.lo), hi: edge(s.hi), clipped, actual: clipped ? s.mean.toFixed(1) : '' };
  });
  return { data, range };
}

/**
 * The layers of a skill plot over `x`: lines with points, 95% intervals, and clipped points marked with their value.
 */
function skillLayers(yTitle: string, range: ReadableRange | null): object[] {
  const y = {
    field: 'skill',
    type: 'quantitative',
    title: yTitle,
    ...(range ? { scale: { domain: [range.lo, range.hi], clamp: true, nice: false } } : {}),
  };
  return [
    { mark: { type: 'line', point: true }, encoding: { y, strokeDash: { field: 'protocol', type: 'nominal' } } },
    {
      mark: 'rule',
      encoding: {
        y: {
          field: 'lo',
          type: 'quantitative',
          ...(range ? { scale: { domain: [range.lo, range.hi], clamp: true, nice: false } } : {}),
        },
        y2: { field: 'hi' },
      },
    },
    {
      transform: [{ filter: 'datum.clipped' }],
      mark: { type: 'point', shape: 'triangle-down', size: 90, filled: true },
      encoding: { y },
    },
    {
      transform: [{ filter: 'datum.clipped' }],
      mark: { type: 'text', dx: 14, align: 'left', fontSize: 10 },
      encoding: { y, text: { field: 'actual' } },
    },
  ];
}

/** A 420 x 240 plot of `values` along the axis `x`, a colour per model, drawn by `layer`. */
function curvePlot(title: string, x: object, values: Row[], layer: object[]): Promise<string> {
  return svg({
    title,
    width: 420,
    height: 240,
    data: { values },
    encoding: { x, color: { field: 'model', type: 'nominal' } },
    layer,
  });
}

/** The x axis of training budgets (log2 scale), titled `title`. */
function budgetAxis(title: string): object {
  return { field: 'budget', type: 'quantitative', scale: { type: 'log', base: 2 }, title };
}

async function learningCurve(rs: JobResult[]): Promise<string | null> {
  const ok = rs.filter((r) => r.status === 'ok' && typeof r.budget === 'number');
  if (new Set(ok.map((r) => r.budget)).size < 2) return null;
  const { data, range } = clippedPoints(
    [...groupBy(ok, (r) => `${r.model}\0${protocolLabel(r)}\0${r.budget}`).values()].map((g) => ({
      model: g[0].model,
      protocol: protocolLabel(g[0]),
      budget: g[0].budget,
      values: g.map((r) => skillAt(r, 1)),
    })),
  );
  const clipped = data.some((d) => d.clipped);
  return curvePlot(
    `skill at h = 1 against training budget (95% intervals${clipped ? '; ▼ beyond the axis, with its value' : ''})`,
    budgetAxis('budget (transitions)'),
    data,
    skillLayers('skill h=1', range),
  );
}

async function horizonCurve(rs: JobResult[]): Promise<string | null> {
  const ok = rs.filter((r) => r.status === 'ok');
  if (!ok.length) return null;
  const largest = Math.max(...ok.map((r) => (typeof r.budget === 'number' ? r.budget : 0)));
  const points: Array<Row & { values: Array<number | null> }> = [];
  for (const g of groupBy(
    ok.filter((r) => (r.budget ?? 0) === largest || r.budget === null),
    (r) => `${r.model}\0${protocolLabel(r)}`,
  ).values())
    for (const h of Object.keys(g[0].metrics!.test.skill))
      points.push({
        model: g[0].model,
        protocol: protocolLabel(g[0]),
        h: Number(h),
        values: g.map((r) => skillAt(r, h)),
      });
  const { data, range } = clippedPoints(points);
  const clipped = data.some((d) => d.clipped);
  return curvePlot(
    `skill against forecast horizon ` +
      `(budget ${largest ? num(largest) : 'n/a'}; 95% intervals${clipped ? '; ▼ beyond the axis' : ''})`,
    { field: 'h', type: 'quantitative', title: 'h (steps ahead)' },
    data,
    skillLayers('skill', range),
  );
}

async function onPolicyChart(rs: JobResult[]): Promise<string | null> {
  const data: Row[] = [];
  for (const g of groupBy(
    rs.filter((r) => r.status === 'ok'),
    (r) => `${r.model}\0${r.budget}`,
  ).values())
    for (const [field, against] of GAIN_FIELDS) {
      const s = interval95(g.map((r) => r[field] ?? null));
      if (s)
        data.push({
          model: g[0].model,
          budget: String(g[0].budget),
          against,
          gain: s.mean,
          lo: s.lo ?? s.mean,
          hi: s.hi ?? s.mean,
        });
    }
  if (!data.length) return null;
  return svg({
    title: 'on-policy gain in skill at h = 1 (paired by seed; 95% intervals)',
    width: 420,
    height: 200,
    data: { values: data },
    encoding: {
      y: { field: 'model', type: 'nominal' },
      yOffset: { field: 'against' },
      color: { field: 'against', type: 'nominal' },
    },
    layer: [
      { mark: 'bar', encoding: { x: { field: 'gain', type: 'quantitative' } } },
      {
        mark: { type: 'rule', color: 'black' },
        encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } },
      },
    ],
  });
}

async function liveCharts(rs: JobResult[]): Promise<string[]> {
  const out: string[] = [];
  const live = rs.filter((r) => r.status === 'ok' && (r as unknown as { live?: unknown }).live);
  for (const g of groupBy(live, (r) => String(r.seed)).values()) {
    const data: Row[] = [],
      shifts: Row[] = [];
    for (const r of g) {
      const l = (r as unknown as { live: { movingSkill: Array<number | null>; shifts: number[] } }).live;
      l.movingSkill.forEach((s, t) => data.push({ model: r.model, step: t, skill: s }));
      if (!shifts.length) l.shifts.forEach((t) => shifts.push({ step: t }));
    }
    out.push(
      await svg({
        title: `live stream, seed ${num(g[0].seed)}: 16-step moving skill (shifts in red)`,
        width: 560,
        height: 200,
        layer: [
          {
            data: { values: data },
            mark: 'line',
            encoding: {
              x: { field: 'step', type: 'quantitative' },
              y: { field: 'skill', type: 'quantitative', scale: { domainMin: -1, clamp: true } },
              color: { field: 'model', type: 'nominal' },
            },
          },
          {
            data: { values: shifts.length ? shifts : [{ step: -1 }] },
            mark: { type: 'rule', color: 'red', strokeDash: [4, 2] },
            encoding: { x: { field: 'step', type: 'quantitative' } },
          },
        ],
      }),
    );
  }
  return out;
}

function filmstrips(rs: JobResult[]): string {
  const frames = (r: JobResult) =>
    (r.filmstrip ?? []).filter((uri) => typeof uri === 'string' && PNG_DATA_URI.test(uri));
  const withStrips = rs.filter((r) => r.status === 'ok' && frames(r).length);
  if (!withStrips.length) return '';
  const shown = [...groupBy(withStrips, (r) => r.model).values()].map(
    (g) => g.sort((a, b) => (b.budget ?? 0) - (a.budget ?? 0))[0],
  );
  const figure = (r: JobResult) =>
    `<figure><figcaption>` +
    `${esc(r.model)}, ${esc(protocolLabel(r))}, budget ${num(r.budget)}, seed ${num(r.seed)}</figcaption>` +
    frames(r)
      .map((uri) => `<img class="strip" alt="filmstrip of ${esc(r.model)}" src="${esc(uri)}">`)
      .join('') +
    '</figure>';
  return `<h3>filmstrips: true (top) and predicted (bottom) frames, h = 1, 2, ...</h3>` + shown.map(figure).join('');
}

/** The whole report as one HTML string. */
/**
 * The first `RIVALS + 1` hypotheses of an explain().ranked list, as far as they are well formed (the file is
 * untrusted).
 */
const RIVALS = 4;
function rankedLaws(
  explain: unknown,
): Array<{ id: string; posterior: number | null; logEvidence: number | null; statement: string }> {
  const ranked = (explain as { ranked?: unknown } | undefined)?.ranked;
  if (!Array.isArray(ranked)) return [];
  const number = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  return ranked.slice(0, RIVALS + 1).flatMap((w) =>
    w && typeof w === 'object' && typeof (w as Row).id === 'string'
      ? [
          {
            id: (w as Row).id as string,
            posterior: number((w as Row).posterior),
            logEvidence: number((w as Row).logEvidence),
            statement: String((w as Row).statement ?? ''),
          },
        ]
      : [],
  );
}

/**
 * The laws a model found, where its explain() ranks hypotheses (possible-worlds): per model, from its offline job
 * at the largest budget (lowest seed), the selected law with its evidence and the next RIVALS, as the model wrote them.
 */
function lawsFound(rs: JobResult[]): string {
  const byModel = groupBy(
    rs.filter((r) => r.status === 'ok' && r.protocol === 'offline' && rankedLaws(r.explain).length),
    (r) => r.model,
  );
  return [...byModel.values()]
    .map((group) => {
      const r = group.reduce((a, b) =>
        (b.budget ?? 0) > (a.budget ?? 0) || ((b.budget ?? 0) === (a.budget ?? 0) && b.seed < a.seed) ? b : a,
      );
      const rows = rankedLaws(r.explain).map(
        (w, i) =>
          `<tr><td>` +
          `${i + 1}</td><td>` +
          `${esc(w.id)}</td><td>` +
          `${w.posterior === null ? 'n/a' : w.posterior.toPrecision(3)}</td><td>` +
          `${w.logEvidence === null ? 'n/a' : w.logEvidence.toFixed(1)}</td><td ` +
          `class="law">${esc(w.statement)}</td></tr>`,
      );
      return (
        `<h3>Laws ` +
        `found by ${esc(r.model)}${r.privileged ? ' * oracle' : ''} (offline, ` +
        `budget ${num(r.budget)}, seed ${num(r.seed)})</h3><table ` +
        `class="laws"><thead><tr><th>rank</th><th>hypothesis</th><th>posterior</th><th>log ` +
        `evidence</th><th>law</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
      );
    })
    .join('');
}

/** The report's stylesheet (two lines, as the page has always carried it). */
const REPORT_STYLE =
  'body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}' +
  'td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\n' +
  'td:first-child,th:first-child,td:nth-child(2){text-align:left}' +
  'td.law{text-align:left;font-family:monospace;font-size:90%}.plots{display:flex;flex-wrap:wrap;gap:1em}' +
  '.strip{image-rendering:pixelated;width:512px;display:block;margin:4px 0}';

/** A failed job: its phase and message, and its stack folded (results lines of format 1 have the message only). */
function failedItem(r: JobResult): string {
  const f = failureOf(r);
  const what = f ? `${f.phase ? `in ${esc(f.phase)}: ` : ''}${esc(f.message)}` : 'no reason recorded';
  const stack = f?.stack ? `<details><summary>stack</summary><pre>${esc(f.stack)}</pre></details>` : '';
  return (
    `<li>` +
    `${esc(r.model)} ${esc(r.scenario)}/${esc(r.view)} ${esc(protocolLabel(r))} b=` +
    `${num(r.budget)} seed=${num(r.seed)}: ${what}${stack}</li>`
  );
}

export interface ReportOptions {
  /** --compare: the model label every row is compared with (paired by seed). */
  compare?: string | null;
  /**
   * How the report names each run folder (default: its path): the CLI gives the paths as the user typed them, so that
   * a report of committed results names no folder of the machine it was written on, and reads the same anywhere.
   */
  names?: readonly string[];
}

/**
 * Generalist vs specialists: per (model, view) a table of the transfer gain on each world, its mean and the cost, and
 * a plot of the mean transfer gain against budget (95% intervals). Empty without generalist rows.
 */
async function transferSection(rows: readonly TransferRow[]): Promise<string> {
  if (!rows.length) return '';
  const tables = [...groupBy([...rows], (r) => `${r.model} / ${r.view}`)].map(([title, rs]) => {
    const worlds = [...new Set(rs.flatMap((r) => r.worlds.map((w) => w.scenario)))].sort();
    const head = ['protocol', 'budget', ...worlds, 'mean', 'fit s', 'specialists fit s'];
    const body = rs.map(
      (r) =>
        `<tr><td>${esc(r.protocol)}</td><td>${num(r.budget)}</td>` +
        worlds
          .map((w) => `<td>${esc(formatInterval(r.worlds.find((x) => x.scenario === w)?.gain ?? null))}</td>`)
          .join('') +
        `<td>${esc(formatInterval(r.mean))}</td><td>${esc(r.fitSeconds?.toFixed(2) ?? 'n/a')}</td>` +
        `<td>${esc(r.specialistFitSeconds?.toFixed(2) ?? 'n/a')}</td></tr>`,
    );
    return (
      `<h3>${esc(title)}</h3><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` +
      `<tbody>${body.join('')}</tbody></table>`
    );
  });
  const data = rows
    .filter((r) => r.mean)
    .map((r) => ({
      model: r.model,
      protocol: r.protocol,
      budget: r.budget,
      gain: r.mean!.mean,
      lo: r.mean!.lo ?? r.mean!.mean,
      hi: r.mean!.hi ?? r.mean!.mean,
    }));
  const plot =
    new Set(data.map((d) => d.budget)).size > 1
      ? await curvePlot(
          'transfer gain (mean over worlds) against budget (95% intervals)',
          budgetAxis('budget (each world)'),
          data,
          [
            {
              mark: { type: 'line', point: true },
              encoding: {
                y: { field: 'gain', type: 'quantitative', title: 'transfer gain' },
                strokeDash: { field: 'protocol', type: 'nominal' },
              },
            },
            { mark: 'rule', encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
          ],
        )
      : '';
  return (
    `<section><h2>generalist vs specialists</h2><p>Transfer gain: the generalist's skill at h = 1 minus its ` +
    `specialist's (offline: the same expert data, model, config, budget and seed), paired by seed; mean ± SE [95% ` +
    `interval]; "mean" averages the worlds per seed. fit s: the one generalist fit against the sum of the ` +
    `specialists' fits of the same seed (medians over seeds).</p>${tables.join('')}` +
    `${plot ? `<div class="plots"><div class="plot">${plot}</div></div>` : ''}</section>`
  );
}

export async function renderReport(
  results: JobResult[],
  title: string,
  runs: readonly RunCoverage[] = [],
  options: ReportOptions = {},
): Promise<string> {
  const sections: string[] = [];
  const compare = options.compare ?? null;
  for (const [key, rs] of groupBy(results, (r) => `${r.scenario} / ${r.view}`)) {
    const plots = [
      await learningCurve(rs),
      await horizonCurve(rs),
      await onPolicyChart(rs),
      ...(await liveCharts(rs)),
    ].filter((p): p is string => !!p);
    sections.push(
      `<section><h2>` +
        `${esc(key)}</h2>` +
        `${summaryTable(rs, compare)}${aucTable(rs)}<div class="plots">` +
        `${plots
          .map((p) => `<div class="plot">` + `${p}</div>`)
          .join('')}</div>${await statePlaneSection(rs)}${lawsFound(rs)}${filmstrips(rs)}</section>`,
    );
  }
  const gains = onPolicyGainsSection(results);
  if (gains) sections.push(gains);
  sections.push(await transferSection(transferRows(results)));
  const failed = results.filter((r) => r.status === 'failed');
  const env = results.find((r) => r.env)?.env;
  const vs =
    compare === null
      ? ''
      : ` "vs ${esc(compare)}": each row's skill minus ${esc(compare)}'s, paired by seed, mean [95% interval]; ` +
        'an interval holding 0 does not tell them apart.';
  const oracle = results.some((r) => r.privileged)
    ? "* oracle: privileged, told the scenario's candidate laws, which no other model is told " +
      "(a ceiling, not a school's entry); listed last."
    : '';
  const runList = runs.map((c) => `<li>${describeCoverage(c, (s) => `<code>${esc(s)}</code>`, esc)}</li>`).join('');
  const commits = [...new Set(results.map((r) => r.env?.commit ?? 'unknown'))].map(esc).join(', ');
  return [
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>`,
    REPORT_STYLE,
    `</style></head><body><h1>${esc(title)}</h1>`,
    `<p>${results.length} jobs (${failed.length} failed). Skill is 1 - pooled error / persistence's pooled error ` +
      "(0: no better than copying the last observation; 1: perfect); mean ± standard error [95% interval, Student's " +
      `t] over seeds; definitions in docs/metrics.md.${vs} ${oracle}</p>`,
    runs.length
      ? `<p>Runs: how many of the jobs each folder's command planned are done.</p><ul class="runs">${runList}</ul>`
      : '',
    env ? `<p>node ${esc(env.node)}, ${esc(env.cpu)}, commit ${commits}</p>` : '',
    sections.join('\n'),
    failed.length ? `<h2>failed jobs</h2><ul>${failed.map(failedItem).join('')}</ul>` : '',
    '</body></html>',
  ].join('\n');
}

/**
 * The results of several run folders (e.g. a full-grid sweep of the cheap models and a smaller one of the
 * neural ones): per job, the result that finished last; and the lines each folder skipped.
 */
function readRunsWithSkipped(runDirs: readonly string[]): { results: JobResult[]; skipped: SkippedLines[] } {
  const byJob = new Map<string, JobResult>();
  const skipped: SkippedLines[] = [];
  for (const dir of runDirs) {
    const run = readRun(dir);
    if (run.skipped) skipped.push(run.skipped);
    for (const r of run.results) {
      const id = jobIdentity(r);
      const seen = byJob.get(id);
      if (!seen || (r.finishedAt ?? '') >= (seen.finishedAt ?? '')) byJob.set(id, r);
    }
  }
  return { results: [...byJob.values()], skipped };
}

export const readRuns = (runDirs: readonly string[]): JobResult[] => readRunsWithSkipped(runDirs).results;
export { readRunsWithSkipped };

/**
 * Writes outDir/report.html and outDir/leaderboard.md for the runs in runDirs (each file to a temporary file
 * first, then renamed: never half-written); returns the report's path and the lines skipped as not results.
 */
export async function writeReport(
  runDirs: readonly string[],
  outDir: string,
  options: ReportOptions = {},
): Promise<{ file: string; skipped: SkippedLines[] }> {
  const read = readRunsWithSkipped(runDirs);
  const results = withDerived(read.results);
  if (!results.length) throw new UserError(`${runDirs.join(', ')}: no results yet; run pnpm bench --out DIR first`);
  const compare = options.compare
    ? checkCompare(
        options.compare,
        results.map((r) => r.model),
      )
    : null;
  const names = options.names ?? runDirs;
  const runs = runDirs.map((dir, i) => ({ ...runCoverage(dir), dir: names[i] }));
  const html = await renderReport(results, `worldbench report: ${names.join(' + ')}`, runs, { compare });
  const file = join(outDir, 'report.html');
  const transfer = transferMarkdown(transferRows(results));
  try {
    mkdirSync(outDir, { recursive: true });
    writeFileAtomic(file, html);
    const runLines = runs.map((c) => `- ${describeCoverage(c)}`).join('\n');
    writeFileAtomic(
      join(outDir, 'leaderboard.md'),
      `Runs (how many of the jobs each folder's command planned are done):\n\n${runLines}\n\n${leaderboard(results)}` +
        (transfer ? `\n\n${transfer}\n` : ''),
    );
  } catch (err) {
    throw diskError(err, `the report into ${outDir}`);
  }
  return { file, skipped: read.skipped };
}
