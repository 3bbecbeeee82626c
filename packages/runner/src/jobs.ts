// Jobs: what one unit of benchmark work is, how a --model choice becomes a typed config, and job keys.
import { createHash } from 'node:crypto';
import { configSchemaOf, UserError, type WorldModelModule } from '@worldbench/core';

export const PROTOCOLS = [
  'offline',
  'offline-explore',
  'on-policy',
  'on-policy-random',
  'live',
  'generalist',
  'generalist-equal',
] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/**
 * The protocols of one model fitted on several worlds at once (docs/protocols.md): `generalist` on every world's
 * expert data at the job's budget each, `generalist-equal` at budget / N each. One fit makes one row per world.
 */
export const GENERALIST_PROTOCOLS = ['generalist', 'generalist-equal'] as const;

export const isGeneralist = (protocol: string): boolean =>
  (GENERALIST_PROTOCOLS as readonly string[]).includes(protocol);

/** What `--protocol all` means: every protocol of one world (the generalist ones are asked for by name). */
export const SPECIALIST_PROTOCOLS: readonly Protocol[] = PROTOCOLS.filter((p) => !isGeneralist(p));

export interface EvaluationSettings {
  /** Test episodes (one forecast window each), driven by `explore` actions, the same for every model. */
  testEpisodes: number;
  /** Out-of-distribution episodes, likewise. */
  oodEpisodes: number;
  /** Forecast horizon H. */
  horizon: number;
}

/** One unit of work: (model + resolved config, scenario@version, view, protocol, budget, seed, evaluation). */
export interface Job {
  /** Display label: the id, with overrides in brackets: "linear", "linear[ridge=0.1]". */
  model: string;
  modelId: string;
  config: Record<string, unknown>;
  scenario: string;
  view: string;
  protocol: Protocol;
  /** Training transitions; null for a pretrained model, which does not learn from the budget (shown as n/a). */
  budget: number | null;
  seed: number;
  evaluation: EvaluationSettings;
  /** Generalist protocols only: the scenario ids of the fit this row belongs to, sorted (part of the key). */
  worlds?: string[];
  /** Generalist protocols only: whether the model was told each episode's world (--tell-world). */
  tellWorld?: boolean;
}

/** The protocol as tables show it: a generalist row says whether its model was told the worlds ("generalist+told"). */
export function protocolLabel(job: Pick<Job, 'protocol' | 'tellWorld'>): string {
  return job.tellWorld ? `${job.protocol}+told` : job.protocol;
}

/** A job in a few words, for progress lines and messages: "linear bouncing-balls-v1/state offline b=256 seed=0". */
export function jobLabel(job: Job): string {
  const told = job.worlds ? (job.tellWorld ? ' told' : ' untold') : '';
  return `${job.model} ${job.scenario}/${job.view} ${job.protocol}${told} b=${job.budget} seed=${job.seed}`;
}

/**
 * The key of the generalist fit a row belongs to: its job without the row's own scenario and evaluation, with every
 * row's evaluation instead (the rows of one fit share it; a sweep runs it once, a shard keeps it whole).
 */
export function fitKey(job: Job, evaluations: Record<string, EvaluationSettings>, fingerprint: string): string {
  const { model: _label, scenario: _scenario, evaluation: _evaluation, ...identity } = job;
  return createHash('sha256')
    .update(canonicalJson({ ...identity, evaluations }))
    .update(fingerprint)
    .digest('hex')
    .slice(0, 20);
}

/** Splits on commas that are not inside brackets: "a,b[x=1,y=2],c" -> ["a", "b[x=1,y=2]", "c"]. */
export function splitList(text: string): string[] {
  const out: string[] = [];
  let depth = 0,
    current = '';
  for (const ch of text) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out.filter((s) => s.length > 0);
}

export interface ModelChoice {
  id: string;
  /** Raw "key=value" overrides, in the order given. */
  overrides: [string, string][];
}

/** "jepa[rolloutSteps=0,lr=3e-4]" -> { id: "jepa", overrides: [["rolloutSteps", "0"], ["lr", "3e-4"]] } */
export function parseModelChoice(text: string): ModelChoice {
  const m = /^([^[\]]+?)(?:\[(.*)\])?$/.exec(text.trim());
  if (!m)
    throw new UserError(
      `cannot read --model "${text}": write an id, optionally with overrides, e.g. linear[ridge=0.01]`,
    );
  const overrides: [string, string][] = [];
  for (const part of m[2] ? splitList(m[2]) : []) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UserError(`cannot read override "${part}" in --model "${text}": write key=value`);
    overrides.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
  return { id: m[1].trim(), overrides };
}

/**
 * The config of a model choice: its overrides coerced by the model's config table (configSchemaOf: its own, or
 * one typed by its defaults), then validated whole, so that a value outside its range or choices, an unknown key
 * (listing the valid ones) or a key of a retired design (saying what became of it) is a user error at plan time.
 */
export function resolveConfig(
  modelId: string,
  module: Pick<WorldModelModule, 'defaults' | 'config' | 'retiredKeys'>,
  overrides: [string, string][],
): Record<string, unknown> {
  const schema = configSchemaOf(modelId, module);
  const keys = new Set(schema.fields.map((f) => f.key));
  const given: Record<string, unknown> = {};
  for (const [key, raw] of overrides) {
    if (!keys.has(key) && Object.hasOwn(schema.retiredKeys, key))
      throw new UserError(
        `model ${modelId}: config key "${key}" was retired (${schema.retiredKeys[key]}); drop it from --model`,
      );
    // a Set of the table's keys, not `in`: that would also accept what every object inherits (__proto__, toString)
    if (!keys.has(key))
      throw new UserError(`model ${modelId} has no config key "${key}"; valid: ${[...keys].join(', ') || '(none)'}`);
    given[key] = asUserError(() => schema.coerce(key, raw));
  }
  const label = modelLabel({ id: modelId, overrides });
  return asUserError(() => schema.resolve(given) as Record<string, unknown>, `${label}: `);
}

/** Runs `f`, turning the plain Error a config table throws into a UserError (exit 2) with the same message. */
function asUserError<T>(f: () => T, prefix = ''): T {
  try {
    return f();
  } catch (err) {
    throw new UserError(`${prefix}${(err as Error)?.message ?? err}`, { cause: err });
  }
}

/** The canonical label of a model choice: id, with its overrides sorted by key. */
export function modelLabel(choice: ModelChoice): string {
  if (choice.overrides.length === 0) return choice.id;
  const parts = [...choice.overrides].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
  return `${choice.id}[${parts.join(',')}]`;
}

/** JSON with object keys sorted, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** A job's key: a hash of the job and the fingerprint of the code it imports. */
export function jobKey(job: Job, fingerprint: string): string {
  const { model: _label, ...identity } = job; // the label is derived from modelId + config
  return createHash('sha256').update(canonicalJson(identity)).update(fingerprint).digest('hex').slice(0, 20);
}
