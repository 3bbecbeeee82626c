// The primitives of the HTML report: Vega-Lite specs rendered to SVG, escaping of untrusted text, grouping.
/** A Vega-Lite spec compiled and rendered to SVG, in Node (no canvas, no browser). */
export async function svg(spec: object): Promise<string> {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const compiled = vl.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: { font: 'sans-serif' },
    ...spec,
  } as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  return view.toSVG();
}

// Everything shown comes from results files, which are shared and merged across machines: untrusted. Text is
// escaped; numbers are shown only when they are numbers; images only when they are PNG data URIs.
export const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
export const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? String(x) : 'n/a');
/** Items grouped by key, the groups in key order. */
export function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(it);
  }
  return new Map([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
