import { readdirSync } from 'node:fs';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through this export
// condition, so tests need no prior build. Vite's `module` condition is left
// out: dependencies are loaded by Node itself, which must see what Node sees.
const conditions = ['@resilience/source', ...defaultServerConditions.filter((c) => c !== 'module')];

function workspaceDirs(parent: string): string[] {
  return readdirSync(new URL(`./${parent}`, import.meta.url), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${parent}/${entry.name}`);
}

// One vitest project per workspace package: packages, examples and the benchmarks harness.
const projectRoots = [...workspaceDirs('packages'), ...workspaceDirs('examples'), 'benchmarks', 'tooling'];

// A project is named after its folder (`core`, `http`); an example whose folder
// repeats a package's name (`examples/otel` beside `packages/otel`) is `example-<name>`.
function projectName(root: string): string {
  const name = root.slice(root.lastIndexOf('/') + 1);
  const clash = root.startsWith('examples/') && projectRoots.includes(`packages/${name}`);
  return clash ? `example-${name}` : name;
}

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    projects: projectRoots.map((root) => ({
      extends: true,
      test: {
        name: projectName(root),
        root,
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        testTimeout: 20_000,
      },
    })),
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['**/*.test.ts', '**/index.ts', '**/types.ts', 'packages/core/src/context.ts'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: {
        'packages/core/src/**': { lines: 95, branches: 95, functions: 95, statements: 95 },
      },
    },
  },
});
