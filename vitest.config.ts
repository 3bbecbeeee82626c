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

export default defineConfig({ test: { projects, pool: 'forks' } });
