// Policies other than a plain Retry given to retryInterceptor, and interceptors further in that throw.
import * as grpc from '@grpc/grpc-js';
import { CircuitBreaker, pipeline, Retry } from '@resilience/core';
import { describe, expect, it } from 'vitest';
import { circuitBreakerInterceptor, retryInterceptor } from '../src/index.js';
import { invoke, until, useEchoServer } from './helpers.js';

const { status } = grpc;
const { server, client } = useEchoServer();

describe('an interceptor after ours that throws while creating the call', () => {
  it('ends the call with INTERNAL, which the breaker does not count against the server', async () => {
    const breaker = new CircuitBreaker({ readyToTrip: () => true });
    const broken: grpc.Interceptor = () => {
      throw new Error('interceptor bug');
    };
    const c = client(circuitBreakerInterceptor(breaker), broken);
    const out = await invoke(c, 'Unary');
    expect(out.error?.code).toBe(status.INTERNAL);
    expect(out.error?.details).toBe('Creating the call failed: interceptor bug');
    expect(out.error?.metadata.get('resilience-rejection')).toEqual(['call-failed']);
    expect(breaker.state).toBe('closed');
    expect(breaker.counts.totalFailures).toBe(0);
  });

  it('ends a retried call with INTERNAL too, without retrying', async () => {
    let attempts = 0;
    const broken: grpc.Interceptor = () => {
      attempts++;
      throw new Error('interceptor bug');
    };
    const out = await invoke(client(retryInterceptor(new Retry({ initialDelay: 1 })), broken), 'Unary');
    expect(out.error?.code).toBe(status.INTERNAL);
    expect(attempts).toBe(1);
  });
});

describe('retryInterceptor with a pipeline as its policy', () => {
  it('ends an attempt that the pipeline timed out with DEADLINE_EXCEEDED, and the server sees it cancelled', async () => {
    const policy = pipeline().retry({ maxAttempts: 2, initialDelay: 1 }).timeout({ defaultTimeout: 100 }).build();
    server.plan = () => ({ delayMs: 10_000 });
    const out = await invoke(client(retryInterceptor(policy)), 'Unary');
    expect(out.error?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(server.calls).toHaveLength(2);
    await until(() => server.calls.every((call) => call.cancelled));
  });

  it("answers a pipeline breaker's rejection as the breaker interceptor would", async () => {
    const policy = pipeline()
      .retry({ maxAttempts: 2, initialDelay: 1 })
      .circuitBreaker({ readyToTrip: () => true })
      .build();
    server.plan = () => ({ code: status.UNAVAILABLE });
    const c = client(retryInterceptor(policy));
    const out = await invoke(c, 'Unary');
    // The first attempt's UNAVAILABLE opened the breaker; the retry's second attempt was refused by it.
    expect(out.error?.code).toBe(status.UNAVAILABLE);
    expect(out.error?.details).toMatch(/^Circuit breaker open: \/resilience\.test\.Echo\/Unary rejected locally/);
    expect(out.error?.metadata.get('resilience-rejection')).toEqual(['circuit-open']);
    expect(server.calls).toHaveLength(1);
  });
});
