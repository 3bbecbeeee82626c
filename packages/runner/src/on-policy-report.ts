// The report's view of the on-policy question (docs/protocols.md): the gains of every model on every scenario it was
// run on-policy, with the reason where there is none, and where each protocol's training data lies on the scenario's
// state plane (state-plane.ts): what a model chose to see, beside the expert's and the random actions' data.
import { formatInterval, interval95 } from './intervals';
import { protocolLabel, type Protocol } from './jobs';
import { describeFailure, type JobResult } from './result';
import { esc, groupBy, num, svg } from './report-html';
import type { StatePlaneHistogram } from './state-plane';

/** The on-policy gains, each against the protocol it is paired with (summarize.ts withDerived). */
export const GAIN_FIELDS = [
  ['onPolicyGain', 'offline'],
  ['onPolicyGainExplore', 'offline-explore'],
  ['onPolicyGainRandom', 'on-policy-random'],
] as const;

const gainOf = (r: JobResult, field: (typeof GAIN_FIELDS)[number][0]) => r[field] ?? null;

/** Why a row has no on-policy result: the model could not run it (no act(), a world without actions), or it failed. */
function noOnPolicy(onPolicy: readonly JobResult[]): string {
  const r = onPolicy[0];
  return r.status === 'unsupported' ? `n/a: ${r.reason ?? 'unsupported'}` : `n/a: failed ${describeFailure(r)}`;
}

/**
 * One cell of a gain over a row's ok on-policy results: mean ± SE [95%] over seeds, or n/a with why (no partner
 * protocol run beside it, or none ok at the same seeds).
 */
function gainCell(
  ok: readonly JobResult[],
  partners: readonly JobResult[],
  field: (typeof GAIN_FIELDS)[number][0],
  against: Protocol,
): string {
  const values = ok.map((r) => gainOf(r, field));
  if (values.every((v) => v === null))
    return partners.some((p) => p.protocol === against)
      ? `n/a: no ${against} result of the same seeds is ok`
      : `n/a: no ${against} run beside it`;
  return formatInterval(interval95(values));
}

/**
 * Per (model, scenario / view, budget) run on-policy: its gain in skill at h = 1 over offline, offline-explore and the
 * random-action control, paired by seed. Empty when no job ran on-policy (the section is left out).
 */
