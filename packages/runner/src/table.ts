// The terminal table: one per (scenario, view), a row per (model, protocol, budget), mean ± standard error over seeds.
import { meanAndStandardError, UserError } from '@worldbench/core';
import { isGeneralist, modelLabel, parseModelChoice, protocolLabel } from './jobs';
import { formatInterval, interval95, pairedDifferences } from './intervals';
import { recoverableShifts } from './protocols';
import type { JobResult } from './result';

export interface TableOptions {
  /** --compare: a model label; every other row gets its paired difference in skill to that model's row. */
  compare?: string | null;
}

function num(x: number, digits: number): string {
  return Math.abs(x) >= 1e4 ? x.toExponential(1) : x.toFixed(digits);
}

function cell(values: Array<number | null | undefined>, digits = 3): string {
  const s = meanAndStandardError(values);
  if (!s) return 'n/a';
  return s.n > 1 ? `${num(s.mean, digits)} ± ${num(s.se, digits)}` : num(s.mean, digits);
}

function render(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The metrics shown beside skill, by view kind: psnr for images, mse for real views; for int/token views both
 * accStep (every element of a step right: the skill's error) and accElement (the share of elements right),
 * since on a large grid accStep can be 0 for every model while accElement still tells them apart.
 */
export function headlineMetrics(results: readonly JobResult[]): string[] {
  const m = results.find((r) => r.metrics)?.metrics?.test;
  if (!m) return ['mse'];
  return m.accStep ? ['accStep', ...(m.accElement ? ['accElement'] : [])] : m.psnr ? ['psnr'] : ['mse'];
}

/**
 * The model label --compare names among `labels` (the results' model labels): as typed, or with its overrides in
 * canonical order ('linear[b=1,a=2]' is 'linear[a=2,b=1]'). A label that is not there is a user error.
 */
export function checkCompare(compare: string, labels: readonly string[]): string {
  const there = new Set(labels);
  if (there.has(compare)) return compare;
  let canonical: string | null = null;
  try {
    canonical = modelLabel(parseModelChoice(compare));
  } catch {
    // not a model choice at all: said below
  }
  if (canonical !== null && there.has(canonical)) return canonical;
  throw new UserError(
    `--compare ${compare}: no results of that model here; the models are: ${[...there].sort().join(', ')}`,
  );
}

/**
 * A row's paired difference in skill at h to the reference row (same seeds), "+0.120 [0.031, 0.209]"; "-" for the
 * reference itself.
 */
export function compareCell(
  row: readonly JobResult[],
  reference: readonly JobResult[] | undefined,
  h: number,
  isReference: boolean,
): string {
  if (isReference) return '-';
  if (!reference) return 'n/a';
  const ok = (rs: readonly JobResult[]) => rs.filter((r) => r.status === 'ok');
  const s = interval95(pairedDifferences(ok(row), ok(reference), (r) => r.metrics?.test.skill?.[String(h)]));
  if (!s) return 'n/a';
  const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
  return s.lo === null ? `${sign(s.mean)} (1 seed)` : `${sign(s.mean)} [${sign(s.lo)}, ${sign(s.hi!)}]`;
}

const gain = (values: Array<number | null | undefined>) => formatInterval(interval95(values));

/** Lines under a table: on-policy gains, self-forcing gains, live streams (when the run has them). */
function gainLines(rs: JobResult[]): string {
  const lines: string[] = [];
  const groups = new Map<string, JobResult[]>();
  for (const r of rs.filter((x) => x.status === 'ok')) {
    const k = `${r.model}\0${r.budget}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  for (const group of groups.values()) {
    for (const protocol of [...new Set(group.filter((r) => isGeneralist(r.protocol)).map(protocolLabel))].sort()) {
      const gen = group.filter((r) => protocolLabel(r) === protocol);
      const none = gen.every((r) => r.transferGain == null)
        ? '; no specialist row of the same budget and seed among these results: run --protocol offline beside it'
        : '';
      lines.push(
        `  transfer gain (generalist minus specialist skill h=1, paired by seed), ${gen[0].model}, ${protocol}, ` +
          `budget ${gen[0].budget}: ${gain(gen.map((r) => r.transferGain))} (one fit of ` +
          `${gen[0].worlds?.length ?? '?'} worlds: fit s is the whole fit's${none})`,
      );
    }
    const on = group.filter((r) => r.protocol === 'on-policy');
    if (on.some((r) => r.onPolicyGain != null || r.onPolicyGainExplore != null))
      lines.push(
        `  on-policy gain (paired by seed, ± SE [95% ` +
          `interval]), ` +
          `${on[0].model}, budget ` +
          `${on[0].budget}: vs offline ` +
          `${gain(on.map((r) => r.onPolicyGain))}, vs offline-explore ` +
          `${gain(on.map((r) => r.onPolicyGainExplore))}, vs random-action ` +
          `control ${gain(on.map((r) => r.onPolicyGainRandom))}`,
      );
    const sf = group.filter((r) => r.selfForcingGain != null);
    if (sf.length)
      lines.push(
        `  self-forcing gain (paired by ` +
          `seed), ` +
          `${sf[0].model}, budget ` +
          `${sf[0].budget}: ${gain(sf.map((r) => r.selfForcingGain))} (skill at h=` +
          `${sf[0].evaluation.horizon}, against rolloutSteps=0)`,
      );
    const live = group.filter((r) => r.live);
    if (live.length) {
      const rec = recoverableShifts(live.map((r) => r.live!));
      const shifts = live.reduce((n, r) => n + r.live!.shifts.length, 0);
      const none = shifts > rec.length ? ` (${shifts - rec.length} shift(s) with no skill to regain)` : '';
      lines.push(
        `  live, ` +
          `${live[0].model}, budget ` +
          `${live[0].budget}: mean skill ` +
          `${cell(live.map((r) => r.live!.meanSkill))}, dip after ` +
          `shifts ` +
          `${cell(live.flatMap((r) => r.live!.dips))}, recovered ` +
          `${rec.filter((x) => x !== null).length}/${rec.length} shifts in ` +
          `${cell(rec)} steps${none}${live[0].live!.updates ? '' : ' (no update(): forecast only)'}`,
      );
    }
  }
  return lines.length ? `\n${lines.join('\n')}` : '';
}

export function formatTables(results: JobResult[], options: TableOptions = {}): string {
  const compare = options.compare ?? null;
  const groups = new Map<string, JobResult[]>();
  for (const r of results) {
    const k = `${r.scenario} / ${r.view}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const out: string[] = [];
  for (const [title, rs] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const H = Math.max(...rs.map((r) => r.evaluation.horizon));
    const metrics = headlineMetrics(rs);
    const header = [
      'model',
      'protocol',
      'budget',
      'seeds',
      'skill h=1',
      `skill h=${H}`,
      ...metrics.map((m) => `${m} h=1`),
      'ood skill h=1',
      'fit s',
      ...(compare ? [`vs ${compare} h=1 [95%]`, `vs ${compare} h=${H} [95%]`] : []),
    ];
    const rows = new Map<string, JobResult[]>();
    for (const r of rs) {
      const k = `${r.model}\0${protocolLabel(r)}\0${r.budget}`;
      if (!rows.has(k)) rows.set(k, []);
      rows.get(k)!.push(r);
    }
    // persistence (the reference) first, oracles (privileged rows) last
    const rank = (k: string, m: string) => (m === 'persistence' ? 0 : rows.get(k)!.some((r) => r.privileged) ? 2 : 1);
    const order = [...rows.entries()].sort(([a], [b]) => {
      const [ma, pa, ba] = a.split('\0'),
        [mb, pb, bb] = b.split('\0');
      return (
        rank(a, ma) - rank(b, mb) ||
        ma.localeCompare(mb) ||
        pa.localeCompare(pb) ||
        (Number(ba) || 0) - (Number(bb) || 0)
      );
    });
    const reasons = new Set<string>();
    const table = order.map(([, group]) => {
      const ok = group.filter((r) => r.status === 'ok');
      const first = group[0];
      const failed = group.filter((r) => r.status === 'failed').length;
      const unsupported = group.find((r) => r.status === 'unsupported');
      const seeds = `${ok.length}/${group.length}${failed ? ` (${failed} failed)` : ''}`;
      if (unsupported) {
        reasons.add(`  ${first.model} ${protocolLabel(first)}: unsupported: ${unsupported.reason}`);
        return [
          first.model + (first.privileged ? ' * oracle' : ''),
          protocolLabel(first),
          first.budget === null ? 'n/a' : String(first.budget),
          seeds,
          'unsupported',
          ...header.slice(5).map(() => ''),
        ];
      }
      const reference = compare ? rows.get(`${compare}\0${protocolLabel(first)}\0${first.budget}`) : undefined;
      const at = (split: 'test' | 'ood', name: string, h: number) =>
        ok.map((r) => r.metrics?.[split][name]?.[String(h)]);
      return [
        first.model + (ok.some((r) => r.privileged) ? ' * oracle' : ''),
        protocolLabel(first),
        first.budget === null ? 'n/a' : String(first.budget),
        seeds,
        cell(at('test', 'skill', 1)),
        cell(at('test', 'skill', H)),
        ...metrics.map((metric) => cell(at('test', metric, 1), metric === 'psnr' ? 2 : 3)),
        cell(at('ood', 'skill', 1)),
        cell(
          ok.map((r) => r.cost?.fitSeconds),
          2,
        ),
        ...(compare ? [1, H].map((h) => compareCell(group, reference, h, first.model === compare)) : []),
      ];
    });
    out.push(`${title}\n${render(header, table)}${reasons.size ? `\n${[...reasons].join('\n')}` : ''}${gainLines(rs)}`);
  }
  if (results.some((r) => r.privileged))
    out.push(
      "* oracle: privileged, told the scenario's candidate laws, which no other model is told (a ceiling, not a " +
        "school's entry).",
    );
  return out.join('\n\n');
}
