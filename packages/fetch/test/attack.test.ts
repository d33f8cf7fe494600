import { CircuitBreaker, isCircuitOpenError } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createFetch } from '../src/index.js';
import { OriginBreakers } from '../src/origins.js';
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

  it('a Retry-After too long to represent waits maxDelay, not the short backoff', async () => {
    // delay-seconds is 1*DIGIT: 400 digits overflow a number, and mean "a very long time", not "no hint".
    server = await startServer((_req, res) => answer(res, 503, '', { 'retry-after': '9'.repeat(400) }));
    const delays: number[] = [];
    const fetch = createFetch({
      breaker: false,
      retry: { initialDelay: 1, maxDelay: 40, jitter: false, onRetry: (_a, _r, ms) => delays.push(ms) },
    });
    const res = await fetch(server.url);
    expect(res.status).toBe(503);
    expect(delays).toEqual([40, 40]);
  });

  it('never forgets the breaker of an origin while its requests are in flight', async () => {
    // A dead origin whose attempts time out, and more origins in use than maxOrigins meanwhile: the failures
    // of the requests in flight must still reach the breaker that will answer the next request.
    const dead = await startServer(() => {}); // never answers
    server = await startServer((_req, res) => answer(res, 200, 'ok'));
    try {
      const fetch = createFetch({
        retry: false,
        maxOrigins: 1,
        attemptTimeout: 200,
        breaker: { readyToTrip: (counts) => counts.consecutiveFailures >= 2 },
      });
      const inFlight = [fetch(dead.url).catch((e: unknown) => e), fetch(dead.url).catch((e: unknown) => e)];
      expect((await fetch(server.url)).status).toBe(200); // another origin, while the dead one's are in flight
      const errors = await Promise.all(inFlight);
      expect(errors.map((e) => (e as Error).name)).toEqual(['TimeoutError', 'TimeoutError']);
      const before = dead.count();
      await expect(fetch(dead.url)).rejects.toSatisfy(isCircuitOpenError);
      expect(dead.count()).toBe(before);
    } finally {
      await dead.close();
    }
  });

  it('OriginBreakers keeps a busy closed breaker until its last request leaves', () => {
    const map = new OriginBreakers(
      1,
      () => ({ state: 'closed' }),
      () => 0,
    );
    const a = map.get('a');
    map.enter('a');
    map.enter('a');
    map.get('b');
    expect(map.peek('a')).toBe(a);
    map.leave('a');
    map.get('c');
    expect(map.peek('a')).toBe(a);
    map.leave('a');
    map.get('d');
    expect(map.peek('a')).toBeUndefined();
    expect(map.size).toBe(1);
  });

  it('reads init as fetch does, through getters and prototypes: a Request or an inherited init keeps its method', async () => {
    server = await startServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => answer(res, 200, `${req.method} ${req.headers['x-a'] ?? '-'} ${body}`));
    });
    const fetch = createFetch({ breaker: false });
    const asInit = new Request(server.url, { method: 'PUT', headers: { 'x-a': '1' }, body: 'hello' });
    expect(await (await fetch(server.url, asInit)).text()).toBe('PUT 1 hello');
    const inherited = Object.create({ method: 'PATCH', headers: { 'x-a': '2' }, body: 'from proto' }) as RequestInit;
    expect(await (await fetch(server.url, inherited)).text()).toBe('PATCH 2 from proto');
  });

  it('a logger that throws while logging a rejected onRetry leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      server = await startServer((_req, res, n) => answer(res, n < 3 ? 503 : 200, 'b'));
      const fail = () => {
        throw new Error('logger broke');
      };
      const fetch = createFetch({
        breaker: false,
        logger: { debug: fail, info: fail, warn: fail, error: fail },
        retry: { initialDelay: 1, onRetry: () => Promise.reject(new Error('hook')) },
      });
      expect((await fetch(server.url)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a signal that is not an AbortSignal rejects with a TypeError naming init.signal, before any request', async () => {
    server = await startServer((_req, res) => answer(res, 200));
    const fetch = createFetch();
    const signal = { aborted: false } as unknown as AbortSignal;
    await expect(fetch(server.url, { signal })).rejects.toThrow(
      new TypeError('createFetch: init.signal must be an AbortSignal, got an object'),
    );
    expect(server.count()).toBe(0);
  });

  it('thousands of open origins do not make every new origin scan them all', () => {
    // 2,000 dead origins (open for a minute), then 1,000 healthy ones with maxOrigins 10: eviction used to walk
    // past every open breaker on each new origin (2 million state reads, seconds of event loop).
    let reads = 0;
    const make = (origin: string) => {
      const state = origin.startsWith('dead') ? 'open' : 'closed';
      return {
        get state() {
          reads++;
          return state;
        },
        toJSON: () => (state === 'open' ? { openRemainingMs: 60_000 } : {}),
      };
    };
    const map = new OriginBreakers(10, make, () => 0);
    for (let i = 0; i < 2000; i++) map.get(`dead${i}`);
    for (let i = 0; i < 1000; i++) map.get(`up${i}`);
    expect(map.size).toBe(2001); // the open ones and the newest
    expect(map.peek('dead0')?.state).toBe('open');
    expect(reads).toBeLessThan(20_000);
  });

  it("a request fetch refuses as invalid is the caller's error: not retried, not held against the origin", async () => {
    server = await startServer((_req, res) => answer(res, 200, 'ok'));
    const fetch = createFetch({ breaker: { readyToTrip: (counts) => counts.consecutiveFailures >= 2 } });
    // A header value with a newline (user input, say) makes undici refuse the request before sending it.
    for (let i = 0; i < 10; i++) {
      const error = await fetch(server.url, { headers: { 'x-user': 'a\nb' } }).catch((e: unknown) => e);
      expect((error as Error).name).toBe('TypeError');
    }
    // The origin's breaker is still closed for everyone else.
    expect((await fetch(server.url)).status).toBe(200);
    expect(server.count()).toBe(1);
  });

  it('with open times of different lengths, an open breaker is kept until its own time ends, and only then', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('touch' as const), origin: fc.integer({ min: 0, max: 7 }) }),
            fc.record({ kind: fc.constant('fail' as const), origin: fc.integer({ min: 0, max: 7 }) }),
            fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 900 }) }),
          ),
          { maxLength: 80 },
        ),
        async (max, ops) => {
          const clock = new FakeClock();
          // Origin n stays open (n + 1) * 250 ms: they end in another order than they open.
          const map = new OriginBreakers(
            max,
            (origin) =>
              new CircuitBreaker({
                clock,
                timeout: (Number(origin.slice(1)) + 1) * 250,
                readyToTrip: (c) => c.consecutiveFailures >= 1,
              }),
            () => clock.now(),
          );
          const open = new Map<string, { breaker: CircuitBreaker; until: number }>();
          for (const op of ops) {
            if (op.kind === 'wait') {
              await clock.advance(op.ms);
            } else {
              const origin = `o${op.origin}`;
              const before = map.size;
              const breaker = map.get(origin);
              if (map.size > before && map.size > max) {
                const others = map.origins().filter((o) => o !== origin);
                expect(others.every((o) => map.peek(o)?.state === 'open')).toBe(true);
              }
              if (op.kind === 'fail' && breaker.state === 'closed') {
                breaker.acquire().failure(new Error('down'));
                open.set(origin, { breaker, until: clock.now() + (op.origin + 1) * 250 });
              }
            }
            for (const [origin, entry] of open) {
              if (clock.now() >= entry.until) open.delete(origin);
              else expect(map.peek(origin)).toBe(entry.breaker);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('calls to a set-aside open origin do not grow the eviction queue', () => {
    let heapPushes = 0;
    const make = (origin: string) => ({
      state: origin.startsWith('dead') ? 'open' : 'closed',
      toJSON: () => {
        heapPushes++; // read once each time a breaker is set aside
        return { openRemainingMs: 60_000 };
      },
    });
    const map = new OriginBreakers(1, make, () => 0);
    map.get('dead');
    for (let i = 0; i < 1000; i++) {
      map.get('dead');
      map.get(`up${i}`);
    }
    expect(heapPushes).toBe(1);
    expect(map.peek('dead')?.state).toBe('open');
  });
});
