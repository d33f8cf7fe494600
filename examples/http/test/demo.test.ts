import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the demo as `pnpm demo` does (tsx with the source condition), without a TTY. */
function demo(args: string[]): Promise<Run> {
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
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the demo', () => {
  it('runs the whole fault timeline in 8 s, shows it live and passes every check', { timeout: 60_000 }, async () => {
    const run = await demo(['--duration', '8']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const frames = run.stdout.split('\n').filter((line) => /^\[\s*\d+\.\ds\]/.test(line));
    expect(frames.length).toBeGreaterThanOrEqual(7);
    for (const phase of ['healthy', 'failing', 'slow', 'recovery', 'spike']) {
      expect(frames.some((line) => line.includes(` ${phase} `))).toBe(true);
    }
    expect(frames.some((line) => line.includes('closed→open'))).toBe(true);
    expect(run.stdout).toMatch(/Summary: \d+ requests in \d+\.\d s/);
    expect(run.stdout).toContain('PASS  the breaker opened while the upstream failed');
    expect(run.stdout).toContain('PASS  requests timed out while the upstream was slow');
    expect(run.stdout).toContain('PASS  the breaker closed again after recovery');
    expect(run.stdout).toContain('PASS  429s appeared during the spike');
    expect(run.stdout).toContain('Result: the patterns behaved as expected.');
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
});
