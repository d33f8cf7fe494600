// Hedged requests against a real node:http server through Node's own fetch (undici).
import type { ServerResponse } from 'node:http';
import { TimeoutError } from '@resilience/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createFetch } from '../src/index.js';
import { answer, eventually, type Script, startServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(script: Script): Promise<TestServer> {
  const s = await startServer(script);
  servers.push(s);
  return s;
}

/** A server whose first request stalls (no answer) and whose later ones answer `fast` at once. */
function slowThenFast(): Script {
  return (req, res, n) => {
    req.resume();
    if (n > 1) answer(res, 200, 'fast');
  };
}

const streamed = (): ReadableStream<Uint8Array> =>
  new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('chunk'));
      controller.close();
    },
  });

describe('createFetch hedging', () => {
  it('a slow first request gets a hedge; the fast answer wins and the slow one is aborted on the wire', async () => {
    const s = await server(slowThenFast());
    const hedges: number[] = [];
    const fetch = createFetch({
      retry: false,
      timeout: 5_000,
      hedging: { delay: 50, maxHedges: 1, onHedge: (attempt) => hedges.push(attempt) },
    });
    const res = await fetch(s.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('fast');
    expect(s.count()).toBe(2);
    expect(hedges).toEqual([2]);
    await eventually(() => s.abandoned() === 1);
  });

  it.each([
    ['without', undefined],
    ['with', new AbortController().signal],
  ])(
    'when several requests answer, only the winner stays open: every loser body is cancelled (%s a caller signal)',
    async (_, signal) => {
      const open: ServerResponse[] = [];
      // Both requests answer with headers and a first chunk once the hedge has arrived, and never end their bodies.
      const s = await server((req, res) => {
        req.resume();
        open.push(res);
        if (open.length === 2) {
          for (const r of open) {
            r.writeHead(200, { 'content-type': 'text/plain' });
            r.write('first chunk');
          }
        }
      });
      const fetch = createFetch({ retry: false, timeout: 5_000, hedging: { delay: 30, maxHedges: 1 } });
      const res = await fetch(s.url, signal === undefined ? {} : { signal });
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('first chunk');
      // The loser's connection is closed by the client while the winner is still being read.
      await eventually(() => s.abandoned() === 1);
      await reader.cancel();
      await eventually(() => s.abandoned() === 2);
    },
  );

  it('a loser whose response comes in the same turn as the winner has its body cancelled (any fetch)', async () => {
    const open: ServerResponse[] = [];
    const s = await server((req, res) => {
      req.resume();
      open.push(res);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(`chunk ${open.length}`);
    });
    // A fetch that hands out both responses together, once both have their headers: both attempts answer.
    const held: { response: Response; resolve: (r: Response) => void }[] = [];
    const gathering = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
      globalThis.fetch(input, init).then(
        (response) =>
          new Promise<Response>((resolve) => {
            held.push({ response, resolve });
            if (held.length === 2) for (const h of held) h.resolve(h.response);
          }),
      );
    const fetch = createFetch({ fetch: gathering, retry: false, timeout: 5_000, hedging: { delay: 30 } });
    const controller = new AbortController();
    const res = await fetch(s.url, { signal: controller.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^chunk [12]$/);
    await eventually(() => s.abandoned() === 1);
    // The winner is still the caller's to cancel.
    controller.abort(new Error('done'));
    await eventually(() => s.abandoned() === 2);
  });

  it('a retried attempt is hedged too: each retry round may hedge, and the last round answers', async () => {
    const s = await server((req, res, n) => {
      req.resume();
      if (n === 1) return; // stalls: hedged
      if (n === 2)
        answer(res, 503, 'busy', { 'retry-after': '0' }); // the hedge wins with a retryable status
      else answer(res, 200, `ok ${n}`);
    });
    const fetch = createFetch({
      retry: { maxAttempts: 2, initialDelay: 1, jitter: false },
      timeout: 5_000,
      hedging: { delay: 50 },
    });
    const res = await fetch(s.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok 3');
    await eventually(() => s.abandoned() === 1);
  });

  it('hedges a POST only when the caller says it is idempotent (or sends an Idempotency-Key)', async () => {
    const s = await server(slowThenFast());
    const fetch = createFetch({ retry: false, timeout: 5_000, hedging: { delay: 30 } });
    const marked = await fetch(s.url, { method: 'POST', body: 'payload', resilience: { idempotent: true } });
    expect(await marked.text()).toBe('fast');
    expect(s.count()).toBe(2);
    const keyed = await fetch(s.url, { method: 'POST', body: 'payload', headers: { 'idempotency-key': 'k1' } });
    expect(await keyed.text()).toBe('fast');
    expect(s.count()).toBe(3);
  });

  it('never hedges a non-idempotent request, nor any streamed body, nor idempotent: false', async () => {
    let stalled = 0;
    const s = await server((req, res) => {
      req.resume();
      // Answers after 300 ms: well past the hedging delay of 20 ms.
      const t = setTimeout(() => answer(res, 200, 'slow'), 300);
      res.on('close', () => clearTimeout(t));
      stalled++;
    });
    const fetch = createFetch({ retry: false, timeout: 5_000, hedging: { delay: 20, maxHedges: 3 } });
    expect(await (await fetch(s.url, { method: 'POST', body: 'x' })).text()).toBe('slow');
    expect(stalled).toBe(1);
    const stream = await fetch(s.url, {
      method: 'PUT',
      body: streamed(),
      duplex: 'half',
      resilience: { idempotent: true },
    } as RequestInit);
    expect(await stream.text()).toBe('slow');
    expect(stalled).toBe(2);
    expect(await (await fetch(s.url, { resilience: { idempotent: false } })).text()).toBe('slow');
    expect(stalled).toBe(3);
    expect(s.count()).toBe(3);
  });

  it("the caller's abort cancels every hedged request and rejects with the caller's reason", async () => {
    const s = await server((req) => {
      req.resume(); // never answers
    });
    const fetch = createFetch({ retry: false, timeout: 5_000, hedging: { delay: 20, maxHedges: 2 } });
    const controller = new AbortController();
    const call = fetch(s.url, { signal: controller.signal });
    await eventually(() => s.count() === 3);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    await eventually(() => s.abandoned() === 3);
  });

  it("the caller's signal still cancels the winner's body after it was handed out", async () => {
    let winner: ServerResponse | undefined;
    const s = await server((req, res, n) => {
      req.resume();
      if (n === 1) return; // stalls
      winner = res;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part');
    });
    const fetch = createFetch({ retry: false, timeout: 5_000, hedging: { delay: 20 } });
    const controller = new AbortController();
    const res = await fetch(s.url, { signal: controller.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await eventually(() => s.abandoned() === 1);
    controller.abort(new Error('stop'));
    await expect(reader.read()).rejects.toThrow();
    await eventually(() => s.abandoned() === 2);
    expect(winner?.writableEnded).toBe(false);
  });

  it('the overall timeout ends every hedged request with a TimeoutError; a throwing onHedge changes nothing', async () => {
    const hedges: number[] = [];
    const s = await server((req) => {
      req.resume(); // never answers
    });
    const fetch = createFetch({
      retry: false,
      timeout: 300,
      attemptTimeout: 10_000,
      hedging: {
        delay: 20,
        maxHedges: 2,
        onHedge: (attempt) => {
          hedges.push(attempt);
          throw new Error('hook bug');
        },
      },
    });
    await expect(fetch(s.url)).rejects.toBeInstanceOf(TimeoutError);
    expect(hedges[0]).toBe(2);
    // Every request that reached the server is aborted (hedges started at 20 and 40 ms, the timeout at 300 ms).
    await eventually(() => s.count() > 0 && s.abandoned() === s.count());
  });

  it('100 hedged calls at once each settle with the fast answer, and every stalled request is aborted', async () => {
    const seen = new Set<string>();
    const s = await server((req, res) => {
      req.resume();
      const call = String(req.headers['x-call']);
      // The first request of each call stalls; its hedges answer at once.
      if (seen.has(call)) answer(res, 200, `fast ${call}`);
      else seen.add(call);
    });
    const fetch = createFetch({ retry: false, timeout: 5_000, breaker: false, hedging: { delay: 20, maxHedges: 3 } });
    const bodies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => fetch(s.url, { headers: { 'x-call': String(i) } }).then((r) => r.text())),
    );
    expect(bodies).toEqual(Array.from({ length: 100 }, (_, i) => `fast ${i}`));
    await eventually(() => s.abandoned() === 100);
  });

  it('rejects bad hedging options at construction, naming the field and the value', () => {
    expect(() => createFetch({ hedging: 5 as never })).toThrow(/hedging.*5/);
    expect(() => createFetch({ hedging: {} as never })).toThrow(/hedging\.delay.*undefined/);
    expect(() => createFetch({ hedging: { delay: -1 } })).toThrow(/hedging\.delay.*-1/);
    expect(() => createFetch({ hedging: { delay: Number.NaN } })).toThrow(/hedging\.delay.*NaN/);
    expect(() => createFetch({ hedging: { delay: Number.POSITIVE_INFINITY } })).toThrow(/hedging\.delay.*Infinity/);
    expect(() => createFetch({ hedging: { delay: 10, maxHedges: 0 } })).toThrow(/hedging\.maxHedges.*0/);
    expect(() => createFetch({ hedging: { delay: 10, maxHedges: 1.5 } })).toThrow(/hedging\.maxHedges.*1\.5/);
    expect(() => createFetch({ hedging: { delay: 10, methods: 'GET' as never } })).toThrow(/hedging\.methods.*GET/);
    expect(() => createFetch({ hedging: { delay: 10, maxAttempts: 2 } as never })).toThrow(/maxAttempts/);
    expect(() => createFetch({ hedging: { delay: 10, onHedge: 1 as never } })).toThrow(/hedging\.onHedge/);
    expect(() => createFetch({ hedging: false })).not.toThrow();
  });
});
