import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const hasRedis = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;
const inCI = process.env.CI === 'true' || process.env.CI === '1';
if (!hasRedis) {
  const message = 'redis-server is not installed: `apt-get update && apt-get install -y redis-server`';
  if (inCI) throw new Error(message);
  console.warn(`skipping examples/distributed: ${message}`);
}

function start(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.REDIS_URL;
    const child = spawn(process.execPath, [tsxCli, '--conditions=@resilience/source', 'src/main.ts'], {
      cwd: root,
      env,
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
    const limit = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!hasRedis)('examples/distributed', () => {
  it('two gateway processes share one limit and one bulkhead through Redis', { timeout: 60_000 }, async () => {
    const run = await start();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const statuses = [...run.stdout.matchAll(/^request +\d+ via port (\d+): (\d{3})/gm)].map((m) => [m[1], m[2]]);
    expect(statuses).toHaveLength(16);
    // 10 pass in total (not 10 per gateway), the first 10, served by both gateways; the rest are refused.
    expect(statuses.map(([, status]) => status)).toEqual([...Array(10).fill('200'), ...Array(6).fill('429')]);
    expect(new Set(statuses.map(([port]) => port)).size).toBe(2);
    expect(run.stdout).toContain('allowed 10 of 16');
    const seen = /as each saw it: ([\d, ]+) \(limit 2\)/.exec(run.stdout)?.[1]?.split(', ').map(Number) ?? [];
    expect(seen).toHaveLength(4);
    for (const running of seen) expect(running).toBeLessThanOrEqual(2);
  });
});
