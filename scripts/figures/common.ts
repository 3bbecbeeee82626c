// What the figure scripts share: the leaderboard seeds, a median, the number format of their tables, paired
// differences, which sections a command line asks for, and the registered scenarios by name.
import {
  discoverPlugins,
  findScenario,
  findWorkspaceRoot,
  loadScenario,
  meanAndStandardError,
  type Scenario,
} from '@worldbench/core';

/** The leaderboard seeds every figure is measured on (20 of them; a script may use the first few). */
export const SEEDS = Array.from({ length: 20 }, (_, i) => 1000 + i);

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const fmt = (x: number) => x.toFixed(3);

/** Paired per-seed differences as `mean ± SE (mean - 2 SE)` (the on-policy bar: > 0), each number by `format`. */
export function paired(xs: readonly number[], format: (x: number) => string = fmt): string {
  if (xs.length < 2) return xs.length ? `${format(xs[0])} (n=1)` : 'n/a';
  // core's mean and SE (the tables' own) leave non-finite values out: here one makes the whole summary NaN
  const { mean, se } = (xs.every(Number.isFinite) && meanAndStandardError(xs)) || { mean: NaN, se: NaN };
  return `${format(mean)} ± ${format(se)} (${format(mean - 2 * se)})`;
}

/** Whether the command line asks for a section: every section when it names none. */
export function sections(argv: readonly string[] = process.argv.slice(2)): (name: string) => boolean {
  const wanted = new Set(argv);
  return (name) => wanted.size === 0 || wanted.has(name);
}

const registry = discoverPlugins(findWorkspaceRoot());
/** A registered scenario by name. */
export const scenarioNamed = async (name: string): Promise<Scenario> =>
  loadScenario(findScenario(registry, name).entry);
