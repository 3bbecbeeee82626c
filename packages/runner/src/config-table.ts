// `pnpm bench list --config MODEL`: a model's config table as text, one block per key (its type, default, what
// it takes, and the doc with the reason), from the same table that coerces and validates overrides.
import type { ConfigSchema } from '@worldbench/core';

export function formatConfigTable(id: string, schema: ConfigSchema): string {
  if (schema.fields.length === 0) return `${id} has no config keys: there is nothing to override.\n`;
  const width = Math.max(...schema.fields.map((f) => f.key.length));
  const lines = [`config of ${id} (override with --model '${id}[key=value,...]'):`, ''];
  for (const f of schema.fields) {
    lines.push(`  ${f.key.padEnd(width)}  = ${JSON.stringify(f.default)}   (${f.takes})`);
    lines.push(`  ${''.padEnd(width)}    ${f.doc}`);
  }
  const retired = Object.keys(schema.retiredKeys);
  if (retired.length) lines.push('', `retired keys (refused, with what became of them): ${retired.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
