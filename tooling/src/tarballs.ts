// Builds every public package and packs each into an installable tarball:
// `pnpm tarballs [out-dir]` (default `tarballs/` at the root). pnpm's pack
// rewrites `workspace:` ranges into the real ones, which npm needs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { publicPackages, repoRoot } from './workspace.js';

/** Builds the public packages (through turbo, so a fresh build is a cache hit) and packs them into `outDir`; returns the tarball paths. */
export function packTarballs(outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  execFileSync('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--output-logs=errors-only'], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const before = new Set(readdirSync(outDir));
  for (const { dir } of publicPackages()) {
    execFileSync('pnpm', ['pack', '--pack-destination', outDir], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return readdirSync(outDir)
    .filter((name) => name.endsWith('.tgz') && !before.has(name))
    .map((name) => join(outDir, name))
    .sort();
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const outDir = resolve(process.argv[2] ?? join(repoRoot, 'tarballs'));
  for (const tarball of packTarballs(outDir)) console.log(tarball);
}
