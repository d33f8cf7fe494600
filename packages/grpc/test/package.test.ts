import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown> & {
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  dependencies?: Record<string, string>;
  exports: Record<string, unknown>;
};

describe('@resilience/grpc package', () => {
  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/index.js'))) await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root });
  }, 60_000);

  it('takes the core and grpc-js as peers, and only the shared @resilience/http as a runtime dependency', () => {
    expect(manifest.dependencies ?? {}).toEqual({ '@resilience/http': 'workspace:^' });
    expect(manifest.peerDependencies).toEqual({
      '@grpc/grpc-js': '^1.10.0',
      '@resilience/core': 'workspace:>=0.1.0 <1',
    });
    expect(manifest.devDependencies['@resilience/core']).toBe('workspace:*');
    expect(manifest.devDependencies['@grpc/grpc-js']).toMatch(/^\^1\./);
    expect(manifest.type).toBe('module');
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.files).toEqual(['dist', 'src', '!src/**/*.test.ts', 'LICENSE-MIT', 'LICENSE-APACHE']);
    expect(manifest.license).toBe('MIT OR Apache-2.0');
    expect((manifest.engines as { node: string }).node).toBe('>=20.19');
    expect(Object.keys(manifest.exports['.'] as object)).toEqual(['@resilience/source', 'types', 'default']);
    expect(manifest.exports['./package.json']).toBe('./package.json');
  });

  it('imports from its build under plain Node ESM (grpc-js is CommonJS: named imports must resolve)', async () => {
    const script =
      "const m = await import('@resilience/grpc'); " +
      "const fns = ['circuitBreakerInterceptor','retryInterceptor','rateLimitInterceptor','bulkheadInterceptor'," +
      "'deadlineInterceptor','rateLimitServerInterceptor','bulkheadServerInterceptor','healthService','withContext'];" +
      "console.log(fns.filter((f) => typeof m[f] !== 'function').join(',') || 'ok');";
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    expect(stdout.trim()).toBe('ok');
  });
});
