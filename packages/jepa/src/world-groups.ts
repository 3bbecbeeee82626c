// Which worlds of a generalist jepa share their input and output projections (generalist.ts): told the worlds
// (--tell-world), each world has its own; not told, the worlds of the same shapes (core `worldShapes`) share them,
// since nothing but the data could tell them apart, and are read with one spec that covers them all (mergeSpecs).
import { isCategorical, worldShapes, type GeneralistWorld, type ScenarioSpec, type TensorSpec } from '@worldbench/core';

/** Worlds read by one set of projections around the shared trunk. */
export interface WorldGroup {
  /** Indices into the worlds the generalist was created with. */
  worlds: number[];
  /** The shapes every one of them shows (worldShapes). */
  shapes: string;
  /** The spec they are read with: the world's own, or one covering all of them. */
  spec: ScenarioSpec;
}

/** The groups of `worlds`: one per world when told, else one per shapes (in order of first appearance). */
export function groupWorlds(worlds: readonly GeneralistWorld[], told: boolean): WorldGroup[] {
  const view = worlds[0].view;
  const shapes = worlds.map((w) => worldShapes(w.spec, view));
  const keys = told ? worlds.map((_, i) => String(i)) : shapes;
  return [...new Set(keys)].map((key) => {
    const members = keys.flatMap((k, i) => (k === key ? [i] : []));
    return {
      worlds: members,
      shapes: shapes[members[0]],
      spec: mergeSpecs(
        members.map((i) => worlds[i].spec),
        view,
      ),
    };
  });
}

/**
 * One spec that reads every one of `specs` (same shapes): the first's, with each categorical vocab the largest of
 * theirs, the view's range the span of theirs (none if one has none) and the fewest history steps. Specs whose view
 * is real in one and categorical in another cannot be read alike: an error says to tell the worlds.
 */
export function mergeSpecs(specs: readonly ScenarioSpec[], view: string): ScenarioSpec {
  if (specs.length === 1) return specs[0];
  const kinds = new Set(specs.map((s) => (isCategorical(s.views[view]) ? 'categorical' : s.views[view].kind)));
  if (kinds.size > 1)
    throw new Error(
      `jepa generalist: ${specs.map((s) => s.id).join(', ')} show the same shapes but their ${view} views are of ` +
        `different kinds (${[...kinds].join(', ')}); not told the worlds it cannot choose a reading: ` +
        'run with --tell-world',
    );
  const widest = (ts: (TensorSpec | null | undefined)[]): TensorSpec => {
    const first = ts[0] as TensorSpec;
    const vocab = ts.some((t) => t?.vocab !== undefined) ? Math.max(...ts.map((t) => t?.vocab ?? 0)) : undefined;
    const ranges = ts.map((t) => t?.range);
    const range = ranges.every((r) => r !== undefined)
      ? ([Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))] as const)
      : undefined;
    return { ...first, vocab, range };
  };
  const [first] = specs;
  return {
    ...first,
    id: specs.map((s) => s.id).join('+'),
    views: { ...first.views, [view]: widest(specs.map((s) => s.views[view])) },
    action: first.action ? widest(specs.map((s) => s.action)) : null,
    context: Object.fromEntries(
      Object.keys(first.context ?? {}).map((k) => [k, widest(specs.map((s) => s.context?.[k]))]),
    ),
    historySteps: Math.min(...specs.map((s) => s.historySteps)),
  };
}
