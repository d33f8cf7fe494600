import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** How to get the binaries, for the skip message and the CI failure. */
export const INSTALL_HINT =
  "install Debian's prometheus package: apt-get update && apt-get install -y prometheus (it gives prometheus and promtool)";

/** Whether this run is CI, where a missing binary fails instead of skipping. */
export const inCI: boolean = process.env.CI === 'true' || process.env.CI === '1';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * The path of `name` (`prometheus` or `promtool`). When it is missing: in CI
 * (`CI=true`) this throws, so the test file fails rather than skips; locally it
 * prints how to install it and returns `undefined` (the caller skips).
 */
export function binary(name: 'prometheus' | 'promtool'): string | undefined {
  const path = onPath(name);
  if (path !== undefined) return path;
  if (inCI) throw new Error(`${name} is not installed, and CI must not skip these tests: ${INSTALL_HINT}`);
  console.warn(`Skipping the tests that need ${name}: it is not installed; ${INSTALL_HINT}`);
  return undefined;
}
