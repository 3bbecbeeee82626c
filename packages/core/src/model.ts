// The contract every world model implements, whatever its school.
import type { ConfigSchema } from './config-schema';
import type { Episodes, Tensor } from './data';
import type { HypothesisSpace } from './hypotheses';
import type { ScenarioSpec } from './spec';

/**
 * What a scenario can tell a model beyond its spec. The runner hands it only to a model whose resolved config
 * asks for it (`WorldModelModule.readsPrivileged`), and marks those rows privileged itself: an oracle's rows,
 * shown apart from the schools'.
 */
export interface PrivilegedInfo {
  hypotheses?: HypothesisSpace;
}

/**
 * Forecast `horizon` steps for B episodes from K observed steps, given the actions that will be taken.
 * history.views holds only the job's view (and its mask), [B, K, ...viewShape]; history.actions has K-1
 * steps; actions[:, 0] is the action taken right after the last observed step, [B, H, ...actionShape].
 */
export interface Query {
  view: string;
  history: Episodes;
  actions: Tensor | null;
  horizon: number;
}

/** [B, H, ...viewShape]; `std` (same shape) makes the Gaussian `nll` metric available. */
export interface Forecast {
  mean: Tensor;
  std?: Tensor;
}

export interface RunContext {
  seed: number;
  signal: AbortSignal;
  log(msg: string): void;
  progress(done: number, total: number, note?: string): void;
}

/** What `fit` tells the runner. */
export interface FitReport {
  /** Learned parameters (a count, for the cost columns). */
  params: number;
  /** The compute backend that ran, e.g. "js", "tfjs-wasm", "tfjs-node", "onnxruntime". */
  backend?: string;
  /** Anything the model wants recorded (epochs run, final loss, ...). */
  notes?: Record<string, unknown>;
}

export interface WorldModel {
  /** Always all data so far (training episodes with the runner's observation noise); may warm-start. */
  fit(data: Episodes, run: RunContext): Promise<FitReport>;
  /** Batched; H = 1 is next-step prediction. */
  forecast(q: Query, run: RunContext): Promise<Forecast>;
  /** On-policy: the next actions [B, ...actionShape] for B episodes observed so far. */
  act?(history: Episodes, run: RunContext): Promise<Tensor>;
  /** Why this model has no act() here (e.g. a config that disables it): the runner's on-policy n/a reason says it. */
  readonly actUnavailable?: string;
  /** Online update in the live protocol, with the most recent steps. */
  update?(recent: Episodes, run: RunContext): Promise<void>;
  /** E.g. the selected law, a latent-action codebook; goes into the results JSON. */
  explain?(): Record<string, unknown>;
  /** Writes everything needed by the module's `load` into `dir` (which exists). */
  save(dir: string): Promise<void>;
  dispose?(): Promise<void>;
}

export type School = 'spatial' | 'jepa' | 'possible-worlds' | 'baseline' | 'external';

export interface ModelCard {
  id: string;
  school: School;
  summary: string;
  references?: string[];
  /**
   * Trained elsewhere (an ONNX file exported from PyTorch): it does not learn from the budget, so the runner
   * evaluates it once per (scenario, view, seed) and shows the budget as n/a.
   */
  pretrained?: boolean;
}

/** What `supports` answers: the views the model reads, or none and why. */
export type Support = { views: string[] } | { views: []; reason: string };

/**
 * One world of a generalist fit (the generalist protocols, docs/protocols.md): a scenario's spec and the view the
 * model reads there (the same view name in every world, e.g. each scenario's `state`).
 */
export interface GeneralistWorld {
  spec: ScenarioSpec;
  view: string;
}

/**
 * What a world's data shows of it on `view`: the view's, the action's and each context tensor's shape per step, as
 * one string. A generalist not told the worlds tells apart those whose shapes differ by it (`episodeShapes` reads
 * the same string off an episode or a query's history).
 */
export function worldShapes(spec: ScenarioSpec, view: string): string {
  const context = Object.entries(spec.context ?? {})
    .map(([k, c]) => `${k}:${c.shape}`)
    .sort();
  return `${spec.views[view].shape}|${spec.action?.shape ?? '-'}|${context.join(';')}`;
}

/** worldShapes as the data shows it: the shapes per step of `ep`'s view, actions and context. */
export function episodeShapes(ep: Episodes, view: string): string {
  const context = Object.entries(ep.context)
    .map(([k, c]) => `${k}:${c.shape.slice(1)}`)
    .sort();
  return `${ep.views[view].shape.slice(2)}|${ep.actions?.shape.slice(2) ?? '-'}|${context.join(';')}`;
}