export function onPolicyGainsSection(results: readonly JobResult[]): string {
  const onPolicy = results.filter((r) => r.protocol === 'on-policy');
  if (!onPolicy.length) return '';
  const rows = [...groupBy([...onPolicy], (r) => `${r.model}\0${r.scenario} / ${r.view}\0${r.budget}`).values()].map(
    (group) => {
      const r0 = group[0];
      const partners = results.filter(
        (r) => r.model === r0.model && r.scenario === r0.scenario && r.view === r0.view && r.budget === r0.budget,
      );
      const ok = group.filter((r) => r.status === 'ok');
      const cells = ok.length
        ? GAIN_FIELDS.map(([field, against]) => `<td>${esc(gainCell(ok, partners, field, against))}</td>`)
        : [`<td colspan="${GAIN_FIELDS.length}" style="text-align:left">${esc(noOnPolicy(group))}</td>`];
      return (
        `<tr><td>${esc(r0.model)}${group.some((r) => r.privileged) ? ' * oracle' : ''}</td>` +
        `<td>${esc(`${r0.scenario} / ${r0.view}`)}</td><td>${num(r0.budget)}</td>` +
        `<td>${ok.length}/${group.length}</td>` +
        `${cells.join('')}</tr>`
      );
    },
  );
  return (
    `<section><h2>on-policy gains</h2><p>Skill at h = 1 of the model's own experience (on-policy: round 1 from the ` +
    `expert, rounds 2-4 from its act()) minus the same model's on the expert's data (offline), on random actions ` +
    `(offline-explore), and on the same rounds with random actions after round 1 (on-policy-random), paired by seed; ` +
    `mean ± SE [95% interval]. n/a says why: a model without act(), a world without actions, a failed job, or a ` +
    `partner protocol not run.</p><table><thead><tr><th>model</th><th>scenario / view</th><th>budget</th>` +
    `<th>seeds ok</th>${GAIN_FIELDS.map(([, against]) => `<th>vs ${esc(against)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table></section>`
  );
}

/** The protocols that make their own training data, in the order their panels are drawn. */
const PLANE_PROTOCOLS: readonly Protocol[] = ['offline', 'offline-explore', 'on-policy-random', 'on-policy'];

/** What makes two histograms the same grid (a plane of one scenario version; results files are untrusted). */
const geometry = (h: StatePlaneHistogram) =>
  JSON.stringify([h.view, h.bins, h.x.label, h.x.lo, h.x.hi, h.y.label, h.y.lo, h.y.hi]);

/**
 * One small-multiples plot: a panel per protocol of the share of its training states in each bin of the plane (summed
 * over seeds; log colour, so the few states a narrow policy leaves far out still show), empty bins blank.
 */
async function planePanels(model: string, budget: number | null, byProtocol: Map<Protocol, JobResult[]>) {
  const first = [...byProtocol.values()][0][0].statePlane!;
  const { x, y, bins } = first;
  const values: Array<Record<string, unknown>> = [];
  const panels: string[] = [];
  for (const rs of byProtocol.values()) {
    const counts = new Array<number>(bins * bins).fill(0);
    let outside = 0;
    for (const r of rs) {
      r.statePlane!.counts.forEach((c, i) => (counts[i] += c));
      outside += r.statePlane!.outside;
    }
    const total = counts.reduce((s, c) => s + c, 0) + outside;
    const seeds = new Set(rs.map((r) => r.seed)).size;
    const panel =
      `${protocolLabel(rs[0])} (${seeds} seed${seeds === 1 ? '' : 's'}` +
      `${outside ? `; ${((100 * outside) / total).toFixed(1)}% outside` : ''})`;
    panels.push(panel);
    const dx = (x.hi - x.lo) / bins,
      dy = (y.hi - y.lo) / bins;
    counts.forEach((c, i) => {
      if (!c) return;
      const ix = i % bins,
        iy = Math.floor(i / bins);
      values.push({
        panel,
        x0: x.lo + ix * dx,
        x1: x.lo + (ix + 1) * dx,
        y0: y.lo + iy * dy,
        y1: y.lo + (iy + 1) * dy,
        share: c / total,
      });
    });
  }
  const axis = (field: string, a: typeof x) => ({
    field,
    type: 'quantitative',
    title: a.label,
    scale: { domain: [a.lo, a.hi], nice: false, zero: false },
  });
  return svg({
    title: `${model}, budget ${budget ?? 'n/a'}: share of training states per bin (${bins} x ${bins}, log colour)`,
    data: { values },
    facet: { column: { field: 'panel', type: 'nominal', sort: panels, title: null } },
    spec: {
      width: 150,
      height: 150,
      mark: 'rect',
      encoding: {
        x: axis('x0', x),
        x2: { field: 'x1' },
        y: axis('y0', y),
        y2: { field: 'y1' },
        color: {
          field: 'share',
          type: 'quantitative',
          title: 'share of states',
          scale: { type: 'log', scheme: 'viridis' },
          legend: { format: '.1~%' },
        },
      },
    },
  });
}

/**
 * Where each protocol's training data lies on the scenario's state plane, per (model, budget) of one scenario / view
 * run under more than one data-making protocol. Empty when no result carries a histogram (a scenario without a plane;
 * results from before it was recorded): the report is then what it was without it.
 */
export async function statePlaneSection(rs: readonly JobResult[]): Promise<string> {
  const withPlane = rs.filter((r) => r.status === 'ok' && r.statePlane && PLANE_PROTOCOLS.includes(r.protocol));
  const plots: string[] = [];
  for (const group of groupBy(withPlane, (r) => `${r.model}\0${String(r.budget).padStart(8, '0')}`).values()) {
    const grid = geometry(group[0].statePlane!);
    const byProtocol = new Map<Protocol, JobResult[]>();
    for (const protocol of PLANE_PROTOCOLS) {
      const of = group.filter((r) => r.protocol === protocol && geometry(r.statePlane!) === grid);
      if (of.length) byProtocol.set(protocol, of);
    }
    if (byProtocol.size > 1)
      plots.push(`<div class="plane">${await planePanels(group[0].model, group[0].budget, byProtocol)}</div>`);
  }
  if (!plots.length) return '';
  const { x, y } = withPlane[0].statePlane!;
  return (
    `<h3>where the training data lies: ${esc(x.label)} against ${esc(y.label)}</h3><p>Each panel: one protocol's ` +
    `training states (each transition counted at the state it starts from), the share in each bin, summed over ` +
    `seeds; what on-policy shows is what the model chose to see. States beyond the plane's ranges are counted as ` +
    `"outside".</p><div class="plots">${plots.join('')}</div>`
  );
}
