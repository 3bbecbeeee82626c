// What a scenario shows: named tensors per step, their kinds, and the episode geometry.

/** A named tensor the world shows at one step. Values are float32 on the wire; `kind` says how to score them. */
export interface TensorSpec {
  /** Per-step shape, the same in every split (padded to the largest; see `mask`). */
  shape: readonly number[];
  /** real: continuous; image: values in [0, 1]; int/token: categorical in [0, vocab). */
  kind: 'real' | 'int' | 'image' | 'token';
  /** Inclusive bounds of the values, where known. */
  range?: readonly [number, number];
  /** Number of categories for int/token tensors. */
  vocab?: number;
  /**
   * Name of a 0/1 view marking real entries; padding (0) is left out of every metric. Its shape is a
   * prefix of this tensor's shape and broadcasts over the trailing dimensions (a [4] mask for a [4, 4] state).
   */
  mask?: string;
}

/**
 * A versioned scenario id, `name-vN` (`bouncing-balls-v1`, `stack-vm-v1`): lowercase letters, digits and dashes,
 * then `-v` and the version. The rule is `SCENARIO_ID`, checked by `specProblems` when a scenario is loaded and by
 * `checkScenario`. The type is a plain string on purpose: a template type such as `${string}-v${number}` matches
 * at the first "-v" and so refuses `stack-vm-v1`, which the rule accepts.
 */
export type ScenarioId = string;

/** The rule of a scenario id: name-vN. */
export const SCENARIO_ID = /^[a-z0-9][a-z0-9-]*-v\d+$/;

export interface ScenarioSpec {
  /** Versioned id (`ScenarioId`, name-vN): any change of behaviour or parameters bumps the version. */
  id: ScenarioId;
  summary: string;
  /** What the world shows each step, e.g. { state, frame }; mask views are listed here too. */
  views: Record<string, TensorSpec>;
  /** Constant per episode, e.g. { program }. */
  context?: Record<string, TensorSpec>;
  /** null: the world runs by itself (no on-policy protocol). */
  action: TensorSpec | null;
  /** T transitions per episode, the same in every split. */
  episodeLength: number;
  /** K observations a forecast starts from. */
  historySteps: number;
  /** Default forecast horizon H of the evaluation (the runner caps it at T - K + 1). */
  horizon: number;
  /** Std of the Gaussian noise the runner adds to what models see, per view. */
  observationNoise?: Record<string, number>;
  /**
   * Two coordinates of a real view that say where a step is in the world's state space (position and velocity of
   * a bob), with fixed ranges: the runner records where each job's training data lies on this plane (a coarse
   * histogram) and the report draws it per protocol. Absent: nothing is recorded.
   */
  statePlane?: StatePlane;
  tags: readonly string[];
}

/** One axis of a state plane: an index along the view's last axis, its name with units, and the range drawn. */
export interface StatePlaneAxis {
  index: number;
  label: string;
  /** [lo, hi], lo < hi; values outside are counted apart, not drawn. */
  range: readonly [number, number];
}

/**
 * A plane through a real view. Each row of the view (every index of its leading axes; one row for a [D] view, one
 * per object for an [N, D] view) is one point; rows its mask marks as padding are left out.
 */
export interface StatePlane {
  view: string;
  x: StatePlaneAxis;
  y: StatePlaneAxis;
}

/** Number of scalars in one step of a tensor. */
export function sizeOf(spec: Pick<TensorSpec, 'shape'>): number {
  return spec.shape.reduce((a, b) => a * b, 1);
}

/** Views that a model can be asked to forecast: every view that is not some other view's mask. */
export function forecastViews(spec: ScenarioSpec): string[] {
  const masks = new Set(
    Object.values(spec.views)
      .map((v) => v.mask)
      .filter((m): m is string => !!m),
  );
  return Object.keys(spec.views).filter((v) => !masks.has(v));
}

export function isCategorical(spec: TensorSpec): boolean {
  return spec.kind === 'int' || spec.kind === 'token';
}

/** Problems with a spec, as sentences; empty when it is well formed. */
export function specProblems(spec: ScenarioSpec): string[] {
  const problems: string[] = [];
  if (typeof spec.id !== 'string' || !SCENARIO_ID.test(spec.id))
    problems.push(
      `id "${spec.id}" is not of the form name-vN (lowercase letters, digits and dashes, then -v and a version: ` +
        `my-world-v1)`,
    );
  if (!(Number.isInteger(spec.episodeLength) && spec.episodeLength >= 2))
    problems.push('episodeLength must be an integer >= 2');
  if (!(Number.isInteger(spec.historySteps) && spec.historySteps >= 1))
    problems.push('historySteps must be an integer >= 1');
  if (spec.historySteps > spec.episodeLength) problems.push('historySteps exceeds episodeLength');
  if (!(Number.isInteger(spec.horizon) && spec.horizon >= 1)) problems.push('horizon must be an integer >= 1');
  const tensors: [string, TensorSpec][] = [
    ...Object.entries(spec.views).map(([k, v]) => [`views.${k}`, v] as [string, TensorSpec]),
    ...Object.entries(spec.context ?? {}).map(([k, v]) => [`context.${k}`, v] as [string, TensorSpec]),
    ...(spec.action ? [['action', spec.action] as [string, TensorSpec]] : []),
  ];
  for (const [name, t] of tensors) {
    if (!t.shape.every((d) => Number.isInteger(d) && d > 0)) problems.push(`${name}.shape must be positive integers`);
    if (isCategorical(t) && !(Number.isInteger(t.vocab) && (t.vocab as number) > 0))
      problems.push(`${name} is ${t.kind} but has no vocab`);
    if (t.mask !== undefined) {
      const m = spec.views[t.mask];
      if (!m) problems.push(`${name}.mask names "${t.mask}", which is not a view`);
      else if (m.shape.length > t.shape.length || m.shape.some((d, i) => d !== t.shape[i]))
        problems.push(`${name}.mask "${t.mask}" has shape [${m.shape}], not a prefix of [${t.shape}]`);
    }
  }
  for (const v of Object.keys(spec.observationNoise ?? {}))
    if (!spec.views[v]) problems.push(`observationNoise names "${v}", which is not a view`);
  if (Object.keys(spec.views).length === 0) problems.push('a scenario needs at least one view');
  if (spec.statePlane) problems.push(...statePlaneProblems(spec, spec.statePlane));
  return problems;
}

function statePlaneProblems(spec: ScenarioSpec, plane: StatePlane): string[] {
  const view = spec.views[plane.view];
  if (!view) return [`statePlane.view names "${plane.view}", which is not a view`];
  if (view.kind !== 'real')
    return [`statePlane.view "${plane.view}" is ${view.kind}, not real: a plane needs coordinates`];
  const width = view.shape[view.shape.length - 1] ?? 1;
  const problems: string[] = [];
  for (const name of ['x', 'y'] as const) {
    const axis = plane[name];
    if (!(Number.isInteger(axis?.index) && axis.index >= 0 && axis.index < width))
      problems.push(`statePlane.${name}.index must be an integer in [0, ${width}) (the view's last axis)`);
    const [lo, hi] = axis?.range ?? [NaN, NaN];
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi))
      problems.push(`statePlane.${name}.range must be [lo, hi] with finite lo < hi`);
  }
  return problems;
}
