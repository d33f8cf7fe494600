import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const repoRoot: string = fileURLToPath(new URL('../..', import.meta.url));

/** The parts of a workspace package's manifest the release tooling reads. */
export interface Manifest {
  /** The package's name, `@resilience/…`. */
  name: string;
  /** Its version. */
  version: string;
  /** Private packages (examples, benchmarks, this one) are never packed or published. */
  private?: boolean;
  /** The SPDX license expression. */
  license?: string;
  /** The exports map: subpath → conditions. */
  exports?: Record<string, unknown>;
  /** Peer dependencies: name → range (may use the `workspace:` protocol). */
  peerDependencies?: Record<string, string>;
  /** Which peers are optional. */
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  /** Development dependencies: name → range. */
  devDependencies?: Record<string, string>;
}

/** A public workspace package: where it lives and its manifest. */
export interface PublicPackage {
  /** Its folder, absolute. */
  dir: string;
  /** Its parsed `package.json`. */
  manifest: Manifest;
}

/** Every package under `packages/` that is not private, in folder order. */
export function publicPackages(): PublicPackage[] {
  const parent = join(repoRoot, 'packages');
  return readdirSync(parent, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const dir = join(parent, entry.name);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
      return { dir, manifest };
    })
    .filter(({ manifest }) => manifest.private !== true)
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/** The import specifiers a package's exports map offers (`@resilience/core`, `@resilience/core/errors`, …). */
export function entryPoints(manifest: Manifest): string[] {
  return Object.keys(manifest.exports ?? { '.': {} })
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => (subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`));
}
