import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

it('retries, opens the breaker, fails fast without reaching the server, recovers, and reports health', async () => {
  const { stdout } = await run('pnpm', ['--silent', 'start'], { cwd: root, timeout: 30_000 });
  const lines = stdout.trim().split('\n');
  expect(lines).toEqual([
    'healthy: Hello, Ada',
    'stream: 3… 2… 1… go, Ada!',
    'health: SERVING',
    // The three attempts of the first call (one call, two retries) trip the breaker.
    '  [breaker closed -> open]',
    'outage, 1st call: UNAVAILABLE: greeter is down',
    expect.stringMatching(
      /^outage, 2nd call: UNAVAILABLE: Circuit breaker open: \/example\.Greeter\/SayHello rejected locally without a call; retry after \d+ ms$/,
    ),
    expect.stringMatching(/^outage, 3rd call: UNAVAILABLE: Circuit breaker open: /),
    'server calls during the fast failure: 0',
    'health: NOT_SERVING',
    '  [breaker open -> half-open]',
    '  [breaker half-open -> closed]',
    'recovered: Hello, Linus',
    'health: SERVING',
    'with a time budget: Hello, Barbara',
  ]);
}, 40_000);
