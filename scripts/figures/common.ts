// What the figure scripts share: the leaderboard seeds, a median, the number format of their tables, which
// sections a command line asks for, and the registered scenarios by name.
import { discoverPlugins, findScenario, findWorkspaceRoot, loadScenario, type Scenario } from '@worldbench/core';

/** The leaderboard seeds every figure is measured on (20 of them; a script may use the first few). */
export const SEEDS = Array.from({ length: 20 }, (_, i) => 1000 + i);

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const fmt = (x: number) => x.toFixed(3);

/** Whether the command line asks for a section: every section when it names none. */
export function sections(argv: readonly string[] = process.argv.slice(2)): (name: string) => boolean {
  const wanted = new Set(argv);
  return (name) => wanted.size === 0 || wanted.has(name);
}

const registry = discoverPlugins(findWorkspaceRoot());
/** A registered scenario by name. */
export const scenarioNamed = async (name: string): Promise<Scenario> =>
  loadScenario(findScenario(registry, name).entry);
