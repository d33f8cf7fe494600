import * as grpc from '@grpc/grpc-js';
import { Bulkhead, pipeline, RateLimiter } from '@resilience/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BulkheadLike,
  type BulkheadSelector,
  bulkheadInterceptor,
  bulkheadServerInterceptor,
  type CircuitBreakerLike,
  circuitBreakerInterceptor,
  deadlineInterceptor,
  type RateLimiterForInterceptor,
  rateLimitInterceptor,
  rateLimitServerInterceptor,
  retryInterceptor,
  withContext,
} from '../src/index.js';
import { EchoServer, echoClient, invoke, type Kind } from './helpers.js';

// Regressions found by attacking the built package as a careless or hostile user would.

const { status } = grpc;
const texts = (kind: Kind): string[] => (kind === 'ClientStream' || kind === 'Bidi' ? ['a', 'b'] : ['a']);
/** A deadline on every call: a call that is never answered ends with DEADLINE_EXCEEDED instead of hanging the test. */
const soon = (): grpc.CallOptions => ({ deadline: Date.now() + 3_000 });

let open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of open) o.close();
  open = [];
});

async function serve(
  serverInterceptors: grpc.ServerInterceptor[],
  clientInterceptors: grpc.Interceptor[] = [],
): Promise<{ server: EchoServer; client: grpc.Client }> {
  const server = new EchoServer({ interceptors: serverInterceptors });
  const address = await server.listen();
  const client = echoClient(address, clientInterceptors);
  open.push(server, client);
  return { server, client };
}

/** Key functions an application gets wrong: each must fail the call, never disable the limit. */
const badKeys: Array<[string, (metadata: grpc.Metadata) => unknown, RegExp]> = [
  // The classic: the header is missing, `[0]` is undefined. Failing open would let anyone past by leaving it out.
  ['throws when the header is missing', (md) => String((md.get('x-api-key')[0] as Buffer).toString()), /Cannot read/],
  [
    'is async (returns a promise)',
    async () => 'tenant',
    /must return a string or undefined, got a Promise|got an object/,
  ],
  ['returns an object', () => ({ tenant: 'a' }), /must return a string or undefined, got/],
  ['returns a number', () => 42, /must return a string or undefined, got 42/],
  ['returns null', () => null, /must return a string or undefined, got null/],
];

describe.each(['Unary', 'Bidi'] as const)('%s call', (kind) => {
  it.each(badKeys)(
    'rateLimitServerInterceptor answers INTERNAL when the key function %s, even with failOpen (the default)',
    async (_name, key, detail) => {
      const errors: unknown[] = [];
      const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
      const { server, client } = await serve([
        rateLimitServerInterceptor(limiter, {
          key: key as never,
          logger: { debug() {}, info() {}, warn() {}, error: (_m, attrs) => errors.push(attrs?.err) },
        }),
      ]);
      for (let i = 0; i < 3; i++) {
        const out = await invoke(client, kind, texts(kind), soon());
        expect(out.error?.code).toBe(status.INTERNAL);
        expect(out.error?.details).toMatch(/^Rate-limit key failed: /);
        expect(out.error?.details).toMatch(detail);
      }
      expect(server.calls).toHaveLength(0);
      expect(errors).toHaveLength(3);
    },
  );

  it.each(badKeys)(
    'rateLimitInterceptor answers INTERNAL without a call when the key function %s, even with failOpen: true',
    async (_name, key, detail) => {
      const { server, client } = await serve(
        [],
        [rateLimitInterceptor(new RateLimiter({ rate: 1, interval: 60_000 }), { key: key as never, failOpen: true })],
      );
      for (let i = 0; i < 3; i++) {
        const out = await invoke(client, kind, texts(kind), soon());
        expect(out.error?.code).toBe(status.INTERNAL);
        expect(out.error?.details).toMatch(/^Rate-limit key failed: /);
        expect(out.error?.details).toMatch(detail);
        expect(out.error?.metadata.get('resilience-rejection')).toEqual(['key-failed']);
      }
      expect(server.calls).toHaveLength(0);
    },
  );

  it.each<[string, unknown]>([
    ['null', null],
    ['an object without execute', {}],
    ['a string', 'payments'],
    ['a promise (an async selector)', Promise.resolve(new Bulkhead({ maxConcurrent: 1 }))],
  ])(
    'bulkheadServerInterceptor answers INTERNAL when the selector returns %s (no uncaught exception)',
    async (_name, chosen) => {
      const { server, client } = await serve([bulkheadServerInterceptor((() => chosen) as BulkheadSelector)]);
      const out = await invoke(client, kind, texts(kind), soon());
      expect(out.error?.code).toBe(status.INTERNAL);
      expect(out.error?.details).toMatch(/^Choosing the bulkhead failed: the selector must return a bulkhead/);
      expect(server.calls).toHaveLength(0);
    },
  );

  it.each<[string, BulkheadLike, RegExp]>([
    [
      'throws synchronously',
      {
        execute() {
          throw new Error('store down');
        },
      },
      /^Bulkhead failed: store down$/,
    ],
    ['returns no promise', { execute: () => undefined as never }, /not a promise/],
    ['settles without running the call', { execute: () => Promise.resolve() as never }, /without running the call/],
  ])(
    'a bulkhead of your own that %s fails the call with UNAVAILABLE, on the server and the client',
    async (_name, bulkhead, detail) => {
      const { server, client } = await serve([bulkheadServerInterceptor(bulkhead)]);
      const onServer = await invoke(client, kind, texts(kind), soon());
      expect(onServer.error?.code).toBe(status.UNAVAILABLE);
      expect(onServer.error?.details).toMatch(detail);
      const guarded = echoClient(`127.0.0.1:${server.port}`, [bulkheadInterceptor(bulkhead)]);
      open.push(guarded);
      const onClient = await invoke(guarded, kind, texts(kind), soon());
      expect(onClient.error?.code).toBe(status.UNAVAILABLE);
      expect(onClient.error?.details).toMatch(detail);
      expect(server.calls).toHaveLength(0);
    },
  );

  it.each<[string, () => unknown]>([
    ['a promise of undefined', () => Promise.resolve(undefined)],
    ['undefined', () => undefined],
    ['{ allowed: "no" }', () => ({ allowed: 'no' })],
  ])('a limiter that answers %s is a limiter failure, not an unhandled rejection or a pass', async (_name, consume) => {
    const limiter = { consume, wait: () => Promise.resolve() } as unknown as RateLimiterForInterceptor;
    const { server, client } = await serve([rateLimitServerInterceptor(limiter, { failOpen: false })], []);
    const onServer = await invoke(client, kind, texts(kind), soon());
    expect(onServer.error?.code).toBe(status.UNAVAILABLE);
    expect(onServer.error?.details).toMatch(/^Rate limiter failed: /);
    const guarded = echoClient(`127.0.0.1:${server.port}`, [rateLimitInterceptor(limiter)]);
    open.push(guarded);
    const onClient = await invoke(guarded, kind, texts(kind), soon());
    expect(onClient.error?.code).toBe(status.UNAVAILABLE);
    expect(onClient.error?.details).toMatch(/^Rate limiter failed: /);
    expect(server.calls).toHaveLength(0);
  });

  it('a breaker permit of your own that throws when told the outcome changes nothing for the call', async () => {
    let reports = 0;
    const breaker: CircuitBreakerLike = {
      acquire: () => ({
        success() {
          reports++;
          throw new Error('success broke');
        },
        failure() {
          throw new Error('failure broke');
        },
        ignore() {
          throw new Error('ignore broke');
        },
      }),
    };
    const { client } = await serve([], [circuitBreakerInterceptor(breaker)]);
    const out = await invoke(client, kind, texts(kind), soon());
    expect(out.error).toBeUndefined();
    expect(reports).toBe(1);
  });
});

