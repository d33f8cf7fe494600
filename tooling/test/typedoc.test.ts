import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { publicPackages, repoRoot } from '../src/workspace.js';

// `pnpm run docs` builds the API reference of every public package with TypeDoc
// (tooling/typedoc: TypeDoc on TypeScript 6, as TypeScript 7 has no JS API yet)
// and treats every warning as an error. This runs the same configuration into a
// scratch folder, so a missing TSDoc comment, a broken {@link} or a README link
// TypeDoc cannot follow fails CI.
const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'resilience-typedoc-'));
const typedocDir = join(repoRoot, 'tooling', 'typedoc');

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the API reference', () => {
  it('builds for every public package with no warning', async () => {
    // TypeDoc reads each package's exports map (`types` → dist/*.d.ts, mapped back to
    // the sources), so the packages must be built; turbo's cache makes this cheap in `pnpm test`.
    await run('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--output-logs=errors-only'], {
      cwd: repoRoot,
      timeout: 240_000,
    });
    const result = await run(
      join(typedocDir, 'node_modules', '.bin', 'typedoc'),
      ['--options', 'typedoc.json', '--out', out],
      { cwd: typedocDir, timeout: 240_000 },
    ).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({
        code: err.code ?? 1,
        output: (err.stdout ?? '') + (err.stderr ?? ''),
      }),
    );
    expect(result.output).not.toMatch(/\[warning\]|\[error\]/);
    expect(result.code).toBe(0);
    for (const { manifest } of publicPackages()) {
      // One page per package: `@resilience/core` → out/_resilience/core/… (TypeDoc's naming).
      expect(result.output, manifest.name).toMatch(
        new RegExp(`Converting project at .*packages/${manifest.name.split('/')[1]}`),
      );
    }
    expect(existsSync(join(out, 'index.html'))).toBe(true);
  }, 480_000);

  it('is the TypeScript 6 of tooling/typedoc, while the workspace compiles with TypeScript 7', async () => {
    const typedocTs = await run(join(typedocDir, 'node_modules', '.bin', 'tsc'), ['--version']);
    const workspaceTs = await run(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['--version']);
    expect(typedocTs.stdout).toMatch(/Version 6\./);
    expect(workspaceTs.stdout).toMatch(/Version 7\./);
  });
});
