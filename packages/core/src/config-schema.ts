// A model's config as one table of fields: type, default, range or choices, and a one-line doc with the reason.
// From the table come the TypeScript type (ConfigOf), validation (resolve: plan time and create), the CLI's
// coercion of `model[key=value]` (coerce) and `pnpm bench list --config MODEL` (fields).
//
// Fields are zod schemas: `width: z.number().int().min(1).default(64).describe('why 64')`. zod (not a helper of
// our own, nor valibot) because it is already the runner's results schema, its chain reads as a table row, and
// z.toJSONSchema gives the type, range, choices, default and doc of every field without a second library.
import { z } from 'zod';

export { z };

/** What a field takes, as the CLI reads it: 'choice' fields list their values, 'json' ones take JSON. */
export type ConfigFieldType = 'integer' | 'number' | 'boolean' | 'string' | 'choice' | 'json';

/** One row of a config's table. */
export interface ConfigField {
  key: string;
  type: ConfigFieldType;
  default: unknown;
  /** What values the field takes, in words: "an integer >= 1", "a number in [0, 1]", "'onnx' or 'tfjs'". */
  takes: string;
  /** The enum's values of a 'choice' field. */
  choices?: readonly string[];
  doc: string;
}

/** A model's config: its defaults, its table of fields, and the two ways in (a partial config, a CLI string). */
export interface ConfigSchema<C extends object = object> {
  /** The model id, for messages. */
  model: string;
  defaults: C;
  fields: readonly ConfigField[];
  /** Keys of retired designs, each with what became of it: a config naming one is refused with that message. */
  retiredKeys: Readonly<Record<string, string>>;
  /**
   * The defaults with `config`'s values; throws a plain Error naming every field it cannot use (an unknown or
   * retired key, a value of the wrong type, out of range or not among the choices, a cross-field rule).
   */
  resolve(config?: object): C;
  /** The CLI text of `key=value` as the field's type; throws a plain Error saying what the key takes. */
  coerce(key: string, raw: string): unknown;
}

/** The config type a schema resolves to. */
export type ConfigOf<S> = S extends ConfigSchema<infer C> ? C : never;

export interface DefineConfigOptions<C> {
  /** Rules between fields (e.g. width divisible by heads): the problems of a config whose fields are each valid. */
  check?: (config: C) => string[];
  retiredKeys?: Readonly<Record<string, string>>;
}

/** The table of `model`'s config, from one zod schema per field (each with a `.default` and a `.describe`). */
export function defineConfig<S extends z.ZodRawShape>(
  model: string,
  shape: S,
  options: DefineConfigOptions<z.output<z.ZodObject<S>>> = {},
): ConfigSchema<z.output<z.ZodObject<S>>> {
  type C = z.output<z.ZodObject<S>>;
  const schema = z.strictObject(shape);
  const fields = fieldsOf(model, schema);
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const retiredKeys = options.retiredKeys ?? {};
  const valid = () => fields.map((f) => f.key).join(', ') || '(none)';
  return {
    model,
    get defaults(): C {
      return schema.parse({}) as C;
    },
    fields,
    retiredKeys,
    resolve(config: object = {}): C {
      const problems: string[] = [];
      for (const key of Object.keys(config)) {
        if (byKey.has(key)) continue;
        if (Object.hasOwn(retiredKeys, key)) problems.push(`key ${key} was retired (${retiredKeys[key]}); drop it`);
        else problems.push(`no config key "${key}"; valid: ${valid()}`);
      }
      if (problems.length) throw new Error(`${model} config: ${problems.join('; ')}`);
      const parsed = schema.safeParse(config);
      if (!parsed.success) {
        const seen = new Set<string>();
        for (const issue of parsed.error.issues) {
          const key = String(issue.path[0] ?? '');
          const field = byKey.get(key);
          if (!field || seen.has(key)) continue;
          seen.add(key);
          problems.push(`${key} is ${field.takes}, got ${JSON.stringify((config as Record<string, unknown>)[key])}`);
        }
        if (!problems.length) problems.push(parsed.error.issues.map((i) => i.message).join('; '));
        throw new Error(`${model} config: ${problems.join('; ')}`);
      }
      const c = parsed.data as C;
      problems.push(...(options.check?.(c) ?? []));
      if (problems.length) throw new Error(`${model} config: ${problems.join('; ')}`);
      return c;
    },
    coerce(key: string, raw: string): unknown {
      const field = byKey.get(key);
      if (!field) throw new Error(`${model} has no config key "${key}"; valid: ${valid()}`);
      const bad = () => new Error(`${model}[${key}=${raw}]: ${key} is ${field.takes}`);
      switch (field.type) {
        case 'integer':
        case 'number': {
          const value = Number(raw);
          if (raw.trim() === '' || !Number.isFinite(value)) throw bad();
          return value;
        }
        case 'boolean':
          if (raw !== 'true' && raw !== 'false') throw bad();
          return raw === 'true';
        case 'string':
        case 'choice':
          return raw;
        case 'json':
          try {
            return JSON.parse(raw);
          } catch {
            throw bad();
          }
      }
    },
  };
}