describe('deadlines grpc-js cannot send', () => {
  it.each<[string, grpc.Deadline]>([
    ['an invalid Date', new Date(Number.NaN)],
    ['NaN', Number.NaN],
    ['beyond the longest grpc-timeout', Date.now() + 1e20],
  ])(
    'deadlineInterceptor treats %s as no deadline instead of letting grpc-js throw an uncaught exception',
    async (_name, deadline) => {
      const { server, client } = await serve([], [deadlineInterceptor()]);
      for (const kind of ['Unary', 'ServerStream'] as const) {
        const out = await invoke(client, kind, texts(kind), { deadline });
        expect(out.error).toBeUndefined();
      }
      expect(server.calls[0]?.deadline).toBe(Number.POSITIVE_INFINITY);
      const bounded = echoClient(`127.0.0.1:${server.port}`, [deadlineInterceptor(60_000)]);
      open.push(bounded);
      const out = await invoke(bounded, 'Unary', ['a'], { deadline });
      expect(out.error).toBeUndefined();
      expect(Number(server.calls[2]?.deadline)).toBeLessThanOrEqual(Date.now() + 60_000);
    },
  );

  it('rejects a null limit and a ctx.deadline that is not a number, naming them', () => {
    expect(() => deadlineInterceptor(null as never)).toThrow(/deadlineInterceptor: ms must be .* got null/);
    expect(() => withContext({ signal: undefined as never, deadline: Number.NaN })).toThrow(
      /withContext: ctx\.deadline must be a time in ms .* got NaN/,
    );
    expect(() => withContext({ signal: undefined as never, deadline: '5' as never })).toThrow(
      /withContext: ctx\.deadline must be .* got "5"/,
    );
    expect(withContext({ signal: undefined as never, deadline: Number.NEGATIVE_INFINITY }).deadline).toBe(
      Number.NEGATIVE_INFINITY,
    );
  });
});

describe('a retry policy that answers without running the call', () => {
  it('ends the call with INTERNAL when a fallback inside the policy resolves with its value, instead of a success with no response', async () => {
    const policy = pipeline()
      .fallback({ fallback: () => 'cached' })
      .retry({ maxAttempts: 2, initialDelay: 1 })
      .build();
    const { server, client } = await serve([], [retryInterceptor(policy)]);
    server.plan = () => ({ code: status.UNAVAILABLE });
    for (const kind of ['Unary', 'ClientStream', 'ServerStream', 'Bidi'] as const) {
      const out = await invoke(client, kind, texts(kind), soon());
      expect(out.error?.code).toBe(status.INTERNAL);
      expect(out.error?.details).toMatch(
        /^Retry failed: the retry policy resolved with "cached" instead of an attempt's status/,
      );
    }
  });

  it('ends the call with UNKNOWN when the policy returns no promise, instead of throwing from the stub', async () => {
    const { server, client } = await serve([], [retryInterceptor({ execute: () => undefined as never })]);
    const out = await invoke(client, 'Unary', ['a'], soon());
    expect(out.error?.code).toBe(status.UNKNOWN);
    expect(out.error?.details).toMatch(/retry\.execute returned undefined, not a promise/);
    expect(server.calls).toHaveLength(0);
  });
});
