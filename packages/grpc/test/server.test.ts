import * as grpc from '@grpc/grpc-js';
import { Bulkhead, RateLimiter } from '@resilience/core';
import { addressKey } from '@resilience/http';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkheadServerInterceptor, rateLimitServerInterceptor } from '../src/index.js';
import { EchoServer, echoClient, invoke, KINDS, type Kind, until } from './helpers.js';

const { status } = grpc;
const texts = (kind: Kind): string[] => (kind === 'ClientStream' || kind === 'Bidi' ? ['a', 'b'] : ['a']);

let open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of open) o.close();
  open = [];
});

async function serve(interceptors: grpc.ServerInterceptor[]): Promise<{ server: EchoServer; client: grpc.Client }> {
  const server = new EchoServer({ interceptors });
  const address = await server.listen();
  const client = echoClient(address, []);
  open.push(server, client);
  return { server, client };
}

describe('the default server rate-limit key', () => {
  it("keys an IPv6 peer by its /56 network, spelt as @resilience/http's addressKey spells it", async () => {
    const limiter = new RateLimiter({ rate: 5, interval: 60_000 });
    const server = new EchoServer({ interceptors: [rateLimitServerInterceptor(limiter)] });
    const client = echoClient(await server.listen('[::1]'), []);
    open.push(server, client);
    expect((await invoke(client, 'Unary', ['a'])).error).toBeUndefined();
    expect(addressKey('::1')).toBe('0:0:0:0:0:0:0:0/56');
    expect(limiter.check('0:0:0:0:0:0:0:0/56').remaining).toBe(4);
  });
});

describe.each(KINDS)('%s call on the server', (kind) => {
  it('rateLimitServerInterceptor answers RESOURCE_EXHAUSTED before the handler runs, per key', async () => {
    const limiter = new RateLimiter({ rate: 2, interval: 60_000 });
    const { server, client } = await serve([
      rateLimitServerInterceptor(limiter, { key: (metadata) => String(metadata.get('tenant')[0] ?? 'none') }),
    ]);
    const call = (who: string) => invoke(client, kind, texts(kind), {}, undefined, { tenant: who });
    expect((await call('a')).error).toBeUndefined();
    expect((await call('a')).error).toBeUndefined();
    const limited = await call('a');
    expect(limited.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(limited.error?.details).toMatch(
      /^Rate limit exceeded: \/resilience\.test\.Echo\/\w+ not handled; retry after \d+ ms$/,
    );
    expect(Number(limited.error?.metadata.get('grpc-retry-pushback-ms')[0])).toBeGreaterThan(0);
    expect(server.calls).toHaveLength(2);
    expect((await call('b')).error).toBeUndefined();
    expect(server.calls).toHaveLength(3);
  });

  it('rateLimitServerInterceptor keys by the peer address by default', async () => {
    const limiter = new RateLimiter({ rate: 5, interval: 60_000 });
    const { client } = await serve([rateLimitServerInterceptor(limiter)]);
    expect((await invoke(client, kind, texts(kind))).error).toBeUndefined();
    expect(limiter.check('127.0.0.1').remaining).toBe(4);
  });

  it('bulkheadServerInterceptor answers UNAVAILABLE when full, and frees the slot when the call ends', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const { server, client } = await serve([bulkheadServerInterceptor(bulkhead, { retryAfter: 500 })]);
    server.plan = (_r, index) => (index === 0 ? { hold: true } : {});
    const first = invoke(client, kind, texts(kind));
    await until(() => server.calls.length === 1);
    const out = await invoke(client, kind, texts(kind));
    expect(out.error?.code).toBe(status.UNAVAILABLE);
    expect(out.error?.details).toMatch(
      /^Bulkhead full: \/resilience\.test\.Echo\/\w+ not handled; retry after 500 ms$/,
    );
    expect(out.error?.metadata.get('grpc-retry-pushback-ms')).toEqual(['500']);
    expect(server.calls).toHaveLength(1);
    server.release();
    expect((await first).error).toBeUndefined();
    await until(() => bulkhead.active === 0);
    expect((await invoke(client, kind, texts(kind))).error).toBeUndefined();
  });

  it('bulkheadServerInterceptor frees the slot of a call the client cancelled', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const { server, client } = await serve([bulkheadServerInterceptor(bulkhead)]);
    server.plan = () => ({ delayMs: 10_000 });
    let made: grpc.Call | undefined;
    const first = invoke(client, kind, texts(kind), {}, (c) => {
      made = c;
    });
    await until(() => server.calls.length === 1);
    made?.cancel();
    expect((await first).error?.code).toBe(status.CANCELLED);
    await until(() => bulkhead.active === 0);
  });

  it('bulkheadServerInterceptor queues a call, which leaves the queue when cancelled', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const { server, client } = await serve([bulkheadServerInterceptor(bulkhead)]);
    server.plan = (_r, index) => (index === 0 ? { hold: true } : {});
    const first = invoke(client, kind, texts(kind));
    await until(() => bulkhead.active === 1);
    let made: grpc.Call | undefined;
    const queued = invoke(client, kind, texts(kind), {}, (c) => {
      made = c;
    });
    await until(() => bulkhead.queued === 1);
    made?.cancel();
    expect((await queued).error?.code).toBe(status.CANCELLED);
    await until(() => bulkhead.queued === 0);
    server.release();
    expect((await first).error).toBeUndefined();
    // A queued call that stays runs once the slot frees.
    const a = invoke(client, kind, texts(kind));
    const b = invoke(client, kind, texts(kind));
    expect((await a).error).toBeUndefined();
    expect((await b).error).toBeUndefined();
    expect(server.calls).toHaveLength(3);
  });
});

