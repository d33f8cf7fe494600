import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Manifest, publicPackages, repoRoot } from '../src/workspace.js';

// The 0.x policy, checked by running `changeset version` on a scratch copy of the
// workspace: every adapter takes the core as a peer over all of 0.x
// (`>=0.1.0 <1`), so a core minor release leaves the adapters' versions and peer
// ranges alone, and only a core 1.0 forces them to follow.
const packages = publicPackages();
const core = packages.find(({ manifest }) => manifest.name === '@resilience/core');
const adapters = packages.filter(({ manifest }) => manifest.peerDependencies?.['@resilience/core'] !== undefined);
const scratches: string[] = [];

afterEach(() => {
  for (const dir of scratches.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Copies the workspace (sources and manifests, no build output), with only the given changeset. */
function scratchWith(changeset: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'resilience-version-'));
  scratches.push(dir);
  const skip = new Set(['node_modules', 'dist', '.git', '.turbo', 'coverage', 'tarballs']);
  // The snippet checker (snippets.test.ts) writes `.snippets-<pid>` folders while it runs.
  const scratch = /^\.snippets-/;
  cpSync(repoRoot, dir, {
    recursive: true,
    filter: (source) =>
      !relative(repoRoot, source)
        .split('/')
        .some((part) => skip.has(part) || scratch.test(part)),
  });
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  for (const name of readdirSync(join(dir, '.changeset'))) {
    if (name.endsWith('.md') && name !== 'README.md') rmSync(join(dir, '.changeset', name));
  }
  writeFileSync(join(dir, '.changeset', 'scratch.md'), changeset);
  execFileSync(join(repoRoot, 'node_modules', '.bin', 'changeset'), ['version'], { cwd: dir, stdio: 'ignore' });
  return dir;
}

function manifestIn(dir: string, pkgDir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, relative(repoRoot, pkgDir), 'package.json'), 'utf8')) as Manifest;
}

/** Whether a `>=a.b.c <N` range (the only form the adapters use for the core) admits `version`. */
function admits(range: string, version: string): boolean {
  const match = /^(?:workspace:)?>=(\d+)\.(\d+)\.(\d+) <(\d+)$/.exec(range);
  if (match === null) throw new Error(`unexpected core peer range ${JSON.stringify(range)}`);
  const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
  const floor = [Number(match[1]), Number(match[2]), Number(match[3])] as const;
  const atLeast = major !== floor[0] ? major > floor[0] : minor !== floor[1] ? minor > floor[1] : patch >= floor[2];
  return atLeast && major < Number(match[4]);
}

describe('versioning in 0.x', () => {
  it('has a core and at least one adapter that takes it as a peer', () => {
    expect(core).toBeDefined();
    expect(adapters.length).toBeGreaterThan(0);
    for (const { manifest } of adapters) {
      expect(manifest.peerDependencies?.['@resilience/core'], manifest.name).toBe('workspace:>=0.1.0 <1');
      expect(manifest.devDependencies?.['@resilience/core'], manifest.name).toBe('workspace:*');
    }
  });

  it('a core minor release leaves every adapter as it is, and inside its peer range', () => {
    const dir = scratchWith('---\n"@resilience/core": minor\n---\n\nA new feature.\n');
    const next = manifestIn(dir, core?.dir ?? '').version;
    expect(next).not.toBe(core?.manifest.version);
    for (const { dir: pkgDir, manifest } of adapters) {
      const after = manifestIn(dir, pkgDir);
      expect(after.version, manifest.name).toBe(manifest.version);
      const range = after.peerDependencies?.['@resilience/core'] ?? '';
      expect(range, manifest.name).toBe(manifest.peerDependencies?.['@resilience/core']);
      expect(admits(range, next), `${manifest.name} admits core ${next}`).toBe(true);
    }
  });

  it('a core major release (1.0) moves every adapter to a new major that admits it', () => {
    const dir = scratchWith('---\n"@resilience/core": major\n---\n\nThe 1.0 release.\n');
    const next = manifestIn(dir, core?.dir ?? '').version;
    expect(next.startsWith('1.')).toBe(true);
    for (const { dir: pkgDir, manifest } of adapters) {
      const after = manifestIn(dir, pkgDir);
      expect(after.version.split('.')[0], manifest.name).not.toBe(manifest.version.split('.')[0]);
      expect(after.peerDependencies?.['@resilience/core'], manifest.name).toContain(next);
    }
  });

  it('publishes as a dry run with pnpm, every public package', () => {
    const output = execFileSync('pnpm', ['publish', '-r', '--dry-run', '--no-git-checks'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const { manifest } of packages) expect(output).toContain(`+ ${manifest.name}@${manifest.version}`);
  }, 120_000); // packs every package: ~11 s alone, past the default 20 s when the machine is busy
});
