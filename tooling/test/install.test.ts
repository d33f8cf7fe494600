import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packTarballs } from '../src/tarballs.js';
import { entryPoints, type PublicPackage, publicPackages, repoRoot } from '../src/workspace.js';

// The packages as a user outside this repository gets them: tarballs packed from
// the workspace, installed with plain npm (from the registry for their peers)
// into a fresh project in the system's temp folder, then imported, required and
// type-checked the two ways TypeScript projects resolve modules today.
const packages = publicPackages();
const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
let project = '';

/** What npm must install beside the tarballs: every peer outside the workspace and the types the packages' declarations import. */
function thirdPartyInstalls(pkgs: PublicPackage[]): string[] {
  const specs = new Map<string, string>();
  for (const { manifest } of pkgs) {
    const dev = manifest.devDependencies ?? {};
    for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
      if (name.startsWith('@resilience/')) continue;
      // The version the workspace develops against, when it is a plain range (not an alias).
      const devRange = dev[name];
      specs.set(name, devRange !== undefined && !devRange.startsWith('npm:') ? devRange : range);
    }
    for (const [name, range] of Object.entries(dev)) {
      if (name.startsWith('@types/')) specs.set(name, range);
    }
  }
  specs.set('typescript', rootManifest.devDependencies.typescript ?? 'latest');
  specs.set('@types/node', rootManifest.devDependencies['@types/node'] ?? '^20.19.0');
  return [...specs].map(([name, range]) => `${name}@${range}`);
}

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const specifiers = packages.flatMap(({ manifest }) => entryPoints(manifest));

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'resilience-install-'));
  const tarballs = packTarballs(join(project, 'tarballs'));
  expect(tarballs).toHaveLength(packages.length);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, ...thirdPartyInstalls(packages)]);
}, 300_000);

afterAll(() => {
  if (project !== '') rmSync(project, { recursive: true, force: true });
});

describe('the packed tarballs, installed with npm outside the workspace', () => {
  it('carry real peer ranges, the dual license and both license files', () => {
    for (const { manifest } of packages) {
      const installed = JSON.parse(
        readFileSync(join(project, 'node_modules', manifest.name, 'package.json'), 'utf8'),
      ) as typeof manifest;
      expect(installed.license, manifest.name).toBe('MIT OR Apache-2.0');
      for (const range of Object.values(installed.peerDependencies ?? {})) {
        expect(range, manifest.name).not.toMatch(/^workspace:/);
      }
      for (const file of ['LICENSE-MIT', 'LICENSE-APACHE']) {
        const shipped = readFileSync(join(project, 'node_modules', manifest.name, file), 'utf8');
        expect(shipped, `${manifest.name}/${file} is the root's`).toBe(readFileSync(join(repoRoot, file), 'utf8'));
      }
      expect(readFileSync(join(project, 'node_modules', manifest.name, 'README.md'), 'utf8').length).toBeGreaterThan(
        500,
      );
    }
  });

  it('import as ES modules, every entry point', () => {
    const script = [
      ...specifiers.map((spec, i) => `import * as m${i} from '${spec}';`),
      `const modules = { ${specifiers.map((spec, i) => `'${spec}': m${i}`).join(', ')} };`,
      'for (const [spec, m] of Object.entries(modules)) if (Object.keys(m).length === 0) throw new Error(spec + " exports nothing");',
      'const { CircuitBreaker } = m0;',
      'const value = await new CircuitBreaker({}).execute(async ({ signal }) => (signal.aborted ? 0 : 42));',
      'console.log(JSON.stringify({ value, count: Object.keys(modules).length }));',
    ].join('\n');
    expect(specifiers[0]).toBe('@resilience/core');
    writeFileSync(join(project, 'check.mjs'), script);
    expect(JSON.parse(run('node', ['check.mjs']))).toEqual({ value: 42, count: specifiers.length });
  });

  it('require from CommonJS, every entry point', () => {
    const script = [
      `const specs = ${JSON.stringify(specifiers)};`,
      'const loaded = specs.map((spec) => [spec, require(spec)]);',
      'for (const [spec, m] of loaded) if (Object.keys(m).length === 0) throw new Error(spec + " exports nothing");',
      "console.log(String(typeof require('@resilience/core').CircuitBreaker));",
    ].join('\n');
    writeFileSync(join(project, 'check.cjs'), script);
    expect(run('node', ['--no-warnings', 'check.cjs']).trim()).toBe('function');
  });

  it.each(['nodenext', 'bundler'])('type-check strictly with moduleResolution %s', (resolution) => {
    writeFileSync(
      join(project, 'check.ts'),
      [
        ...specifiers.map((spec, i) => `import * as m${i} from '${spec}';`),
        "import { CircuitBreaker, isCircuitOpenError, type Operation } from '@resilience/core';",
        `export const modules: object[] = [${specifiers.map((_, i) => `m${i}`).join(', ')}];`,
        'const work: Operation<number> = async ({ signal, attempt }) => (signal.aborted ? 0 : attempt);',
        'export const value: Promise<number> = new CircuitBreaker<number>({ timeout: 1_000 }).execute(work);',
        'export const open: boolean = isCircuitOpenError(new Error("x"));',
      ].join('\n'),
    );
    const module = resolution === 'nodenext' ? 'nodenext' : 'preserve';
    writeFileSync(
      join(project, `tsconfig.${resolution}.json`),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          lib: ['es2023'],
          module,
          moduleResolution: resolution,
          types: ['node'],
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['check.ts'],
      }),
    );
    // tsc prints its diagnostics on stdout and exits non-zero on any.
    let output = '';
    try {
      output = run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', `tsconfig.${resolution}.json`]);
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output.trim()).toBe('');
  });
});