describe('server interceptor options', () => {
  it('limits only the listed methods', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
    const { client } = await serve([rateLimitServerInterceptor(limiter, { methods: ['/resilience.test.Echo/Unary'] })]);
    await invoke(client, 'Unary');
    expect((await invoke(client, 'Unary')).error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect((await invoke(client, 'ServerStream')).error).toBeUndefined();
    expect((await invoke(client, 'ServerStream')).error).toBeUndefined();
  });

  it('chooses a bulkhead per call with a function of metadata, peer and method', async () => {
    const seen: string[] = [];
    const small = new Bulkhead({ maxConcurrent: 1 });
    const { server, client } = await serve([
      bulkheadServerInterceptor((metadata, peer, method) => {
        seen.push(`${metadata.get('tenant')[0]}|${peer.startsWith('127.0.0.1:')}|${method}`);
        return metadata.get('tenant')[0] === 'small' ? small : undefined;
      }),
    ]);
    server.plan = (_r, index) => (index === 0 ? { hold: true } : {});
    const first = invoke(client, 'Unary', ['a'], {}, undefined, { tenant: 'small' });
    await until(() => small.active === 1);
    expect((await invoke(client, 'Unary', ['a'], {}, undefined, { tenant: 'small' })).error?.code).toBe(
      status.UNAVAILABLE,
    );
    expect((await invoke(client, 'Unary', ['a'], {}, undefined, { tenant: 'big' })).error).toBeUndefined();
    server.release();
    await first;
    expect(seen[0]).toBe('small|true|/resilience.test.Echo/Unary');
  });

  it('lets calls through when the limiter fails, unless failOpen is false', async () => {
    const broken = {
      consume: () => Promise.reject(new Error('store down')),
    } as unknown as RateLimiter;
    const open1 = await serve([rateLimitServerInterceptor(broken)]);
    expect((await invoke(open1.client, 'Unary')).error).toBeUndefined();
    const closed = await serve([rateLimitServerInterceptor(broken, { failOpen: false })]);
    const out = await invoke(closed.client, 'Unary');
    expect(out.error?.code).toBe(status.UNAVAILABLE);
    expect(out.error?.details).toBe('Rate limiter failed: store down');
    expect(closed.server.calls).toHaveLength(0);
  });

  it('answers INTERNAL when choosing the bulkhead throws, and UNAVAILABLE when the bulkhead fails', async () => {
    const throwing = await serve([
      bulkheadServerInterceptor(() => {
        throw new Error('no tenant');
      }),
    ]);
    const out = await invoke(throwing.client, 'Unary');
    expect(out.error?.code).toBe(status.INTERNAL);
    expect(out.error?.details).toBe('Choosing the bulkhead failed: no tenant');
    const failing = await serve([
      bulkheadServerInterceptor({ execute: () => Promise.reject(new Error('lease lost')) }),
    ]);
    const failed = await invoke(failing.client, 'Unary');
    expect(failed.error?.code).toBe(status.UNAVAILABLE);
    expect(failed.error?.details).toBe('Bulkhead failed: lease lost');
    expect(throwing.server.calls).toHaveLength(0);
    expect(failing.server.calls).toHaveLength(0);
  });

  it('rejects bad options at construction, naming them', () => {
    const limiter = new RateLimiter({ rate: 1 });
    expect(() => rateLimitServerInterceptor(limiter, { methods: ['Unary'] })).toThrow(
      /rateLimitServerInterceptor: methods must be an array of full method paths/,
    );
    expect(() => rateLimitServerInterceptor(limiter, { keyGenerator: () => 'x' } as never)).toThrow(
      /rateLimitServerInterceptor: unknown option "keyGenerator"/,
    );
    expect(() => bulkheadServerInterceptor(new Bulkhead({ maxConcurrent: 1 }), { retryAfter: -1 })).toThrow(
      /bulkheadServerInterceptor: retryAfter must be a number of ms >= 0 or false, got -1/,
    );
    expect(() => bulkheadServerInterceptor({} as never)).toThrow(/bulkhead must have an execute\(\) method/);
  });
});
