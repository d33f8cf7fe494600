import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { AdaptiveBulkhead } from '@resilience/core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsHandler, PrometheusRecorder } from '../src/index.js';
import { binary } from './binaries.js';

// A real Prometheus scrapes the example gateway (examples/http, started as `pnpm start` starts it) every
// second while traffic with failures runs; then every query of the dashboard and every selector of the
// rules must return series through Prometheus' HTTP API. The gateway has no adaptive bulkhead, so a second
// target in this process serves a real AdaptiveBulkhead's metrics for the adaptive-limit panel.

const prometheus = binary('prometheus');
const promtool = binary('promtool');
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const exampleDir = fileURLToPath(new URL('../../../examples/http', import.meta.url));
const rulesFile = join(packageDir, 'rules/resilience.rules.yml');
const dashboard = JSON.parse(readFileSync(join(packageDir, 'dashboards/resilience.json'), 'utf8')) as Dashboard;

interface Dashboard {
  panels: { title: string; targets: { expr: string; legendFormat: string }[] }[];
  templating: { list: { name: string; type: string; definition?: string }[] };
}

interface Sample {
  metric: Record<string, string>;
}

/** What the dashboard's variables become: Grafana's "All" for `name`, a window of many scrapes for the rate. */
function substitute(expr: string): string {
  return expr.replaceAll('$__rate_interval', '30s').replaceAll('$name', '.*');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A child process whose output is kept, to show when something fails. */
function start(command: string, args: string[], cwd: string): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!killed) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Polls `check` until it returns true or `ms` pass. */
async function until(ms: number, check: () => Promise<boolean> | boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return true;
    await sleep(200);
  }
  return false;
}

