import * as grpc from '@grpc/grpc-js';
import { Bulkhead, CircuitBreaker, handleWhen, RateLimiter, Retry, Timeout, TimeoutError } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { describe, expect, it } from 'vitest';
import {
  bulkheadInterceptor,
  circuitBreakerInterceptor,
  deadlineInterceptor,
  GrpcStatusError,
  rateLimitInterceptor,
  retryInterceptor,
  withContext,
} from '../src/index.js';
import { invoke, KINDS, type Kind, until, useEchoServer } from './helpers.js';

const { status } = grpc;

const { server, client } = useEchoServer();

/** What the server received in each call of the current test. */
function serverTexts(): string[][] {
  return server.calls.map((call) => call.texts);
}

const streamingRequest = (kind: Kind): boolean => kind === 'ClientStream' || kind === 'Bidi';
const texts = (kind: Kind): string[] => (streamingRequest(kind) ? ['a', 'b', 'c'] : ['a']);
const expectedReplies = (kind: Kind): string[] =>
  kind === 'Unary' ? ['a'] : kind === 'ClientStream' ? ['a,b,c'] : kind === 'ServerStream' ? ['a'] : ['a', 'b', 'c'];

describe.each(KINDS)('%s call', (kind) => {
  it('passes through every interceptor untouched when nothing fails', async () => {
    const c = client(
      deadlineInterceptor(5_000),
      retryInterceptor(new Retry()),
      circuitBreakerInterceptor(new CircuitBreaker()),
      bulkheadInterceptor(new Bulkhead({ maxConcurrent: 4 })),
      rateLimitInterceptor(new RateLimiter({ rate: 1_000 })),
    );
    const out = await invoke(c, kind, texts(kind));
    expect(out.error).toBeUndefined();
    expect(out.replies).toEqual(expectedReplies(kind));
    expect(out.headers).toBeInstanceOf(grpc.Metadata);
    expect(serverTexts()).toEqual([texts(kind)]);
  });

  it('trips the breaker on failing statuses, then rejects locally with UNAVAILABLE', async () => {
    const breaker = new CircuitBreaker({ readyToTrip: (counts) => counts.consecutiveFailures >= 2, timeout: 60_000 });
    const c = client(circuitBreakerInterceptor(breaker));
    server.plan = () => ({ code: status.INTERNAL, details: 'boom' });
    for (let i = 0; i < 2; i++) {
      const out = await invoke(c, kind, texts(kind));
      expect(out.error?.code).toBe(status.INTERNAL);
      expect(out.error?.details).toBe('boom');
    }
    expect(breaker.state).toBe('open');
    const rejected = await invoke(c, kind, texts(kind));
    expect(rejected.error?.code).toBe(status.UNAVAILABLE);
    expect(rejected.error?.details).toMatch(/^Circuit breaker open: \/resilience\.test\.Echo\/\w+ rejected locally/);
    expect(rejected.error?.metadata.get('resilience-rejection')).toEqual(['circuit-open']);
    const pushback = Number(rejected.error?.metadata.get('grpc-retry-pushback-ms')[0]);
    expect(pushback).toBeGreaterThan(0);
    expect(pushback).toBeLessThanOrEqual(60_000);
    expect(server.calls).toHaveLength(2);
  });

  it('counts a status outside failureCodes as a success: the server answered', async () => {
    const breaker = new CircuitBreaker({ readyToTrip: (counts) => counts.consecutiveFailures >= 1 });
    const c = client(circuitBreakerInterceptor(breaker));
    server.plan = () => ({ code: status.INVALID_ARGUMENT });
    const out = await invoke(c, kind, texts(kind));
    expect(out.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(breaker.state).toBe('closed');
    expect(breaker.counts.totalSuccesses).toBe(1);
  });

  it('honours failureCodes', async () => {
    const breaker = new CircuitBreaker({ readyToTrip: (counts) => counts.consecutiveFailures >= 1 });
    const c = client(circuitBreakerInterceptor(breaker, { failureCodes: [status.NOT_FOUND] }));
    server.plan = () => ({ code: status.UNAVAILABLE });
    await invoke(c, kind, texts(kind));
    expect(breaker.state).toBe('closed');
    server.plan = () => ({ code: status.NOT_FOUND });
    await invoke(c, kind, texts(kind));
    expect(breaker.state).toBe('open');
  });

  it('retries UNAVAILABLE and succeeds, replaying metadata and every request message', async () => {
    const retries: number[] = [];
    const retry = new Retry({ maxAttempts: 3, initialDelay: 1, onRetry: (attempt) => retries.push(attempt) });
    const c = client(retryInterceptor(retry));
    server.plan = (_call, index) => (index < 2 ? { code: status.UNAVAILABLE } : {});
    const out = await invoke(c, kind, texts(kind));
    expect(out.error).toBeUndefined();
    expect(out.replies).toEqual(expectedReplies(kind));
    expect(retries).toEqual([1, 2]);
    expect(serverTexts()).toEqual([texts(kind), texts(kind), texts(kind)]);
    expect(server.calls.map((call) => call.metadata.get('grpc-previous-rpc-attempts'))).toEqual([[], ['1'], ['2']]);
  });

  it('shows the response headers of the attempt that answered, once', async () => {
    const c = client(retryInterceptor(new Retry({ maxAttempts: 3, initialDelay: 1 })));
    server.plan = (_call, index) =>
      index === 0 ? { headers: { attempt: '1' }, code: status.UNAVAILABLE } : { headers: { attempt: '2' } };
    const seen: string[] = [];
    const out = await invoke(c, kind, texts(kind), {}, (call) =>
      call.on('metadata', (md: grpc.Metadata) => seen.push(String(md.get('attempt')[0]))),
    );
    expect(out.error).toBeUndefined();
    expect(seen).toEqual(['2']);
  });

  it('ends the call at its deadline while the retry waits, not when the back-off is over', async () => {
    const c = client(deadlineInterceptor(150), retryInterceptor(new Retry({ maxAttempts: 3, initialDelay: 60_000 })));
    server.plan = () => ({ code: status.UNAVAILABLE });
    const out = await invoke(c, kind, texts(kind));
    expect(out.error?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(out.error?.details).toBe('Deadline exceeded while waiting to retry');
    expect(server.calls).toHaveLength(1);
  });

  it('passes on the last status when the retry gives up', async () => {
    const c = client(retryInterceptor(new Retry({ maxAttempts: 2, initialDelay: 1 })));
    server.plan = (_call, index) => ({ code: status.UNAVAILABLE, details: `down ${index}` });
    const out = await invoke(c, kind, texts(kind));
    expect(out.error?.code).toBe(status.UNAVAILABLE);
    expect(out.error?.details).toBe('down 1');
    expect(server.calls).toHaveLength(2);
  });

  it('does not retry a code outside retryableCodes', async () => {
    const c = client(retryInterceptor(new Retry({ maxAttempts: 3, initialDelay: 1 })));
    server.plan = () => ({ code: status.INTERNAL });
    const out = await invoke(c, kind, texts(kind));
    expect(out.error?.code).toBe(status.INTERNAL);
    expect(server.calls).toHaveLength(1);
  });

  it('honours retryableCodes', async () => {
    const c = client(retryInterceptor(new Retry({ initialDelay: 1 }), { retryableCodes: [status.ABORTED] }));
    server.plan = (_call, index) => (index === 0 ? { code: status.ABORTED } : {});
    const out = await invoke(c, kind, texts(kind));
    expect(out.error).toBeUndefined();
    expect(server.calls).toHaveLength(2);
  });

  it('waits the server pushback before the next attempt', async () => {
    const delays: number[] = [];
    const retry = new Retry({ maxAttempts: 2, initialDelay: 5_000, onRetry: (_a, _e, delay) => delays.push(delay) });
    const c = client(retryInterceptor(retry));
    server.plan = (_call, index) =>
      index === 0 ? { code: status.UNAVAILABLE, trailers: { 'grpc-retry-pushback-ms': '20' } } : {};
    const out = await invoke(c, kind, texts(kind));
    expect(out.error).toBeUndefined();
    expect(delays).toEqual([20]);
  });

  it.each(['-1', 'soon', '1.5', ''])('does not retry after a pushback of %j', async (pushback) => {
    const c = client(retryInterceptor(new Retry({ maxAttempts: 3, initialDelay: 1 })));
    server.plan = () => ({ code: status.UNAVAILABLE, trailers: { 'grpc-retry-pushback-ms': pushback } });
    const out = await invoke(c, kind, texts(kind));
    expect(out.error?.code).toBe(status.UNAVAILABLE);
    expect(server.calls).toHaveLength(1);
  });

  it('gives the call the interceptor deadline, which the server sees', async () => {
    const c = client(deadlineInterceptor(3_000));
    const before = Date.now();
    const out = await invoke(c, kind, texts(kind));
    expect(out.error).toBeUndefined();
    const at = deadlineMs(server.calls[0]?.deadline);
    // grpc-timeout travels with millisecond-or-coarser units: allow its rounding.
    expect(at).toBeGreaterThan(before);
    expect(at).toBeLessThanOrEqual(Date.now() + 3_000 + 50);
  });

  it("gives the call the remaining time of the caller's ctx.deadline", async () => {
    const c = client(deadlineInterceptor());
    const timeout = new Timeout({ defaultTimeout: 4_000 });
    const before = Date.now();
    const out = await timeout.execute((ctx) => invoke(c, kind, texts(kind), withContext(ctx)));
    expect(out.error).toBeUndefined();
    const at = deadlineMs(server.calls[0]?.deadline);
    expect(at).toBeGreaterThan(before);
    expect(at).toBeLessThanOrEqual(Date.now() + 4_000 + 50);
  });

  it('ends a call past its deadline with DEADLINE_EXCEEDED, and the server sees it cancelled', async () => {
    const c = client(deadlineInterceptor(150));
    server.plan = () => ({ delayMs: 10_000 });
    const out = await invoke(c, kind, texts(kind));
    expect(out.error?.code).toBe(status.DEADLINE_EXCEEDED);
    await until(() => server.calls[0]?.cancelled === true);
  });

  it("ends the call with DEADLINE_EXCEEDED when an outer Timeout aborts the caller's signal", async () => {
    const c = client(deadlineInterceptor());
    server.plan = () => ({ delayMs: 10_000 });
    const timeout = new Timeout({ defaultTimeout: 150 });
    let out: Promise<Awaited<ReturnType<typeof invoke>>> | undefined;
    // Only the signal travels (no gRPC deadline), so the cancellation is what ends the call.
    await expect(
      timeout.execute((ctx) => {
        out = invoke(c, kind, texts(kind), withContext({ signal: ctx.signal }));
        return out;
      }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    const ended = await out;
    expect(ended?.error?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(ended?.error?.details).toMatch(/^Deadline exceeded: /);
    await until(() => server.calls[0]?.cancelled === true);
  });

  it("cancels the call with CANCELLED when the caller's signal aborts", async () => {
    const c = client(deadlineInterceptor(), retryInterceptor(new Retry()));
    server.plan = () => ({ delayMs: 10_000 });
    const controller = new AbortController();
    const pending = invoke(c, kind, texts(kind), withContext({ signal: controller.signal }));
    await until(() => server.calls.length === 1);
    controller.abort(new Error('user left'));
    const out = await pending;
    expect(out.error?.code).toBe(status.CANCELLED);
    expect(out.error?.details).toContain('user left');
    await until(() => server.calls[0]?.cancelled === true);
  });

  it('answers RESOURCE_EXHAUSTED without a call when the rate limit is exceeded', async () => {
    const c = client(rateLimitInterceptor(new RateLimiter({ rate: 1, interval: 60_000 })));
    expect((await invoke(c, kind, texts(kind))).error).toBeUndefined();
    const out = await invoke(c, kind, texts(kind));
    expect(out.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(out.error?.details).toMatch(/^Rate limit exceeded: .* rejected locally without a call; retry after \d+ ms$/);
    expect(out.error?.metadata.get('resilience-rejection')).toEqual(['rate-limited']);
    expect(Number(out.error?.metadata.get('grpc-retry-pushback-ms')[0])).toBeGreaterThan(50_000);
    expect(server.calls).toHaveLength(1);
  });

  it('answers UNAVAILABLE when the bulkhead is full, and frees the slot when the call ends', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const c = client(bulkheadInterceptor(bulkhead, { retryAfter: 250 }));
    server.plan = (_call, index) => (index === 0 ? { hold: true } : {});
    const first = invoke(c, kind, texts(kind));
    await until(() => server.calls.length === 1);
    const out = await invoke(c, kind, texts(kind));
    expect(out.error?.code).toBe(status.UNAVAILABLE);
    expect(out.error?.details).toMatch(/^Bulkhead full: /);
    expect(out.error?.metadata.get('grpc-retry-pushback-ms')).toEqual(['250']);
    server.release();
    expect((await first).error).toBeUndefined();
    expect(bulkhead.active).toBe(0);
    expect((await invoke(c, kind, texts(kind))).error).toBeUndefined();
  });

  it('queues a call in the bulkhead and sends what it wrote once it gets a slot', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const c = client(bulkheadInterceptor(bulkhead));
    server.plan = (_call, index) => (index === 0 ? { hold: true } : {});
    const first = invoke(c, kind, texts(kind));
    const second = invoke(c, kind, texts(kind));
    await until(() => bulkhead.queued === 1 && server.calls.length === 1);
    server.release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect(b.replies).toEqual(expectedReplies(kind));
    expect(bulkhead.active).toBe(0);
  });

  it('ends a queued call with DEADLINE_EXCEEDED when its deadline passes in the queue', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const slow = client(bulkheadInterceptor(bulkhead));
    const c = client(deadlineInterceptor(100), bulkheadInterceptor(bulkhead));
    server.plan = (_call, index) => (index === 0 ? { hold: true } : {});
    const first = invoke(slow, kind, texts(kind));
    await until(() => bulkhead.active === 1);
    const out = await invoke(c, kind, texts(kind));
    expect(out.error?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(out.error?.details).toBe('Deadline exceeded while waiting for a bulkhead slot');
    expect(bulkhead.queued).toBe(0);
    server.release();
    expect((await first).error).toBeUndefined();
    expect(server.calls).toHaveLength(1);
  });

  it('does not retry our own rejections by default, even though they are UNAVAILABLE', async () => {
    const breaker = new CircuitBreaker();
    breaker.isolate();
    const retries: number[] = [];
    const c = client(
      retryInterceptor(new Retry({ initialDelay: 1, onRetry: (a) => retries.push(a) })),
      circuitBreakerInterceptor(breaker),
    );
    const out = await invoke(c, kind, texts(kind));
    expect(out.error?.code).toBe(status.UNAVAILABLE);
    expect(retries).toEqual([]);
  });

  it('retries our own rejections with retryRejections, honouring their pushback', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const delays: number[] = [];
    const retry = new Retry({ maxAttempts: 1_000, initialDelay: 5_000, onRetry: (_a, _e, d) => delays.push(d) });
    const c = client(
      retryInterceptor(retry, { retryRejections: true }),
      bulkheadInterceptor(bulkhead, { retryAfter: 30 }),
    );
    server.plan = (_call, index) => (index === 0 ? { hold: true } : {});
    const first = invoke(c, kind, texts(kind));
    await until(() => bulkhead.active === 1);
    const second = invoke(c, kind, texts(kind));
    await until(() => delays.length >= 2);
    server.release();
    const out = await second;
    expect(out.error).toBeUndefined();
    expect(delays.length).toBeGreaterThan(0);
    expect(delays.every((d) => d === 30)).toBe(true);
    await first;
  });

  it('counts a cancelled call as neither success nor failure, and frees its slots', async () => {
    const breaker = new CircuitBreaker({ readyToTrip: () => true });
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const c = client(circuitBreakerInterceptor(breaker), bulkheadInterceptor(bulkhead));
    server.plan = () => ({ delayMs: 10_000 });
    let call: grpc.Call | undefined;
    const pending = invoke(c, kind, texts(kind), {}, (made) => {
      call = made;
    });
    await until(() => server.calls.length === 1);
    call?.cancel();
    const out = await pending;
    expect(out.error?.code).toBe(status.CANCELLED);
    expect(breaker.state).toBe('closed');
    expect(breaker.counts.totalFailures).toBe(0);
    expect(breaker.counts.totalSuccesses).toBe(0);
    expect(bulkhead.active).toBe(0);
    await until(() => server.calls[0]?.cancelled === true);
  });

  it('lets a call cancelled while queued leave the bulkhead queue at once', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const c = client(bulkheadInterceptor(bulkhead));
    server.plan = () => ({ hold: true });
    const first = invoke(c, kind, texts(kind));
    await until(() => bulkhead.active === 1);
    let call: grpc.Call | undefined;
    const queued = invoke(c, kind, texts(kind), {}, (made) => {
      call = made;
    });
    await until(() => bulkhead.queued === 1);
    call?.cancel();
    const out = await queued;
    expect(out.error?.code).toBe(status.CANCELLED);
    expect(bulkhead.queued).toBe(0);
    server.release();
    await first;
    expect(server.calls).toHaveLength(1);
  });

  it('stops retrying when the call is cancelled between attempts', async () => {
    const c = client(retryInterceptor(new Retry({ maxAttempts: 5, initialDelay: 10_000 })));
    server.plan = () => ({ code: status.UNAVAILABLE });
    let call: grpc.Call | undefined;
    const pending = invoke(c, kind, texts(kind), {}, (made) => {
      call = made;
    });
    await until(() => server.calls.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    call?.cancel();
    const out = await pending;
    expect(out.error?.code).toBe(status.CANCELLED);
    expect(server.calls).toHaveLength(1);
  });
});

describe.each(['ServerStream', 'Bidi'] as const)('%s call after its first response message', (kind) => {
  it('is committed: the failure is passed on, not retried', async () => {
    const c = client(retryInterceptor(new Retry({ maxAttempts: 3, initialDelay: 1 })));
    server.plan = () => ({ code: status.UNAVAILABLE, repliesBeforeFailure: 1 });
    const out = await invoke(c, kind, texts(kind));
    expect(out.replies).toEqual(['partial0']);
    expect(out.error?.code).toBe(status.UNAVAILABLE);
    expect(server.calls).toHaveLength(1);
  });
});

describe.each(['Unary', 'ServerStream'] as const)('%s call with maxBufferedMessages: 0', (kind) => {
  it('is still retried: the bound is for request streams only', async () => {
    const c = client(retryInterceptor(new Retry({ maxAttempts: 2, initialDelay: 1 }), { maxBufferedMessages: 0 }));
    server.plan = (_call, index) => (index === 0 ? { code: status.UNAVAILABLE } : {});
    const out = await invoke(c, kind, ['a']);
    expect(out.error).toBeUndefined();
    expect(server.calls).toHaveLength(2);
  });
});

describe.each(['ClientStream', 'Bidi'] as const)('%s call with more messages than the replay buffer', (kind) => {
  it('is committed: not retried', async () => {
    const c = client(retryInterceptor(new Retry({ maxAttempts: 3, initialDelay: 1 }), { maxBufferedMessages: 2 }));
    server.plan = () => ({ code: status.UNAVAILABLE });
    const out = await invoke(c, kind, ['a', 'b', 'c']);
    expect(out.error?.code).toBe(status.UNAVAILABLE);
    expect(server.calls).toHaveLength(1);
  });

  it('is still retried while within the buffer', async () => {
    const c = client(retryInterceptor(new Retry({ maxAttempts: 3, initialDelay: 1 }), { maxBufferedMessages: 3 }));
    server.plan = (_call, index) => (index === 0 ? { code: status.UNAVAILABLE } : {});
    const out = await invoke(c, kind, ['a', 'b', 'c']);
    expect(out.error).toBeUndefined();
    expect(serverTexts()).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
    ]);
  });
});

/** A deadline as the server reports it (a `Date` or epoch ms), in epoch ms. */
function deadlineMs(deadline: grpc.Deadline | undefined): number {
  if (deadline === undefined) throw new Error('no call recorded');
  return typeof deadline === 'number' ? deadline : deadline.getTime();
}

describe('a long bidi stream through retryInterceptor', () => {
  it('commits once past the replay buffer and still delivers every message in order', async () => {
    const c = client(retryInterceptor(new Retry({ initialDelay: 1 }), { maxBufferedMessages: 10 }));
    const many = Array.from({ length: 500 }, (_, i) => String(i));
    const out = await invoke(c, 'Bidi', many);
    expect(out.error).toBeUndefined();
    expect(out.replies).toEqual(many);
    expect(serverTexts()).toEqual([many]);
  });

  it('replays every buffered message, in order, when an early attempt fails', async () => {
    const c = client(retryInterceptor(new Retry({ initialDelay: 1 })));
    const some = Array.from({ length: 40 }, (_, i) => String(i));
    server.plan = (_call, index) => (index === 0 ? { code: status.UNAVAILABLE } : {});
    const out = await invoke(c, 'Bidi', some);
    expect(out.error).toBeUndefined();
    expect(out.replies).toEqual(some);
    expect(serverTexts()).toEqual([some, some]);
  });
});

describe('circuitBreakerInterceptor in half-open', () => {
  it('frees the probe slot of a cancelled call, so the next call is the probe', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ readyToTrip: () => true, timeout: 1_000, maxRequests: 1, clock });
    const c = client(circuitBreakerInterceptor(breaker));
    server.plan = () => ({ code: status.UNAVAILABLE });
    await invoke(c, 'Unary');
    expect(breaker.state).toBe('open');
    await clock.advance(1_001);
    expect(breaker.state).toBe('half-open');
    server.plan = () => ({ delayMs: 10_000 });
    let probe: grpc.Call | undefined;
    const cancelled = invoke(c, 'Unary', ['a'], {}, (made) => {
      probe = made;
    });
    await until(() => server.calls.length === 2);
    // The slot is taken: another call is refused while the probe runs.
    expect((await invoke(c, 'Unary')).error?.details).toMatch(/^Circuit breaker open/);
    probe?.cancel();
    expect((await cancelled).error?.code).toBe(status.CANCELLED);
    server.plan = () => ({});
    expect((await invoke(c, 'Unary')).error).toBeUndefined();
    expect(breaker.state).toBe('closed');
  });

  it("hands the breaker's isSuccessful a GrpcStatusError with the status", async () => {
    const seen: unknown[] = [];
    const breaker = new CircuitBreaker({
      isSuccessful: (err) => {
        seen.push(err);
        return err instanceof GrpcStatusError && err.details === 'expected outage';
      },
      readyToTrip: () => true,
    });
    const c = client(circuitBreakerInterceptor(breaker));
    server.plan = () => ({ code: status.UNAVAILABLE, details: 'expected outage', trailers: { why: 'maintenance' } });
    await invoke(c, 'Unary');
    expect(breaker.state).toBe('closed');
    const err = seen[0] as GrpcStatusError;
    expect(err).toBeInstanceOf(GrpcStatusError);
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.metadata.get('why')).toEqual(['maintenance']);
    expect(err.message).toBe('14 UNAVAILABLE: expected outage');
  });
});

