import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

it('rides out the outage: retries, opens the breaker, fails fast, recovers', async () => {
  const { stdout } = await run('pnpm', ['--silent', 'start'], { cwd: root, timeout: 30_000 });
  const lines = stdout.trim().split('\n');
  const results = lines.filter((line) => !line.startsWith('{'));
  const events = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  expect(results[0]).toBe('healthy: ok (call 1, attempt 1)');
  expect(results[1]).toMatch(/^outage, 1st call: MaxAttemptsReachedError: Gave up after 3 attempts, last: /);
  // The retry does not retry into the open breaker: the CircuitOpenError reaches the caller as it is.
  expect(results[2]).toMatch(/^outage, 2nd call: failed fast \(Circuit breaker is open/);
  expect(results[3]).toMatch(/^recovered: ok \(call \d+, attempt 1\)$/);
  const transitions = events
    .filter((event) => event.msg === 'circuit breaker state changed')
    .map((event) => `${event['resilience.circuit_breaker.from']}->${event['resilience.circuit_breaker.state']}`);
  expect(transitions[0]).toBe('closed->open');
  expect(transitions.at(-1)).toBe('half-open->closed');
}, 40_000);