describe.skipIf(prometheus === undefined || promtool === undefined)(
  'the dashboard and the rules against a real Prometheus',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'resilience-prometheus-'));
    let gateway: ReturnType<typeof start> | undefined;
    let server: ReturnType<typeof start> | undefined;
    let api = '';
    let metricsUrl = '';
    let adaptiveServer: Server | undefined;

    async function query(promql: string): Promise<Sample[]> {
      const res = await fetch(`${api}/api/v1/query?${new URLSearchParams({ query: promql })}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: Sample[] } };
      if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
      return body.data?.result ?? [];
    }

    async function series(match: string): Promise<Sample['metric'][]> {
      const params = new URLSearchParams({ 'match[]': match, start: String(Date.now() / 1000 - 120) });
      const body = (await (await fetch(`${api}/api/v1/series?${params}`)).json()) as {
        status: string;
        error?: string;
        data: Sample['metric'][];
      };
      if (body.status !== 'success') throw new Error(`${match}: ${body.error}`);
      return body.data;
    }

    beforeAll(async () => {
      // The gateway, as `pnpm start` runs it, on free ports.
      gateway = start(
        process.execPath,
        ['--conditions=@resilience/source', '--import', 'tsx', 'src/start.ts', '--port', '0', '--upstream-port', '0'],
        exampleDir,
      );
      let urls: { url: string; metrics: string; upstream: string } | undefined;
      const listening = await until(30_000, () => {
        const line = gateway
          ?.output()
          .split('\n')
          .find((l) => l.includes('"gateway listening"'));
        if (line !== undefined) urls = JSON.parse(line);
        return urls !== undefined;
      });
      if (!listening || urls === undefined) throw new Error(`the example gateway did not start:\n${gateway.output()}`);

      // A real AdaptiveBulkhead (AIMD) whose limit moves: failures back it off from 20.
      const adaptiveRegistry = new Registry();
      const adaptive = new AdaptiveBulkhead({
        name: 'adaptive_pool',
        algorithm: 'aimd',
        initialLimit: 20,
        metrics: new PrometheusRecorder({ registry: adaptiveRegistry }),
      });
      for (let i = 0; i < 3; i++) await adaptive.execute(() => Promise.reject(new Error('overloaded'))).catch(() => {});
      expect(adaptive.limit).toBeLessThan(20);
      adaptiveServer = createHttpServer(metricsHandler(adaptiveRegistry));
      await new Promise<void>((resolve) => adaptiveServer?.listen(0, '127.0.0.1', resolve));
      const adaptiveTarget = `127.0.0.1:${(adaptiveServer.address() as { port: number }).port}`;

      const port = await freePort();
      api = `http://127.0.0.1:${port}`;
      metricsUrl = urls.metrics;
      const target = new URL(urls.metrics);
      writeFileSync(
        join(dir, 'prometheus.yml'),
        [
          'global:',
          '  scrape_interval: 1s',
          '  scrape_timeout: 1s',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${JSON.stringify(rulesFile)}`,
          'scrape_configs:',
          '  - job_name: example-http',
          `    metrics_path: ${target.pathname}`,
          '    static_configs:',
          `      - targets: [${JSON.stringify(target.host)}]`,
          '  - job_name: adaptive-bulkhead',
          '    static_configs:',
          `      - targets: [${JSON.stringify(adaptiveTarget)}]`,
          '',
        ].join('\n'),
      );
      server = start(
        prometheus as string,
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ],
        dir,
      );
      const ready = await until(20_000, async () => (await fetch(`${api}/-/ready`)).ok);
      if (!ready) throw new Error(`Prometheus did not become ready:\n${server.output()}`);

      // Traffic with failures: steady clients throughout, the upstream healthy, slow, failing, healthy again,
      // a crowd of concurrent calls while it is slow (the bulkhead queues and sheds) and a burst at the end
      // (the rate limiter refuses).
      const quote = `${urls.url}/api/quote`;
      const get = (): Promise<void> =>
        fetch(quote)
          .then((res) => res.arrayBuffer())
          .then(
            () => {},
            () => {},
          );
      const setMode = (mode: string): Promise<unknown> => fetch(`${urls?.upstream}/mode/${mode}`, { method: 'PUT' });
      let running = true;
      const clients = Array.from({ length: 4 }, async () => {
        while (running) {
          await get();
          await sleep(40);
        }
      });
      try {
        await sleep(3000);
        await setMode('slow');
        await Promise.all(Array.from({ length: 24 }, get));
        await sleep(1500);
        await setMode('failing');
        await sleep(3000);
        await setMode('healthy');
        await Promise.all(Array.from({ length: 150 }, get));
        await sleep(2000);
      } finally {
        running = false;
        await Promise.all(clients);
      }
    }, 90_000);

    afterAll(async () => {
      await stop(server?.child);
      await stop(gateway?.child);
      adaptiveServer?.closeAllConnections();
      await new Promise<void>((resolve) => (adaptiveServer ? adaptiveServer.close(() => resolve()) : resolve()));
      rmSync(dir, { recursive: true, force: true });
    }, 20_000);

    it('scrapes the example gateway', async () => {
      const up = await query('max_over_time(up{job="example-http"}[1m])');
      expect(up.map((s) => (s as Sample & { value: [number, string] }).value[1])).toEqual(['1']);
    });

    it("promtool check metrics passes on the gateway's /metrics after the traffic", async () => {
      const text = await (await fetch(metricsUrl)).text();
      expect(text).toContain('resilience_circuit_breaker_calls_total{name="upstream",outcome="rejected"}');
      const result = spawnSync(promtool as string, ['check', 'metrics'], {
        input: text,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(`${result.stdout}${result.stderr}`).toBe('');
      expect(result.status).toBe(0);
    });

    it('every query of every panel returns series, with the labels its legend uses', async () => {
      const targets = dashboard.panels.flatMap((panel) =>
        panel.targets.map((target) => ({
          panel: panel.title,
          expr: substitute(target.expr),
          legend: target.legendFormat,
        })),
      );
      expect(targets.length).toBeGreaterThanOrEqual(9);
      const empty: string[] = [];
      await until(15_000, async () => {
        empty.length = 0;
        for (const target of targets) {
          if ((await query(target.expr)).length === 0) empty.push(`${target.panel}: ${target.expr}`);
        }
        return empty.length === 0;
      });
      expect(empty, `queries without series; Prometheus says:\n${server?.output()}`).toEqual([]);

      const known = new Set(((await (await fetch(`${api}/api/v1/labels`)).json()) as { data: string[] }).data);
      for (const target of targets) {
        // Every label the query groups by or matches on exists in what was scraped.
        for (const [, list] of target.expr.matchAll(/by \(([^)]*)\)/g)) {
          for (const label of (list as string).split(',').map((l) => l.trim()))
            expect(known, target.expr).toContain(label);
        }
        for (const [, label] of target.expr.matchAll(/[{,]\s*([a-zA-Z_]\w*)\s*=~?/g))
          expect(known, target.expr).toContain(label);
        for (const sample of await query(target.expr)) {
          for (const [, label] of target.legend.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
            expect(sample.metric, `${target.expr} legend ${target.legend}`).toHaveProperty(label as string);
          }
        }
      }
    }, 45_000);

    it('the name variable lists the patterns of the gateway', async () => {
      const variable = dashboard.templating.list.find((v) => v.name === 'name');
      const match = /^label_values\((.+), (\w+)\)$/.exec(variable?.definition ?? '');
      expect(match).not.toBeNull();
      const [, selector, label] = match as RegExpExecArray;
      const params = new URLSearchParams({ 'match[]': selector as string });
      const values = (
        (await (await fetch(`${api}/api/v1/label/${label}/values?${params}`)).json()) as { data: string[] }
      ).data;
      expect(values).toEqual(expect.arrayContaining(['gateway', 'request', 'upstream', 'upstream_attempt']));
    });

    it('the rules load and evaluate, and every selector in them and every recorded series has series', async () => {
      type Rule = { name: string; query: string; type: string; health: string; lastError?: string };
      const rules = (
        (await (await fetch(`${api}/api/v1/rules`)).json()) as { data: { groups: { rules: Rule[] }[] } }
      ).data.groups.flatMap((g) => g.rules);
      expect(rules).toHaveLength(13);

      const missing: string[] = [];
      await until(15_000, async () => {
        missing.length = 0;
        for (const rule of rules) {
          const selectors = rule.query.match(/\b[a-z_]*:?resilience_[a-z_:0-9]+(\{[^}]*\})?/g) ?? [];
          if (selectors.length === 0) missing.push(`${rule.name}: no selector found in ${rule.query}`);
          for (const selector of selectors) {
            if ((await series(selector)).length === 0) missing.push(`${rule.name}: ${selector}`);
          }
          if (rule.type === 'recording' && (await series(rule.name)).length === 0)
            missing.push(`recorded ${rule.name}`);
        }
        return missing.length === 0;
      });
      expect(missing).toEqual([]);

      const latest = (
        (await (await fetch(`${api}/api/v1/rules`)).json()) as { data: { groups: { rules: Rule[] }[] } }
      ).data.groups.flatMap((g) => g.rules);
      expect(latest.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError}`)).toEqual([]);
    }, 45_000);
  },
);
