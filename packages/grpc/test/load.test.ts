import { getEventListeners } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { Bulkhead, CircuitBreaker, RateLimiter, Retry } from '@resilience/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  bulkheadInterceptor,
  circuitBreakerInterceptor,
  deadlineInterceptor,
  rateLimitInterceptor,
  retryInterceptor,
  withContext,
} from '../src/index.js';
import { EchoServer, echoClient, invoke, KINDS } from './helpers.js';

const server = new EchoServer();
let address = '';
beforeAll(async () => {
  address = await server.listen();
});
afterAll(() => server.close());

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

it('leaves no call, slot, listener or timer behind after 10,000 calls of every kind on one shared signal', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  const breaker = new CircuitBreaker({ readyToTrip: () => false });
  const bulkhead = new Bulkhead({ maxConcurrent: 16, maxQueue: 1_000 });
  const client = echoClient(address, [
    deadlineInterceptor(10_000),
    retryInterceptor(new Retry({ initialDelay: 1 })),
    circuitBreakerInterceptor(breaker),
    bulkheadInterceptor(bulkhead),
    rateLimitInterceptor(new RateLimiter({ rate: 1e9 })),
  ]);
  // Every 10th call fails once with UNAVAILABLE and is retried; every 50th fails for good.
  server.plan = (call) => {
    const n = Number(call.texts[0]);
    if (n % 50 === 0) return { code: grpc.status.INTERNAL };
    const retried = call.metadata.get('grpc-previous-rpc-attempts').length > 0;
    return n % 10 === 0 && !retried ? { code: grpc.status.UNAVAILABLE } : {};
  };
  const shared = new AbortController();
  const timersBefore = timers();
  const total = 10_000;
  const batch = 250;
  let ok = 0;
  let failed = 0;
  for (let start = 0; start < total; start += batch) {
    const outs = await Promise.all(
      Array.from({ length: batch }, (_, i) =>
        invoke(
          client,
          KINDS[(start + i) % 4] as (typeof KINDS)[number],
          [String(start + i), 'b'],
          withContext({ signal: shared.signal }),
        ),
      ),
    );
    for (const out of outs) {
      if (out.error === undefined) ok++;
      else {
        expect(out.error.code).toBe(grpc.status.INTERNAL);
        failed++;
      }
    }
  }
  expect(ok + failed).toBe(total);
  expect(failed).toBe(total / 50);
  expect(bulkhead.active).toBe(0);
  expect(bulkhead.queued).toBe(0);
  expect(breaker.counts.requests).toBe(server.calls.length);
  expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  client.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(timers()).toBeLessThanOrEqual(timersBefore);
  process.off('warning', onWarning);
  expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
}, 120_000);