/**
 * A schema for a model that states only `defaults` (a plug-in written without defineConfig): each field takes
 * the type of its default (any finite number, true or false, any string, or JSON), with no range.
 */
export function configFromDefaults(
  model: string,
  defaults: object,
  retiredKeys: Readonly<Record<string, string>> = {},
): ConfigSchema<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, value] of Object.entries(defaults)) {
    const doc = '(no doc: the model states only its default)';
    const given = structuredClone(value);
    if (typeof value === 'number') shape[key] = z.number().default(given).describe(doc);
    else if (typeof value === 'boolean') shape[key] = z.boolean().default(given).describe(doc);
    else if (typeof value === 'string') shape[key] = z.string().default(given).describe(doc);
    else shape[key] = z.unknown().default(given).describe(doc);
  }
  return defineConfig(model, shape, { retiredKeys }) as unknown as ConfigSchema<Record<string, unknown>>;
}

type JsonField = {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
  description?: string;
};

/** The rows of the table, read off the schema's JSON Schema (zod's own description of types, ranges and enums). */
function fieldsOf(model: string, schema: z.ZodObject): ConfigField[] {
  const properties =
    (z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonField> })
      .properties ?? {};
  return Object.entries(properties).map(([key, p]) => {
    if (!('default' in p)) throw new Error(`${model} config: field ${key} has no default; give it .default(value)`);
    if (!p.description)
      throw new Error(
        `${model} config: field ${key} has no doc; give it .describe('what it is, and why this default')`,
      );
    const type: ConfigFieldType = p.enum
      ? 'choice'
      : p.type === 'integer' || p.type === 'number' || p.type === 'boolean' || p.type === 'string'
        ? p.type
        : 'json';
    const choices = p.enum?.map(String);
    return {
      key,
      type,
      default: p.default,
      takes: takesOf(type, p, choices),
      ...(choices ? { choices } : {}),
      doc: p.description,
    };
  });
}

/** A field's values in words. */
function takesOf(type: ConfigFieldType, p: JsonField, choices?: string[]): string {
  if (type === 'choice') return choices!.map((c) => `'${c}'`).join(' or ');
  if (type === 'boolean') return 'true or false';
  if (type === 'string') return 'a string';
  if (type === 'json') return 'JSON';
  const noun = type === 'integer' ? 'an integer' : 'a number';
  const safe = (v: number | undefined) => (v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined);
  const lo = safe(p.exclusiveMinimum) ?? safe(p.minimum);
  const hi = safe(p.exclusiveMaximum) ?? safe(p.maximum);
  const loOpen = safe(p.exclusiveMinimum) !== undefined;
  const hiOpen = safe(p.exclusiveMaximum) !== undefined;
  if (lo !== undefined && hi !== undefined) return `${noun} in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`;
  if (lo !== undefined) return `${noun} ${loOpen ? '>' : '>='} ${lo}`;
  if (hi !== undefined) return `${noun} ${hiOpen ? '<' : '<='} ${hi}`;
  return noun;
}

/** The schema of a module's config: its own (defineConfig), or one typed by its defaults (configFromDefaults). */
export function configSchemaOf(
  id: string,
  module: { defaults: object; config?: ConfigSchema; retiredKeys?: Readonly<Record<string, string>> },
): ConfigSchema {
  return module.config ?? configFromDefaults(id, module.defaults, module.retiredKeys);
}
