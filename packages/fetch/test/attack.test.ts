import { afterEach, describe, expect, it } from 'vitest';
import { createFetch } from '../src/index.js';
import { answer, startServer, type TestServer } from './helpers.js';

// Regression tests from an attack on the built package over real HTTP (undici).
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('createFetch attacked', () => {
  it('does not retry a POST whose Idempotency-Key is on a Request that init.headers replaces', async () => {
    const keys: (string | undefined)[] = [];
    server = await startServer((req, res) => {
      keys.push(req.headers['idempotency-key'] as string | undefined);
      answer(res, 503);
    });
    const fetch = createFetch({ breaker: false, retry: { initialDelay: 1, jitter: false } });
    const request = new Request(`${server.origin}/pay`, { method: 'POST', headers: { 'Idempotency-Key': 'k1' } });
    // fetch(request, { headers }) sends init's headers only: the key is not sent, so a retry would pay twice.
    const res = await fetch(request, { headers: { 'x-trace': '1' } });
    expect(res.status).toBe(503);
    expect(keys).toEqual([undefined]);
    // The key kept on the Request alone is honoured.
    keys.length = 0;
    const kept = await fetch(request);
    expect(kept.status).toBe(503);
    expect(keys).toEqual(['k1', 'k1', 'k1']);
  });
});
