// report.html treats every field of a results file as untrusted: a crafted run folder yields no script and no
// event-handler attribute; what is not a number or a PNG data URI where one belongs is not shown at all.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../src/report';
import { ATTACK, bench, craftedRun, syntheticResult, tagAttributes, joined } from './helpers';

describe('pnpm bench report of a crafted results file', () => {
  it('escapes every text field, skips lines whose numbers or images are not, and says so', () => {
    const dir = craftedRun();
    const r = bench(['report', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `skipped 7 line(s) of ${join(dir, 'results.jsonl')} that are not results (e.g. budget: Invalid input: ` +
        `expected number, received string)`,
    );
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<img src=x|<svg onload/i);
    const attributes = tagAttributes(html);
    expect(attributes.length).toBeGreaterThan(100); // the tokenizer does read the report's tags
    expect(attributes.filter((a) => a.startsWith('on'))).toEqual([]);
    // shown, escaped
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toContain('state&#39; onmouseover=&#39;alert(3)');
    // the one real PNG is shown; the lines with a string budget or seed, or a false image, are not
    expect(html.match(/<img /g)).toHaveLength(1);
    expect(html).toMatch(
      joined(
        /<img class="strip" alt="filmstrip of &lt;script&gt;alert\(1\)&lt;\/script&gt;" /,
        /src="data:image\/png;base64,[A-Za-z0-9+/]+={0,2}">/,
      ),
    );
    expect(html).not.toMatch(/alert\((4|5)\)"|onerror="alert/);
    expect(readFileSync(join(dir, 'leaderboard.md'), 'utf8')).toContain(
      '1 of 2 planned jobs done (1 ok, 0 unsupported, 1 failed)',
    );
  });

  it(
    'renders numbers only where they are numbers and images only where they are PNG data URIs, even from lines ' +
      'never checked',
    async () => {
      const unchecked = syntheticResult({
        budget: ATTACK.script as never,
        seed: ATTACK.img as never,
        filmstrip: [`x${ATTACK.img}`, 'data:image/png;base64,AAAA'],
      });
      const failed = syntheticResult({
        key: 'k2',
        status: 'failed',
        metrics: null,
        budget: ATTACK.svg as never,
        seed: ATTACK.attr as never,
        error: 'x',
      });
      const html = await renderReport([unchecked, failed], ATTACK.script);
      expect(html).not.toMatch(/<script|<img src=x|<svg onload/i);
      expect(tagAttributes(html).filter((a) => a.startsWith('on'))).toEqual([]);
      expect(html).toContain('<li>m s-v1/state offline b=n/a seed=n/a: x</li>');
      expect(html.match(/<img /g)).toHaveLength(1); // only the PNG data URI
      expect(html).toContain('src="data:image/png;base64,AAAA"');
    },
  );
});
