import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyRegistry } from '@resilience/core';
import { afterAll, describe, expect, it } from 'vitest';
import { alertOnOpen } from '../src/ops/alert-on-open.js';
import { watchPolicies } from '../src/ops/reload-limits.js';

const scratch = mkdtempSync(join(tmpdir(), 'resilience-ops-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function until(predicate: () => boolean, limitMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > limitMs) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('docs/operations.md examples', () => {
  it('reloads a limit when the file changes, and keeps it when the new file is wrong', async () => {
    const file = join(scratch, 'limits.json');
    writeFileSync(file, JSON.stringify({ rateLimiter: { api: { rate: 50 } } }));
    const policies = new PolicyRegistry();
    const limiter = policies.rateLimiter('api', { rate: 10 });
    const lines: string[] = [];
    const stop = await watchPolicies(policies, file, (line) => lines.push(line), 20);
    try {
      expect(limiter.rate).toBe(50);
      writeFileSync(file, JSON.stringify({ rateLimiter: { api: { rate: 7 } } }));
      await until(() => limiter.rate === 7);
      writeFileSync(file, JSON.stringify({ rateLimiter: { api: { rate: -1 } } }));
      await until(() => lines.some((line) => line.startsWith('kept the previous settings')));
      expect(limiter.rate).toBe(7);
      expect(lines.at(-1)).toMatch(/rateLimiter\.api: RateLimiter: rate must be a finite number > 0, got -1/);
    } finally {
      stop();
    }
  });

  it('alerts when any breaker opens, also one created later, and survives a failing notifier', async () => {
    const policies = new PolicyRegistry();
    const early = policies.circuitBreaker('early', { readyToTrip: () => true });
    const alerts: string[] = [];
    const stop = alertOnOpen(policies, async (name, from) => {
      alerts.push(`${name} from ${from}`);
      throw new Error('webhook down');
    });
    const late = policies.circuitBreaker('late', { readyToTrip: () => true });
    const failing = (): never => {
      throw new Error('down');
    };
    await expect(early.execute(failing)).rejects.toThrow('down');
    await expect(late.execute(failing)).rejects.toThrow('down');
    expect(alerts).toEqual(['early from closed', 'late from closed']);
    stop();
    early.reset();
    await expect(early.execute(failing)).rejects.toThrow('down');
    expect(alerts).toHaveLength(2);
  });
});
