import { getEventListeners } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { Bulkhead, CircuitBreaker, handleAll, RateLimiter, Retry } from '@resilience/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulkheadInterceptor,
  bulkheadServerInterceptor,
  circuitBreakerInterceptor,
  DEFAULT_FAILURE_CODES,
  deadlineInterceptor,
  MAX_DEADLINE_MS,
  rateLimitInterceptor,
  retryInterceptor,
  withContext,
} from '../src/index.js';
import type { CallInterface } from '../src/internal/call-types.js';
import { EchoServer, echoClient, invoke, KINDS, until } from './helpers.js';

const { status } = grpc;

describe('construction rejects bad input, naming the field and the value', () => {
  const retry = new Retry();
  it.each([
    [() => retryInterceptor({} as never), /retryInterceptor: retry must have an execute\(\) method, got an object/],
    [
      () => retryInterceptor(retry, { maxAttempts: 3 } as never),
      /unknown option "maxAttempts" \(set maxAttempts on the Retry\)/,
    ],
    [
      () => retryInterceptor(retry, { retryableCodes: [99] as never }),
      /retryableCodes must hold grpc status codes .* got 99/,
    ],
    [() => retryInterceptor(retry, { retryableCodes: 'UNAVAILABLE' as never }), /retryableCodes must be an array/],
    [() => retryInterceptor(retry, { maxBufferedMessages: Number.NaN }), /maxBufferedMessages must be .* got NaN/],
    [() => retryInterceptor(retry, { maxBufferedMessages: -1 }), /maxBufferedMessages must be .* got -1/],
    [
      () => retryInterceptor(retry, { retryRejections: 'yes' as never }),
      /retryRejections must be a boolean, got "yes"/,
    ],
    [
      () => circuitBreakerInterceptor({} as never),
      /circuitBreakerInterceptor: breaker must have an acquire\(\) method/,
    ],
    [() => circuitBreakerInterceptor(new CircuitBreaker(), { failureCodes: [-1] as never }), /failureCodes .* got -1/],
    [
      () => circuitBreakerInterceptor(new CircuitBreaker(), { isSuccessful: () => true } as never),
      /unknown option "isSuccessful"/,
    ],
    [
      () => circuitBreakerInterceptor(new CircuitBreaker(), { handle: handleAll() } as never),
      /unknown option "handle".*set handle on the CircuitBreaker/,
    ],
    [() => circuitBreakerInterceptor(new CircuitBreaker(), null as never), /options must be an object, got null/],
    [
      // A name Object.prototype has is no hint: the message lists the known options, not a function's source.
      () => retryInterceptor(retry, { toString: 1 } as never),
      /unknown option "toString"; known options: /,
    ],
    [
      () => bulkheadServerInterceptor(new Bulkhead({ maxConcurrent: 1 }), { retryAfter: () => 1 } as never),
      /retryAfter must be a number of ms >= 0 or false, got a function$/,
    ],
    [
      () => bulkheadServerInterceptor(new Bulkhead({ maxConcurrent: 1 }), { retryAfter: null } as never),
      /retryAfter must be a number of ms >= 0 or false, got null$/,
    ],
    [() => deadlineInterceptor(Number.NaN), /deadlineInterceptor: ms must be .* got NaN/],
    [() => deadlineInterceptor(0), /ms must be .* got 0/],
    [() => deadlineInterceptor(-5), /ms must be .* got -5/],
    [() => deadlineInterceptor(MAX_DEADLINE_MS + 1), /ms must be .* <= 359999996400000/],
    [() => deadlineInterceptor('100' as never), /ms must be .* got "100"/],
    [() => rateLimitInterceptor({} as never), /rateLimitInterceptor: limiter must have a consume\(\) method/],
    [() => rateLimitInterceptor(new RateLimiter({ rate: 1 }), { maxWait: Number.NaN }), /maxWait must be .* got NaN/],
    [
      () => rateLimitInterceptor(new RateLimiter({ rate: 1 }), { key: 'tenant' as never }),
      /key must be a function, got "tenant"/,
    ],
    [() => bulkheadInterceptor({} as never), /bulkheadInterceptor: bulkhead must have an execute\(\) method/],
    [
      () => rateLimitInterceptor(new RateLimiter({ rate: 1 }), { logger: 'console' as never }),
      /logger must be an object/,
    ],
    [
      () => bulkheadInterceptor(new Bulkhead({ maxConcurrent: 1 }), { retryAfter: Number.POSITIVE_INFINITY }),
      /retryAfter must be .* got Infinity/,
    ],
  ])('%#', (make, message) => {
    expect(make).toThrow(message);
  });

  it('exposes the default failure codes', () => {
    expect(DEFAULT_FAILURE_CODES).toEqual([
      status.UNAVAILABLE,
      status.DEADLINE_EXCEEDED,
      status.INTERNAL,
      status.UNKNOWN,
      status.DATA_LOSS,
    ]);
  });
});

