import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CHART_IDS } from '../src/html-report.js';
import { browserAvailable, openInChromium } from './browser.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** How long the process ran, in ms. */
  readonly ms: number;
}

/**
 * Runs the demo as `pnpm demo` does (tsx with the source condition), without
 * a TTY; kills it after `limitMs` (its code is then `null`), so a demo that
 * hangs fails the test instead of stalling it.
 */
function demo(args: string[], limitMs = 55_000): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsxCli, '--conditions=@resilience/source', 'src/demo.ts', ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const limit = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'resilience-demo-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the demo', () => {
  it('runs the whole fault timeline in 8 s, shows it live and passes every check', { timeout: 90_000 }, async () => {
    const logs = join(scratch, 'gateway.jsonl');
    const report = join(scratch, 'demo-report.html');
    const run = await demo(['--duration', '8', '--logs', logs, '--report', report]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const frames = run.stdout.split('\n').filter((line) => /^\[\s*\d+\.\ds\]/.test(line));
    expect(frames.length).toBeGreaterThanOrEqual(7);
    for (const phase of ['healthy', 'failing', 'slow', 'recovery', 'spike']) {
      expect(frames.some((line) => line.includes(` ${phase} `))).toBe(true);
    }
    expect(frames.some((line) => line.includes('closed→open'))).toBe(true);
    // Every frame shows what GET /health answers; it ends healthy. (Whether a given second catches the breaker
    // open or half-open depends on timing: test/health.test.ts checks the flip to 503 and back.)
    expect(frames.every((line) => / \| health (…|\d{3} (ok|degraded|down))$/.test(line))).toBe(true);
    expect(frames.at(-1)).toMatch(/health 200 (ok|degraded)$/);
    expect(run.stdout).toMatch(/Summary: \d+ requests in \d+\.\d s/);
    expect(run.stdout).toContain('PASS  the breaker opened while the upstream failed');
    expect(run.stdout).toContain('PASS  requests timed out while the upstream was slow');
    expect(run.stdout).toContain('PASS  the breaker closed again after recovery');
    expect(run.stdout).toContain('PASS  429s appeared during the spike');
    expect(run.stdout).toContain('PASS  the bulkhead shed load during the spike');
    expect(run.stdout).toContain('Result: the patterns behaved as expected.');
    expect(run.stdout).toContain(`Report: ${report} (open it in a browser`);
    // Every pattern logs, the request-level timeout included.
    const records = readFileSync(logs, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.some((r) => r.msg === 'timed out' && Object.values(r).includes('request'))).toBe(true);
    expect(records.some((r) => r.msg === 'timed out' && Object.values(r).includes('upstream_attempt'))).toBe(true);
    expect(records.some((r) => r.msg === 'breaker state changed')).toBe(true);

    // The report holds the run second by second: the spike's shedding and 429s are in it.
    const html = readFileSync(report, 'utf8');
    const embedded = /<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1];
    const series = JSON.parse(embedded ?? 'null').series as {
      seconds: number;
      outcomes: Record<string, number[]>;
      bulkhead: { active: number[] };
      breaker: Array<{ state: string }>;
    };
    expect(series.seconds).toBe(8);
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    expect(sum(series.outcomes.shed ?? [])).toBeGreaterThan(0);
    expect(sum(series.outcomes.rateLimited ?? [])).toBeGreaterThan(0);
    expect(Math.max(...series.bulkhead.active)).toBe(8);
    expect(series.breaker.map((s) => s.state)).toContain('open');
    if (browserAvailable()) {
      const opened = await openInChromium(report);
      try {
        expect(opened.problems).toEqual([]);
        expect(await opened.page.evaluate(() => document.body.dataset.drawn)).toBe(String(CHART_IDS.length));
      } finally {
        await opened.close();
      }
    }
  });

  it('lists its options with --help', { timeout: 30_000 }, async () => {
    const run = await demo(['--help']);
    expect(run.code).toBe(0);
    for (const option of ['--duration', '--port', '--phases', '--logs', '--report'])
      expect(run.stdout).toContain(option);
  });

  it('refuses bad options with exit code 2', { timeout: 30_000 }, async () => {
    const run = await demo(['--phases', 'healthy,meltdown', '--report', join(scratch, 'unused.html')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown phase "meltdown"');
  });

  it('exits 2 quickly with a clear message when --port is in use', { timeout: 30_000 }, async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const run = await demo(
        ['--port', String(port), '--duration', '5', '--report', join(scratch, 'unused.html')],
        20_000,
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--port ${port}: the port is in use`);
      expect(run.stdout).not.toContain('Summary');
      expect(run.ms).toBeLessThan(15_000);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('exits 2 with a clear message when --logs cannot be written', { timeout: 30_000 }, async () => {
    for (const path of [join(scratch, 'missing', 'gateway.jsonl'), scratch]) {
      const run = await demo(['--logs', path, '--duration', '5', '--report', join(scratch, 'unused.html')], 20_000);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--logs: cannot write to ${path}`);
      expect(run.stdout).toBe('');
    }
  });

  it('exits 2 with a clear message when --report cannot be written', { timeout: 30_000 }, async () => {
    for (const path of [join(scratch, 'missing', 'report.html'), scratch]) {
      const run = await demo(['--report', path, '--duration', '5'], 20_000);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--report: cannot write to ${path}`);
      expect(run.stdout).toBe('');
    }
  });
});