describe("circuitBreakerInterceptor with the breaker's handle classifier", () => {
  it('classifies the GrpcStatusError with the classifier given as handle', async () => {
    const breaker = new CircuitBreaker({
      // Only an UNAVAILABLE is a failure here: another failure code is the server answering.
      handle: handleWhen((err) => err instanceof GrpcStatusError && err.code === status.UNAVAILABLE),
      readyToTrip: () => true,
    });
    const c = client(circuitBreakerInterceptor(breaker));
    server.plan = () => ({ code: status.INTERNAL, details: 'a bug' });
    expect((await invoke(c, 'Unary')).error?.code).toBe(status.INTERNAL);
    expect(breaker.state).toBe('closed');
    expect(breaker.counts.totalSuccesses).toBe(1);
    server.plan = () => ({ code: status.UNAVAILABLE, details: 'down' });
    expect((await invoke(c, 'Unary')).error?.code).toBe(status.UNAVAILABLE);
    expect(breaker.state).toBe('open');
  });
});

describe('circuitBreakerInterceptor outside other interceptors', () => {
  it('counts a rejection generated further in (a full bulkhead) as neither success nor failure', async () => {
    const breaker = new CircuitBreaker({ readyToTrip: () => true });
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const c = client(circuitBreakerInterceptor(breaker), bulkheadInterceptor(bulkhead));
    server.plan = (_call, index) => (index === 0 ? { hold: true } : {});
    const first = invoke(c, 'Unary');
    await until(() => bulkhead.active === 1);
    const rejected = await invoke(c, 'Unary');
    expect(rejected.error?.details).toMatch(/^Bulkhead full/);
    expect(breaker.state).toBe('closed');
    expect(breaker.counts.totalFailures).toBe(0);
    server.release();
    expect((await first).error).toBeUndefined();
    expect(breaker.counts.totalSuccesses).toBe(1);
  });
});

