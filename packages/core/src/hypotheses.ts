// HypothesisSpace: the one typed way a scenario states its candidate worlds, so that a model can hold
// explicit hypotheses about the law that generates the data (packages/possible-worlds). A model that reads
// it is told something the others are not: its rows are marked privileged.

/** One transition of the hypotheses' view, as a hypothesis sees it. */
export interface Transition {
  /** The view at step t, flattened. */
  current: Float32Array;
  /** The view at step t + 1, flattened (absent when predicting). */
  next?: Float32Array;
  /** The action taken at t, or null when the world has none. */
  action: Float32Array | null;
  /** The episode's context tensors, flattened (e.g. the program). */
  context: Record<string, Float32Array>;
}

export interface ParameterSpec {
  name: string;
  /** The prior range over all worlds and splits the scenario draws from (train ranges; ood goes beyond). */
  range: readonly [number, number];
  /** Drawn per episode (inferred in context from the history) rather than fixed per world. */
  perEpisode: boolean;
  /** Units or meaning, one line. */
  doc?: string;
}

/**
 * A parametric law family: next = predict(params, transition). When the law is linear in its parameters,
 * `linear` gives next = base + sum_i params[i] * basis[i], so it can be fitted in closed form.
 */
export interface LawFamily {
  kind: 'family';
  id: string;
  /** Human-readable law, e.g. "spring: a = -k x". */
  statement: string;
  parameters: readonly ParameterSpec[];
  /** Families this one is a special case of (free flight inside gravity, spring inside damped spring). */
  nestedIn?: readonly string[];
  /**
   * The next view value (flattened) under `params` (in `parameters` order); float64 keeps finite differences in the
   * parameters exact enough.
   */
  predict(params: ArrayLike<number>, t: Transition): Float32Array | Float64Array;
  linear?: {
    base(t: Transition): Float64Array;
    /** One vector of the view's size per parameter. */
    basis(t: Transition): Float64Array[];
  };
}

/**
 * A factorised discrete space: one option per factor, chosen independently (a birth/survival bit per
 * neighbour count; a primitive per opcode). Each transition constrains some factors on its own, so the
 * space is searched exactly factor by factor, never by brute force over the product.
 */
export interface FactoredSpace {
  kind: 'factored';
  id: string;
  statement: string;
  factors: ReadonlyArray<{ name: string; options: readonly (string | number)[] }>;
  /**
   * Groups of factors (indices) whose chosen options must be pairwise different, e.g. the opcode tokens of a
   * dialect that is a permutation. The only coupling between factors a searcher must respect.
   */
  allDifferent?: ReadonlyArray<readonly number[]>;
  /** What one (noise-free) transition shows: for each factor it bears on, the options consistent with it. */
  evidence(t: Transition): Array<{ factor: number; consistent: number[] }>;
  /** The next view value under a full assignment (an option index per factor). */
  predict(assignment: ArrayLike<number>, t: Transition): Float32Array;
}

export type Hypothesis = LawFamily | FactoredSpace;

export interface HypothesisSpace {
  /** The view the hypotheses describe (e.g. "state"). */
  view: string;
  candidates: readonly Hypothesis[];
  /** The true candidate of a world, with its world-level parameters or assignment (for tests and scoring). */
  truth(world: unknown): { id: string; params?: Record<string, number>; assignment?: number[] };
  /** Which candidates are nested or nearly equivalent, and where. */
  notes?: string;
}

/** Problems with a hypothesis space, as sentences; empty when it is well formed. */
export function hypothesisSpaceProblems(space: HypothesisSpace, world: unknown): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const c of space.candidates) {
    if (ids.has(c.id)) problems.push(`hypothesis id "${c.id}" appears twice`);
    ids.add(c.id);
    if (c.kind === 'family') {
      for (const p of c.parameters)
        if (!(p.range[0] <= p.range[1])) problems.push(`${c.id}.${p.name}: range [${p.range}] is empty`);
      for (const n of c.nestedIn ?? [])
        if (!space.candidates.some((x) => x.id === n))
          problems.push(`${c.id} is nestedIn "${n}", which is not a candidate`);
    } else if (c.factors.some((f) => f.options.length === 0)) problems.push(`${c.id} has a factor without options`);
  }
  const truth = space.truth(world);
  if (!ids.has(truth.id))
    problems.push(`truth(world) names "${truth.id}", which is not a candidate (${[...ids].join(', ')})`);
  if (space.candidates.length < 2) problems.push('a hypothesis space needs the truth and wrong alternatives');
  return problems;
}
