// The docs keep running: every TypeScript block of docs/api.md and docs/hypothesis-spaces.md is type-checked and
// run as it stands, from a folder outside the repository, type-checked the way docs/writing-a-model.md tells an
// author to type-check a model kept outside it (whose commands run here too). The scaffold docs' blocks are the
// scaffold's output: scaffold.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverPlugins } from '@worldbench/core';
import { root } from './helpers';

/** The fenced blocks of a markdown file, by language. */
function blocks(doc: string, lang: string): string[] {
  return [...readFileSync(join(root, doc), 'utf8').matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map(
    (m) => m[1],
  );
}

/** The outside-model section's tsconfig and commands, with the doc's placeholders filled in. */
const outsideSection = (folder: string) => {
  const markdown = readFileSync(join(root, 'docs/writing-a-model.md'), 'utf8');
  const section = markdown.slice(
    markdown.indexOf('## A model kept outside the repository'),
    markdown.indexOf('## ONNX models'),
  );
  const fill = (text: string) => text.replaceAll('/path/to/worldbench', root).replaceAll('~/my-model', folder);
  const [tsconfig, pkg] = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => fill(m[1]));
  const [commands] = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    fill(m[1])
      .trim()
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '')),
  );
  return { tsconfig, pkg, commands };
};

const sh = (line: string, cwd: string) =>
  spawnSync('sh', ['-c', line], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
    maxBuffer: 64 * 1024 * 1024,
  });

/** A folder outside the repository holding `files` and the doc's tsconfig.json and package.json. */
function outsideFolder(files: Record<string, string>): { dir: string; commands: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'worldbench-outside-'));
  const { tsconfig, pkg, commands } = outsideSection(dir);
  writeFileSync(join(dir, 'tsconfig.json'), tsconfig);
  writeFileSync(join(dir, 'package.json'), pkg);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, commands };
}

describe('docs code blocks', () => {
  it.each(['docs/api.md', 'docs/hypothesis-spaces.md'])(
    '%s: every block type-checks and runs',
    { tags: ['slow'], timeout: 300_000 },
    (doc) => {
      const code = blocks(doc, 'ts');
      expect(code.length).toBeGreaterThan(0);
      // a block whose first line is "// file: name.ts" is that file (later blocks import it); the others are block-N.ts
      const files = Object.fromEntries(
        code.map((text, i) => [/^\/\/ file: (\S+)/.exec(text)?.[1] ?? `block-${i}.ts`, text]),
      );
      const { dir, commands } = outsideFolder(files);
      const typecheck = sh(commands[0], root);
      expect(typecheck.status, typecheck.stdout + typecheck.stderr).toBe(0);
      for (const name of Object.keys(files)) {
        const r = spawnSync('pnpm', ['exec', 'tsx', join(dir, name)], { cwd: root, encoding: 'utf8' });
        expect(r.status, `${doc} ${name}:\n${r.stderr}`).toBe(0);
      }
    },
  );
});

describe('a model kept outside the repository (docs/writing-a-model.md)', () => {
  const model = (params: string) => `import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { episodeCount, forecastViews, tensor, type WorldModel, type WorldModelModule } from '@worldbench/core';
const zeros = (shape: readonly number[]): WorldModel => ({
  fit: async () => ({ params: ${params} }),
  forecast: async (q) => ({ mean: tensor([episodeCount(q.history), q.horizon, ...shape]) }),
  save: async (dir) => writeFileSync(join(dir, 'shape.json'), JSON.stringify(shape)),
});
const module: WorldModelModule<{}> = {
  card: { id: 'outside-zeros', school: 'external', summary: 'forecasts zeros' },
  defaults: {},
  supports: (spec) => ({ views: forecastViews(spec).filter((v) => v === 'state') }),
  create: async (spec, view) => zeros(spec.views[view].shape),
  load: async (dir) => zeros(JSON.parse(readFileSync(join(dir, 'shape.json'), 'utf8'))),
};
export default module;
`;

  it('type-checks against the checkout with the tsconfig the doc gives, and a type error is caught', {
    tags: ['slow'],
    timeout: 120_000,
  }, () => {
    const good = outsideFolder({ 'my-model.ts': model('0') });
    expect(sh(good.commands[0], root).status).toBe(0);
    const bad = outsideFolder({ 'my-model.ts': model("'none'") });
    const r = sh(bad.commands[0], root);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/my-model\.ts\(5,\d+\): error TS\d+: /);
    expect(r.stdout).toContain("Type 'string' is not assignable to type 'number'");
  });

  it('runs through bench check from where the doc says', () => {
    const { commands } = outsideFolder({ 'my-model.ts': model('0') });
    const r = sh(commands[1], tmpdir());
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^  PASS  bouncing-balls-v1\s+views state$/m);
    // one check per registered scenario
    expect(r.stdout).toMatch(new RegExp(`^${discoverPlugins(root).scenarios.length} check\\(s\\) passed$`, 'm'));
  }, 120_000);
});