/**
 * One training episode of a generalist fit, as a specialist on its world would see it: E = 1 episode holding the
 * view (and its mask), the actions (null on a world without actions), the context, `lengths` when it was cut.
 * The episodes of every world come in one seeded, interleaved order.
 */
export interface GeneralistEpisode {
  episode: Episodes;
  /**
   * The index, in the worlds the model was created with, of the world this episode came from: given only when the
   * user asks (`--tell-world`); null otherwise, and then the model must infer it from the data.
   */
  world: number | null;
}

/**
 * One model of several worlds at once: fitted once on the union of their training data, then asked to forecast
 * each world's test windows. `world` in forecast follows the same rule as in fit: the index when told, else null.
 */
export interface GeneralistModel {
  fit(data: readonly GeneralistEpisode[], run: RunContext): Promise<FitReport>;
  /** As WorldModel.forecast, on a batch of windows of one world (which world: `world`, when told). */
  forecast(q: Query, world: number | null, run: RunContext): Promise<Forecast>;
  /** E.g. the worlds found and which episodes each explains; goes into every row of the fit. */
  explain?(): Record<string, unknown>;
  dispose?(): Promise<void>;
}

/** What a model package default-exports. */
export interface WorldModelModule<C extends object = object> {
  card: ModelCard;
  /** The config's values when no override is given (`config.defaults` for a model with a schema). */
  defaults: C;
  /**
   * The config's table of fields (defineConfig in core: type, default, range or choices, doc). The runner coerces
   * `model[key=value]` with it, validates every config at plan time (a value it refuses is a user error, exit 2)
   * and lists it in `pnpm bench list --config MODEL`. Absent: each field takes the type of its default, no range.
   */
  config?: ConfigSchema<C>;
  /**
   * Optional: config keys of retired designs, each with what became of it (e.g. `{ contextRead: 'the pointer
   * token reads the program; git history keeps the other readers' }`). An override naming one is refused with
   * that message (exit 2) instead of the plain "no config key".
   */
  retiredKeys?: Readonly<Record<string, string>>;
  /**
   * Optional: true when this config asks for what a scenario tells beyond its spec (its hypotheses), i.e. the
   * model runs as an oracle. Only then does the runner pass `privileged` to supports, create and load, and it
   * marks those rows privileged. Absent or false: the model is told only the spec, as every other model.
   */
  readsPrivileged?(config: C): boolean;
  /**
   * The views this model reads on a scenario (`privileged`: what the scenario tells beyond its spec, passed only when
   * readsPrivileged(config)).
   */
  supports(spec: ScenarioSpec, privileged?: PrivilegedInfo): Support;
  create(spec: ScenarioSpec, view: string, config: C, privileged?: PrivilegedInfo): Promise<WorldModel>;
  /**
   * Optional: the opt-in to the generalist protocols. One model of every world given (each read on `view`, which
   * supports(spec) lists), fitted once on all their data. A model without it is n/a for those protocols (the runner
   * says why). Never given a scenario's hypotheses: an oracle config is n/a for the generalist protocols.
   */
  createGeneralist?(worlds: readonly GeneralistWorld[], config: C): Promise<GeneralistModel>;
  /** Restores what `save` wrote; `privileged` is the same information `create` was given. */
  load(dir: string, privileged?: PrivilegedInfo): Promise<WorldModel>;
}

/**
 * What a scenario tells this model beyond its spec: its hypotheses when the model's config asks for them
 * (readsPrivileged) and the scenario states any; otherwise undefined. The one rule every tool applies.
 */
export function privilegedInfo<C extends object>(
  module: Pick<WorldModelModule<C>, 'readsPrivileged'>,
  config: C,
  scenario: { hypotheses?: HypothesisSpace },
): PrivilegedInfo | undefined {
  return module.readsPrivileged?.(config) === true && scenario.hypotheses
    ? { hypotheses: scenario.hypotheses }
    : undefined;
}

/** A RunContext for tests and scripts: quiet, never aborted. */
export function quietRun(seed: number): RunContext {
  return { seed, signal: new AbortController().signal, log: () => {}, progress: () => {} };
}

/**
 * A model scheme: `--model <scheme>:<arg>` (e.g. `onnx:./model.onnx`) is handed to `resolve`, which returns the
 * module of that one model. What a package registers under "worldbench": { "schemes": { ... } } default-exports.
 */
export interface ModelScheme {
  scheme: string;
  summary: string;
  resolve(arg: string, root: string): Promise<WorldModelModule>;
}