describe('against a real server', () => {
  let server: EchoServer;
  let address = '';
  beforeAll(async () => {
    server = new EchoServer();
    address = await server.listen();
  });
  afterAll(() => server.close());

  it('answers each of 2,000 calls whose key function throws synchronously, exactly once', async () => {
    let n = 0;
    const client = echoClient(address, [
      rateLimitInterceptor(new RateLimiter({ rate: 1e6 }), {
        key: () => {
          n++;
          throw new Error(`key ${n} broke`);
        },
      }),
    ]);
    const outs = await Promise.all(Array.from({ length: 2_000 }, (_, i) => invoke(client, KINDS[i % 4] as never)));
    expect(n).toBe(2_000);
    for (const out of outs) {
      // The key function is the application's code: its failure is INTERNAL, never a limiter failure.
      expect(out.error?.code).toBe(status.INTERNAL);
      expect(out.error?.details).toMatch(/^Rate-limit key failed: key \d+ broke$/);
    }
    expect(server.calls).toHaveLength(0);
    client.close();
  });

  it('survives hooks that throw: the outcome is the server status', async () => {
    const breaker = new CircuitBreaker({
      isSuccessful: () => {
        throw new Error('classifier broke');
      },
    });
    const retry = new Retry({
      initialDelay: 1,
      onRetry: () => {
        throw new Error('hook broke');
      },
    });
    server.plan = (_c, index) => (index === 0 ? { code: status.UNAVAILABLE } : {});
    const client = echoClient(address, [retryInterceptor(retry), circuitBreakerInterceptor(breaker)]);
    const out = await invoke(client, 'Unary');
    expect(out.error).toBeUndefined();
    client.close();
    server.calls.length = 0;
    server.plan = () => ({});
  });

  it('caps a huge pushback at the retry maxDelay, and refuses an absurd one', async () => {
    const delays: number[] = [];
    const retry = new Retry({ maxAttempts: 2, maxDelay: 5, onRetry: (_a, _e, d) => delays.push(d) });
    const client = echoClient(address, [retryInterceptor(retry)]);
    server.plan = (_c, index) =>
      index === 0 ? { code: status.UNAVAILABLE, trailers: { 'grpc-retry-pushback-ms': '100000000' } } : {};
    expect((await invoke(client, 'Unary')).error).toBeUndefined();
    expect(delays).toEqual([5]);
    server.calls.length = 0;
    server.plan = () => ({ code: status.UNAVAILABLE, trailers: { 'grpc-retry-pushback-ms': '9'.repeat(30) } });
    expect((await invoke(client, 'Unary')).error?.code).toBe(status.UNAVAILABLE);
    expect(server.calls).toHaveLength(1);
    client.close();
    server.calls.length = 0;
    server.plan = () => ({});
  });

  it('keeps a deadline of the longest grpc-timeout and drops a longer ctx.deadline instead of failing', async () => {
    const client = echoClient(address, [deadlineInterceptor(MAX_DEADLINE_MS)]);
    expect((await invoke(client, 'Unary')).error).toBeUndefined();
    const far = withContext({
      signal: new AbortController().signal,
      deadline: performance.now() + MAX_DEADLINE_MS * 10,
    });
    expect(far.deadline).toBeUndefined();
    expect((await invoke(client, 'Unary', ['a'], far)).error).toBeUndefined();
    client.close();
    server.calls.length = 0;
  });
});

it('ends every call when the real server stops mid-run, and the breaker opens', async () => {
  const server = new EchoServer();
  const address = await server.listen();
  const breaker = new CircuitBreaker({ readyToTrip: (c) => c.consecutiveFailures >= 5 });
  const bulkhead = new Bulkhead({ maxConcurrent: 10, maxQueue: 100 });
  const client = echoClient(address, [
    retryInterceptor(new Retry({ maxAttempts: 2, initialDelay: 1 })),
    circuitBreakerInterceptor(breaker),
    bulkheadInterceptor(bulkhead),
  ]);
  server.plan = () => ({ delayMs: 10_000 });
  const statuses = new Array<number>(40).fill(0);
  const calls = Array.from({ length: 40 }, (_, i) =>
    invoke(client, KINDS[i % 4] as never, ['a'], {}, (call) => {
      call.on('status', () => {
        statuses[i] = (statuses[i] ?? 0) + 1;
      });
    }),
  );
  await until(() => server.calls.length === 10);
  server.close();
  const outs = await Promise.all(calls);
  for (const out of outs) expect(out.error?.code).toBeGreaterThan(0);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(statuses.every((n) => n === 1)).toBe(true);
  expect(bulkhead.active).toBe(0);
  expect(bulkhead.queued).toBe(0);
  expect(breaker.state).toBe('open');
  const after = await invoke(client, 'Unary');
  expect(after.error?.details).toMatch(/^Circuit breaker open/);
  client.close();
});

it('cancels 100,000 calls sharing one signal in linear time, leaving no listener', async () => {
  const controller = new AbortController();
  const interceptor = deadlineInterceptor();
  const method = {
    path: '/x.Y/Z',
    requestStream: false,
    responseStream: false,
    requestSerialize: (v: unknown) => v as Buffer,
    responseDeserialize: (b: Buffer) => b,
  };
  // A transport that never answers until cancelled: only the signal can end these calls.
  const hanging = (): CallInterface => {
    let listener: grpc.InterceptingListener | undefined;
    return {
      start: (_m, l) => {
        listener = l as grpc.InterceptingListener;
      },
      cancelWithStatus: (code, details) => listener?.onReceiveStatus({ code, details, metadata: new grpc.Metadata() }),
      sendMessageWithContext: () => {},
      sendMessage: () => {},
      startRead: () => {},
      halfClose: () => {},
      getPeer: () => '',
      getAuthContext: () => null,
    };
  };
  const options = withContext({ signal: controller.signal }) as grpc.CallOptions;
  let ended = 0;
  let cancelled = 0;
  const total = 100_000;
  for (let i = 0; i < total; i++) {
    const call = interceptor({ ...options, method_definition: method }, hanging);
    call.start(new grpc.Metadata(), {
      onReceiveStatus: (st: grpc.StatusObject) => {
        ended++;
        if (st.code === status.CANCELLED) cancelled++;
      },
    });
  }
  expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
  controller.abort(new Error('shutting down'));
  expect(ended).toBe(total);
  expect(cancelled).toBe(total);
  expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
});
