// Generalist against specialists: per (model, generalist protocol, view, budget) the transfer gain on each world
// (the generalist's skill at h = 1 minus its specialist's, paired by seed; summarize.ts derives it), its mean over
// the worlds, and the cost: the one fit's seconds against the sum of the specialists' fits of the same seed.
import { canonicalJson, isGeneralist, protocolLabel } from './jobs';
import { formatInterval, interval95, type Interval } from './intervals';
import type { JobResult } from './result';

export interface TransferRow {
  model: string;
  /** protocolLabel: "generalist", "generalist-equal", with "+told" when the model was told the worlds. */
  protocol: string;
  view: string;
  budget: number;
  /** Per world (scenario id, sorted): the transfer gain over seeds. */
  worlds: Array<{ scenario: string; gain: Interval | null }>;
  /** Per seed, the mean over the worlds of the transfer gain (seeds with every world's), over seeds. */
  mean: Interval | null;
  /** Median over seeds of the generalist's one fit, and of the sum of the specialists' fits of that seed. */
  fitSeconds: number | null;
  specialistFitSeconds: number | null;
}

const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The rows of the generalist-vs-specialists table; `results` must carry the derived fields (withDerived). */
export function transferRows(results: readonly JobResult[]): TransferRow[] {
  const ok = results.filter((r) => r.status === 'ok');
  const specialistFit = new Map(
    ok
      .filter((r) => r.protocol === 'offline')
      .map((r) => [
        canonicalJson({ m: r.modelId, c: r.config, s: r.scenario, v: r.view, b: r.budget, seed: r.seed }),
        r.cost?.fitSeconds,
      ]),
  );
  const groups = new Map<string, JobResult[]>();
  for (const r of ok.filter((x) => isGeneralist(x.protocol) && typeof x.budget === 'number')) {
    const k = canonicalJson([r.model, protocolLabel(r), r.view, r.budget]);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const rows: TransferRow[] = [];
  for (const g of groups.values()) {
    const scenarios = [...new Set(g.map((r) => r.scenario))].sort();
    const seeds = [...new Set(g.map((r) => r.seed))].sort((a, b) => a - b);
    const perSeedMean: number[] = [];
    const fits: number[] = [];
    const specialistFits: number[] = [];
    for (const seed of seeds) {
      const of = g.filter((r) => r.seed === seed);
      const gains = scenarios.map((s) => of.find((r) => r.scenario === s)?.transferGain);
      if (gains.every((x): x is number => typeof x === 'number'))
        perSeedMean.push(gains.reduce((a, b) => a + b, 0) / gains.length);
      const fit = of[0]?.cost?.fitSeconds;
      if (typeof fit === 'number') fits.push(fit);
      const parts = (of[0]?.worlds ?? scenarios).map((s) =>
        specialistFit.get(
          canonicalJson({ m: of[0].modelId, c: of[0].config, s, v: of[0].view, b: of[0].budget, seed }),
        ),
      );
      if (parts.every((x): x is number => typeof x === 'number')) specialistFits.push(parts.reduce((a, b) => a + b, 0));
    }
    rows.push({
      model: g[0].model,
      protocol: protocolLabel(g[0]),
      view: g[0].view,
      budget: g[0].budget as number,
      worlds: scenarios.map((scenario) => ({
        scenario,
        gain: interval95(g.filter((r) => r.scenario === scenario).map((r) => r.transferGain)),
      })),
      mean: interval95(perSeedMean),
      fitSeconds: median(fits),
      specialistFitSeconds: median(specialistFits),
    });
  }
  return rows.sort(
    (a, b) =>
      a.model.localeCompare(b.model) ||
      a.view.localeCompare(b.view) ||
      a.protocol.localeCompare(b.protocol) ||
      a.budget - b.budget,
  );
}

const seconds = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));

/**
 * The table as Markdown, one per (model, view): a row per (protocol, budget), a column per world (transfer gain,
 * mean ± SE [95%] over seeds), their mean, and the fit seconds against the specialists' sum. Empty without rows.
 */
export function transferMarkdown(rows: readonly TransferRow[]): string {
  if (!rows.length) return '';
  const out: string[] = [
    "Generalist vs specialists: transfer gain = the generalist's skill at h = 1 minus its specialist's (offline, " +
      'same model, config, budget, seed), mean ± SE [95% interval] over seeds; "mean" averages the worlds per seed. ' +
      "fit s: the one generalist fit (median over seeds) against the sum of the specialists' fits of the same seed.",
  ];
  const byTable = new Map<string, TransferRow[]>();
  for (const r of rows) {
    const k = `${r.model} / ${r.view}`;
    if (!byTable.has(k)) byTable.set(k, []);
    byTable.get(k)!.push(r);
  }
  for (const [title, rs] of byTable) {
    const worlds = [...new Set(rs.flatMap((r) => r.worlds.map((w) => w.scenario)))].sort();
    const header = ['protocol', 'budget', ...worlds, 'mean', 'fit s', 'specialists fit s'];
    const body = rs.map((r) => [
      r.protocol,
      String(r.budget),
      ...worlds.map((w) => formatInterval(r.worlds.find((x) => x.scenario === w)?.gain ?? null)),
      formatInterval(r.mean),
      seconds(r.fitSeconds),
      seconds(r.specialistFitSeconds),
    ]);
    out.push(
      `### ${title}\n\n| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |\n` +
        body.map((cells) => `| ${cells.join(' | ')} |`).join('\n'),
    );
  }
  return out.join('\n\n');
}
