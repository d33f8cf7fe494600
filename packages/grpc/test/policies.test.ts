// Policies other than a plain Retry given to retryInterceptor, and interceptors further in that throw.
import * as grpc from '@grpc/grpc-js';
import { CircuitBreaker, pipeline, Retry } from '@resilience/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { circuitBreakerInterceptor, retryInterceptor } from '../src/index.js';
import { EchoServer, echoClient, invoke, until } from './helpers.js';

const { status } = grpc;
const server = new EchoServer();
let address = '';
const clients: grpc.Client[] = [];
function client(...interceptors: grpc.Interceptor[]): grpc.Client {
  const c = echoClient(address, interceptors);
  clients.push(c);
  return c;
}
beforeAll(async () => {
  address = await server.listen();
});
afterAll(() => {
  for (const c of clients) c.close();
  server.close();
});
beforeEach(() => {
  server.calls.length = 0;
  server.plan = () => ({});
});

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
