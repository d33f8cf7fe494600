import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

// The example runs against a real HTTP server on loopback; only what does not depend on timing is checked.
it('hedges the slow requests, sheds a failing dependency, moves the limit, absorbs injected faults', async () => {
  const { stdout } = await run('pnpm', ['--silent', 'start'], { cwd: root, timeout: 30_000 });
  const lines = stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^hedging: 40 of 40 calls answered, [1-9]\d* hedges started$/);
  const throttle = /^throttle: 200 calls, (\d+) sent, (\d+) shed locally$/.exec(lines[1] ?? '');
  expect(throttle).not.toBeNull();
  expect(Number(throttle?.[1]) + Number(throttle?.[2])).toBe(200);
  expect(Number(throttle?.[2])).toBeGreaterThan(100);
  expect(lines[2]).toMatch(/^throttle: rejection probability after the outage 0\.\d\d$/);
  expect(lines[3]).toBe('adaptive bulkhead: limit 10 -> 5 after failures -> 20 after successes');
  expect(lines[4]).toBe('chaos: 10 of 10 calls succeeded through the retry despite injected faults');
}, 40_000);
