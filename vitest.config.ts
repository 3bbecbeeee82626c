import { readdirSync, existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// One vitest project per workspace package that has a test/ folder.
const projects = ['packages', 'scenarios'].flatMap((group) =>
  readdirSync(group, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`${group}/${d.name}/test`))
    .map((d) => ({
      test: {
        name: `${group}/${d.name}`,
        root: `${group}/${d.name}`,
        include: ['test/**/*.test.ts'],
        testTimeout: 120_000,
        hookTimeout: 120_000,
      },
    })),
);

// `slow`: a test that takes minutes rather than seconds on the 2-core machine (end-to-end training to a quality
// margin, a bench sweep as a subprocess, a scaffolded package benched). `pnpm test` runs everything;
// `pnpm test:unit` (the fast loop) skips these with --tags-filter='!slow' (CONTRIBUTING.md).
const tags = [
  { name: 'slow', description: 'minutes-long end-to-end test: skipped by pnpm test:unit, run by pnpm test' },
];

export default defineConfig({ test: { projects, pool: 'forks', tags } });
