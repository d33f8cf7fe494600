import * as grpc from '@grpc/grpc-js';
import { RateLimiter, type RateLimitResult } from '@resilience/core';
import { describe, expect, it } from 'vitest';
import { rateLimitInterceptor } from '../src/index.js';
import { invoke, KINDS, useEchoServer } from './helpers.js';

const { status } = grpc;
const { server, client } = useEchoServer();

/** The in-memory limiter behind promises, as a distributed limiter answers (one round trip a decision). */
class RemoteLimiter {
  readonly local = new RateLimiter({ rate: 1, interval: 60_000 });
  fail = false;
  consume(key?: string): Promise<RateLimitResult> {
    return new Promise((resolve, reject) =>
      setImmediate(() => (this.fail ? reject(new Error('store down')) : resolve(this.local.consume(key)))),
    );
  }
  wait(): Promise<void> {
    return Promise.reject(new Error('not used'));
  }
}

describe.each(KINDS)('rateLimitInterceptor, %s call', (kind) => {
  it('waits up to maxWait for a token, and sends what the call wrote once it has one', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 100 });
    const c = client(rateLimitInterceptor(limiter, { maxWait: 5_000 }));
    const texts = kind === 'ClientStream' || kind === 'Bidi' ? ['a', 'b'] : ['a'];
    const [first, second] = await Promise.all([invoke(c, kind, texts), invoke(c, kind, texts)]);
    expect(first.error).toBeUndefined();
    expect(second.error).toBeUndefined();
    expect(server.calls.map((call) => call.texts)).toEqual([texts, texts]);
  });

  it('answers RESOURCE_EXHAUSTED at once when no token can come within maxWait', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
    const c = client(rateLimitInterceptor(limiter, { maxWait: 50 }));
    await invoke(c, kind);
    const out = await invoke(c, kind);
    expect(out.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(server.calls).toHaveLength(1);
  });

  it('lets a call cancelled while it waits for a token leave at once', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
    const c = client(rateLimitInterceptor(limiter, { maxWait: 120_000 }));
    await invoke(c, kind);
    let made: grpc.Call | undefined;
    const waiting = invoke(c, kind, ['a'], {}, (call) => {
      made = call;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    made?.cancel();
    expect((await waiting).error?.code).toBe(status.CANCELLED);
    expect(server.calls).toHaveLength(1);
  });

  it('works with a limiter that answers with promises', async () => {
    const remote = new RemoteLimiter();
    const c = client(rateLimitInterceptor(remote));
    expect((await invoke(c, kind)).error).toBeUndefined();
    const out = await invoke(c, kind);
    expect(out.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(Number(out.error?.metadata.get('grpc-retry-pushback-ms')[0])).toBeGreaterThan(0);
  });

  it('ends the call with UNAVAILABLE when the limiter fails, or lets it through with failOpen', async () => {
    const remote = new RemoteLimiter();
    remote.fail = true;
    const closed = await invoke(client(rateLimitInterceptor(remote)), kind);
    expect(closed.error?.code).toBe(status.UNAVAILABLE);
    expect(closed.error?.details).toBe('Rate limiter failed: store down');
    expect(closed.error?.metadata.get('resilience-rejection')).toEqual(['limiter-failed']);
    const logged: unknown[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (msg: string, attrs?: Record<string, unknown>) => {
        logged.push([msg, attrs?.method, (attrs?.err as Error | undefined)?.message]);
        throw new Error('a logger that throws changes nothing');
      },
    };
    const open = await invoke(client(rateLimitInterceptor(remote, { failOpen: true, logger })), kind);
    expect(open.error).toBeUndefined();
    expect(logged).toEqual([['rate limiter failed', `/resilience.test.Echo/${kind}`, 'store down']]);
    expect(server.calls).toHaveLength(1);
  });

  it('keys by the function of metadata and method', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
    const keys: string[] = [];
    const c = client(
      rateLimitInterceptor(limiter, {
        key: (metadata, method) => {
          const key = `${metadata.get('tenant')[0]}${method}`;
          keys.push(key);
          return key;
        },
      }),
    );
    expect((await invoke(c, kind, ['a'], {}, undefined, { tenant: 'a' })).error).toBeUndefined();
    expect((await invoke(c, kind, ['a'], {}, undefined, { tenant: 'b' })).error).toBeUndefined();
    expect((await invoke(c, kind, ['a'], {}, undefined, { tenant: 'a' })).error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(keys[0]).toBe(`a/resilience.test.Echo/${kind}`);
  });
});