describe('circuitBreakerInterceptor and the permit API', () => {
  it('reports a cancelled call with the permit cancel() when the core has it, else with ignore()', async () => {
    const reports: string[] = [];
    const real = new CircuitBreaker();
    const withCancel = {
      acquire: () => {
        const permit = real.acquire();
        return {
          success: () => reports.push('success'),
          failure: () => reports.push('failure'),
          ignore: () => reports.push('ignore'),
          cancel: () => {
            reports.push('cancel');
            permit.ignore();
          },
        };
      },
    };
    const withoutCancel = {
      acquire: () => ({
        success: () => reports.push('success'),
        failure: () => reports.push('failure'),
        ignore: () => reports.push('ignore'),
      }),
    };
    server.plan = () => ({ delayMs: 10_000 });
    for (const breaker of [withCancel, withoutCancel]) {
      const c = client(circuitBreakerInterceptor(breaker));
      let made: grpc.Call | undefined;
      const pending = invoke(c, 'Unary', ['a'], {}, (call) => {
        made = call;
      });
      await until(() => made !== undefined);
      await new Promise((resolve) => setTimeout(resolve, 20));
      made?.cancel();
      await pending;
    }
    expect(reports).toEqual(['cancel', 'ignore']);
  });
});

describe('deadlineInterceptor with a caller signal that already aborted', () => {
  it.each([
    ['a TimeoutError', new TimeoutError({ timeoutMs: 5 }), status.DEADLINE_EXCEEDED],
    ['another reason', new Error('user left'), status.CANCELLED],
  ])('makes no call at all for %s', async (_what, reason, code) => {
    const controller = new AbortController();
    controller.abort(reason);
    const c = client(deadlineInterceptor(), retryInterceptor(new Retry()));
    for (const kind of KINDS) {
      const out = await invoke(c, kind, ['a'], withContext({ signal: controller.signal }));
      expect(out.error?.code).toBe(code);
    }
    expect(server.calls).toHaveLength(0);
  });
});
