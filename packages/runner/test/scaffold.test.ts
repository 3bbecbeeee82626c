// The plug-in developer experience end to end, in a temporary copy of the workspace: the commands of
// docs/writing-a-model.md and docs/writing-a-scenario.md are run as written, and the code the docs show is
// the code the scaffold writes.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, scratch } from './helpers';

/** A copy of the workspace's files (tracked and new, not ignored), installed from the local store. */
function workspaceCopy(): string {
  const dir = join(scratch(), 'workspace');
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(root, f), join(dir, f));
  }
  execFileSync('pnpm', ['install', '--offline', '--frozen-lockfile'], { cwd: dir, stdio: 'ignore' });
  return dir;
}

/** The fenced blocks of a markdown file, by language. */
function blocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

function run(cwd: string, line: string): { code: number; stdout: string; stderr: string } {
  const [cmd, ...args] = line.trim().split(/\s+/);
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('scaffolds and the docs that show them', () => {
  const ws = workspaceCopy();

  it.each([
    ['docs/writing-a-model.md', 'packages/my-model', ['src/config.ts', 'src/index.ts', 'test/my-model.test.ts']],
    ['docs/writing-a-scenario.md', 'scenarios/my-scenario', ['src/index.ts', 'test/my-scenario.test.ts']],
  ])(
    '%s: its commands run as written and its code is the scaffold output',
    { tags: ['slow'], timeout: 600_000 },
    (doc, dir, files) => {
      const markdown = readFileSync(join(root, doc), 'utf8');
      for (const line of blocks(markdown, 'sh')[0].trim().split('\n')) {
        const r = run(ws, line);
        expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      }
      // the first JSON block is the package.json field the scaffold writes (later ones: an outside model's tsconfig, a
      // sidecar)
      for (const fragment of blocks(markdown, 'json').slice(0, 1))
        expect(readFileSync(join(ws, dir, 'package.json'), 'utf8')).toContain(fragment.trim());
      const shown = blocks(markdown, 'ts');
      for (const file of files)
        expect(shown, `${doc} shows ${dir}/${file}`).toContain(readFileSync(join(ws, dir, file), 'utf8'));
    },
  );

  it('a scaffolded model benches ok and beats persistence on bouncing-balls; a scaffolded scenario benches linear', {
    tags: ['slow'],
    timeout: 600_000,
  }, () => {
    const model = JSON.parse(
      run(
        ws,
        'pnpm --silent bench --model my-model,persistence --scenario bouncing-balls --view state --budgets 256 ' +
          '--json --out r1',
      ).stdout,
    );
    const knn = model.results.find((r: { model: string }) => r.model === 'my-model');
    expect(knn.status).toBe('ok');
    expect(knn.metrics.test.skill['1']).toBeGreaterThan(0);
    const scenario = JSON.parse(
      run(ws, 'pnpm --silent bench --model linear --scenario my-scenario --budgets 256 --json --out r2').stdout,
    );
    expect(scenario.results.map((r: { status: string }) => r.status)).toEqual(['ok']);
    expect(scenario.results[0].metrics.test.skill['1']).toBeGreaterThan(0.5);
    // bench check: the scaffolded model passes on every registered scenario (the scaffolded one included)
    const check = run(ws, 'pnpm --silent bench check my-model');
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^  PASS  bouncing-balls-v1\s+views state, frame$/m);
    expect(check.stdout).toMatch(/^  PASS  my-scenario-v1\s+views state$/m);
    // a hyphenated name with "-v" inside it: its id stack-vm-v1 typechecks (the old id type refused it)
    expect(run(ws, 'pnpm new-scenario stack-vm').code).toBe(0);
    expect(readFileSync(join(ws, 'scenarios/stack-vm/src/index.ts'), 'utf8')).toContain("id: 'stack-vm-v1'");
    const tsc = run(ws, 'pnpm exec tsc -p tsconfig.json --noEmit');
    expect(tsc.code, tsc.stdout).toBe(0);
  });

  it.each([
    ['pnpm new-model Bad_Name', /not a valid model name/],
    ['pnpm new-model linear', /a model named "linear" is already registered/],
    ['pnpm new-scenario bouncing-balls', /a scenario named "bouncing-balls" is already registered/],
    ['pnpm new-scenario', /usage: pnpm new-scenario <name>/],
  ])('%s exits 2 and says why', (line, message) => {
    const r = run(ws, line);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
