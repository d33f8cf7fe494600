import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

describe('@resilience/metrics-prometheus package', () => {
  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/index.js'))) await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root });
  }, 60_000);

  it('is an ESM package with the core and prom-client as peers', () => {
    expect(manifest).toMatchObject({
      type: 'module',
      sideEffects: false,
      license: 'MIT OR Apache-2.0',
      engines: { node: '>=20.19' },
      peerDependencies: { '@resilience/core': 'workspace:>=0.1.0 <1', 'prom-client': '^15.1.0' },
    });
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.files).toEqual(['dist', 'dashboards', 'rules', 'LICENSE-MIT', 'LICENSE-APACHE']);
    // Only code entry points: the dashboard and the rules are files to point Grafana and Prometheus at.
    expect(Object.keys(manifest.exports)).toEqual(['.', './package.json']);
    expect(Object.keys(manifest.exports['.'])).toEqual(['@resilience/source', 'types', 'default']);
  });

  it('loads from its built files in plain Node, by its own name, and the shipped files are there', async () => {
    const script = `
      import { metricsHandler, PrometheusRecorder } from '@resilience/metrics-prometheus';
      import { Registry } from 'prom-client';
      import { readFileSync } from 'node:fs';
      import { fileURLToPath } from 'node:url';
      const registry = new Registry();
      new PrometheusRecorder({ registry }).recordTimeout('x');
      if (typeof metricsHandler(registry) !== 'function') throw new Error('no handler');
      const root = new URL('.', import.meta.resolve('@resilience/metrics-prometheus/package.json'));
      JSON.parse(readFileSync(fileURLToPath(new URL('dashboards/resilience.json', root)), 'utf8'));
      readFileSync(fileURLToPath(new URL('rules/resilience.rules.yml', root)), 'utf8');
      console.log(await registry.metrics());
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    expect(stdout).toContain('resilience_timeouts_total{name="x"} 1');
  });
});
