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
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
};

function builtFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? builtFiles(join(dir, entry.name)) : entry.name.endsWith('.js') ? [join(dir, entry.name)] : [],
  );
}

describe('@resilience/redis package', () => {
  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/index.js'))) await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root });
  }, 60_000);

  it('has no dependencies: the core is a peer, both Redis clients optional peers repeated in devDependencies', () => {
    expect(manifest.dependencies ?? {}).toEqual({});
    // A workspace range, whichever form the repository's 0.x policy uses (`workspace:^` or `workspace:>=0.1.0 <1`).
    expect(manifest.peerDependencies['@resilience/core']).toMatch(/^workspace:/);
    for (const client of ['ioredis', 'redis']) {
      expect(manifest.peerDependencies[client]).toMatch(/^\^\d/);
      expect(manifest.peerDependenciesMeta[client]?.optional).toBe(true);
      expect(manifest.devDependencies[client]).toBeDefined();
    }
  });

  it('loads neither Redis client at run time (the user passes one in)', () => {
    const bare = new Set<string>();
    for (const file of builtFiles(join(root, 'dist'))) {
      const source = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      for (const match of source.matchAll(/(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) {
        if (!match[1]?.startsWith('.')) bare.add(match[1] as string);
      }
      for (const match of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        bare.add((match[1] ?? match[2]) as string);
      }
    }
    expect([...bare].sort()).toEqual(['@resilience/core', '@resilience/core/validate', 'node:crypto']);
  });
});
