import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  type: string;
  sideEffects: boolean;
  engines: { node: string };
};

function builtFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? builtFiles(join(dir, entry.name)) : entry.name.endsWith('.js') ? [join(dir, entry.name)] : [],
  );
}

describe('@resilience/core package', () => {
  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/index.js'))) await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root });
  }, 60_000);

  it('has no runtime dependencies of any kind', () => {
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.peerDependencies ?? {}).toEqual({});
    expect(manifest.optionalDependencies ?? {}).toEqual({});
  });

  it('imports nothing but its own modules at run time', () => {
    const bare: string[] = [];
    for (const file of builtFiles(join(root, 'dist'))) {
      // Comments (TSDoc examples import the package by name) are not code.
      const source = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      for (const match of source.matchAll(/(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) {
        if (!match[1]?.startsWith('.')) bare.push(`${file}: ${match[1]}`);
      }
      for (const match of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        bare.push(`${file}: ${match[1] ?? match[2]}`);
      }
    }
    expect(bare).toEqual([]);
  });

  it('is an ESM package whose exports resolve types before code and export package.json', () => {
    expect(manifest.type).toBe('module');
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.engines.node).toBe('>=20.19');
    expect(manifest.exports['./package.json']).toBe('./package.json');
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'string') continue;
      // The workspace-only source condition comes first so that typecheck and tests never see a stale dist.
      expect(Object.keys(target), subpath).toEqual(['@resilience/source', 'types', 'default']);
      expect(existsSync(join(root, target['@resilience/source'] ?? '')), subpath).toBe(true);
    }
  });

  const expected = { guard: true, errorIs: true, chain: 'function', clock: 0, configured: 3 };

  it('works for an ESM consumer (import)', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'test/fixtures/consumer.mjs')], { cwd: root });
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  it('works for a CommonJS consumer (require of ESM)', async () => {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'test/fixtures/consumer.cjs')], { cwd: root });
    expect(JSON.parse(stdout)).toEqual(expected);
    expect(stderr).not.toMatch(/Error/);
  });
});
