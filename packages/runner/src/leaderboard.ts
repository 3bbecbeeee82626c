// The headline table of a sweep, as Markdown (README-ready): one row per (scenario, view, model), the
// figures a reader compares schools by. `pnpm bench report DIR` writes it to DIR/leaderboard.md.
import { learningCurveAuc, meanAndStandardError } from '@worldbench/core';
import { FULL_BUDGETS } from './plan';
import { recoverableShifts } from './protocols';
import type { JobResult } from './result';

/** The heading of the oracle rows, wherever they are shown. */
export const ORACLE_NOTE =
  "Oracles (* privileged: told the scenario's candidate laws, which no other model is told; a ceiling, not a " +
  "school's entry):";

const fmt = (values: Array<number | null | undefined>, digits = 3) => {
  const s = meanAndStandardError(values);
  return s ? (s.n > 1 ? `${s.mean.toFixed(digits)} ± ${s.se.toFixed(digits)}` : s.mean.toFixed(digits)) : 'n/a';
};
const skillAt = (r: JobResult, h: number) => r.metrics?.test.skill?.[String(h)] ?? null;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Live recovery: the median over seeds and shifts of the steps to regain 90% of the pre-shift skill; "never"
 * counted. Only shifts with skill to regain count (n/a for persistence, whose skill is 0 by definition).
 */
function recovery(live: JobResult[]): string {
  const all = recoverableShifts(live.flatMap((r) => (r.live ? [r.live] : [])));
  if (!all.length) return 'n/a';
  const regained = all.filter((x): x is number => x !== null);
  return `${regained.length ? median(regained).toFixed(0) : '-'} (${all.length - regained.length}/${all.length} never)`;
}

/**
 * The largest budget reached by as many seeds as any budget (null if none): a running sweep's one seed at 16384 does
 * not outrank five at 4096.
 */
function largestWithMostSeeds(rs: JobResult[]): number | null {
  const seeds = new Map<number, Set<number>>();
  for (const r of rs)
    if (typeof r.budget === 'number') seeds.set(r.budget, (seeds.get(r.budget) ?? new Set()).add(r.seed));
  const most = Math.max(0, ...[...seeds.values()].map((s) => s.size));
  const budgets = [...seeds].filter(([, s]) => s.size === most).map(([b]) => b);
  return budgets.length ? Math.max(...budgets) : null;
}

/**
 * Rows: auc over the full grid (offline; mean ± se over seeds), skill at h = 1 and at the largest horizon at
 * the largest offline budget reached by the most seeds (with their number), accElement at h = 1 there (int and
 * token views), and fit seconds there; the
 * on-policy gain against offline-explore and live recovery each at the budget its protocol reached by the same
 * rule, marked "(b=N)" where that is not the row's budget (a sweep still running, or one that runs them on a
 * smaller grid). `results` must carry the derived fields (withDerived). Privileged rows (a model told the
 * scenario's hypotheses) are oracles, a ceiling rather than a school's entry: they go to a table of their own.
 */
export function leaderboard(results: JobResult[]): string {
  const ok = results.filter((r) => r.status === 'ok');
  const groups = new Map<string, JobResult[]>();
  for (const r of ok) {
    const k = `${r.scenario}\0${r.view}\0${r.model}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const header = [
    'scenario / view',
    'model',
    'auc',
    'budget',
    'seeds',
    'skill h=1',
    'skill h=H',
    'accElement h=1',
    'on-policy gain',
    'live recovery (steps)',
    'fit s',
  ];
  const rows: string[][] = [],
    oracles: string[][] = [];
  for (const [k, rs] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const [scenario, view, model] = k.split('\0');
    const offline = rs.filter((r) => r.protocol === 'offline');
    const top = largestWithMostSeeds(offline);
    const elsewhere = (b: number | null) => (b !== null && b !== top ? ` (b=${b})` : '');
    const atTop = offline.filter((r) => r.budget === top || (top === null && r.budget === null));
    const bySeed = new Map<number, JobResult[]>();
    for (const r of offline) bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), r]);
    const aucs = [...bySeed.values()].map((g) =>
      learningCurveAuc(
        g
          .filter((r) => typeof r.budget === 'number')
          .map((r) => ({ budget: r.budget as number, skill: skillAt(r, 1) })),
        FULL_BUDGETS,
      ),
    );
    const H = Math.max(...rs.map((r) => r.evaluation.horizon));
    const withGain = rs.filter((r) => r.protocol === 'on-policy' && typeof r.onPolicyGainExplore === 'number');
    const gainBudget = largestWithMostSeeds(withGain);
    const gains = withGain.filter((r) => r.budget === gainBudget).map((r) => r.onPolicyGainExplore);
    const live = rs.filter((r) => r.protocol === 'live');
    const liveBudget = largestWithMostSeeds(live);
    const liveCell = recovery(live.filter((r) => r.budget === liveBudget));
    const privileged = rs.some((r) => r.privileged);
    (privileged ? oracles : rows).push([
      `${scenario} / ${view}`,
      `${model}${privileged ? ' *' : ''}`,
      fmt(aucs),
      top === null ? 'n/a' : String(top),
      String(new Set(atTop.map((r) => r.seed)).size),
      fmt(atTop.map((r) => skillAt(r, 1))),
      `${fmt(atTop.map((r) => skillAt(r, H)))} (h=${H})`,
      // int and token views: on a large grid no model gets a whole step right, so skill (from accStep) is 0 for
      // every one of them; the share of elements right still tells them apart
      atTop.some((r) => r.metrics?.test.accElement) ? fmt(atTop.map((r) => r.metrics?.test.accElement?.['1'])) : 'n/a',
      gains.length ? fmt(gains) + elsewhere(gainBudget) : 'n/a',
      liveCell === 'n/a' ? liveCell : liveCell + elsewhere(liveBudget),
      fmt(
        atTop.map((r) => r.cost?.fitSeconds),
        2,
      ),
    ]);
  }
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const table = (body: string[][]) =>
    [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n') + '\n';
  const unread = notRead(results, groups);
  const main = table(rows) + (unread ? `\n${unread}` : '');
  if (!oracles.length) return main;
  return `${main}\n${ORACLE_NOTE}\n\n${table(oracles)}`;
}

/**
 * The (scenario, view, model) cells that have no row because the model does not read the view: the reasons of their
 * unsupported results (a sweep asked for with --view records one per job), one line per model and reason. Empty when
 * there are none.
 */
function notRead(results: JobResult[], rows: Map<string, JobResult[]>): string {
  const byReason = new Map<string, Set<string>>();
  for (const r of results) {
    if (r.status !== 'unsupported' || rows.has(`${r.scenario}\0${r.view}\0${r.model}`)) continue;
    const k = `${r.model}\0${r.reason ?? 'no reason recorded'}`;
    byReason.set(k, (byReason.get(k) ?? new Set()).add(`${r.scenario} / ${r.view}`));
  }
  if (!byReason.size) return '';
  const lines = [...byReason]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, cells]) => {
      const [model, reason] = k.split('\0');
      return `- ${model}: ${[...cells].sort().join(', ')} (${reason})`;
    });
  return `Not read (no row: the model does not read these views, in its own words):\n\n${lines.join('\n')}\n`;
}
