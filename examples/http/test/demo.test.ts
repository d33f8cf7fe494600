import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

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
  it('runs the whole fault timeline in 8 s, shows it live and passes every check', { timeout: 60_000 }, async () => {
    const logs = join(scratch, 'gateway.jsonl');
    const run = await demo(['--duration', '8', '--logs', logs]);
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
    expect(run.stdout).toContain('Result: the patterns behaved as expected.');
    // Every pattern logs, the request-level timeout included.
    const records = readFileSync(logs, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.some((r) => r.msg === 'timed out' && Object.values(r).includes('request'))).toBe(true);
    expect(records.some((r) => r.msg === 'timed out' && Object.values(r).includes('upstream_attempt'))).toBe(true);
    expect(records.some((r) => r.msg === 'breaker state changed')).toBe(true);
  });

  it('lists its options with --help', { timeout: 30_000 }, async () => {
    const run = await demo(['--help']);
    expect(run.code).toBe(0);
    for (const option of ['--duration', '--port', '--phases', '--logs']) expect(run.stdout).toContain(option);
  });

  it('refuses bad options with exit code 2', { timeout: 30_000 }, async () => {
    const run = await demo(['--phases', 'healthy,meltdown']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown phase "meltdown"');
  });

  it('exits 2 quickly with a clear message when --port is in use', { timeout: 30_000 }, async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const run = await demo(['--port', String(port), '--duration', '5'], 20_000);
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
      const run = await demo(['--logs', path, '--duration', '5'], 20_000);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--logs: cannot write to ${path}`);
      expect(run.stdout).toBe('');
    }
  });
});
