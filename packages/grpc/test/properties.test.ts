import * as grpc from '@grpc/grpc-js';
import { Bulkhead, CircuitBreaker, Retry } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bulkheadInterceptor, circuitBreakerInterceptor, retryInterceptor } from '../src/index.js';
import type { CallInterface } from '../src/internal/call-types.js';

// The transport below the interceptors is replaced by calls whose statuses
// fast-check's scheduler delivers in every order it likes, together with the
// clients' cancellations: that is what explores interleavings. The
// interceptors, the core patterns and grpc-js's InterceptingCall are real.

const { status } = grpc;

const method: grpc.InterceptorOptions['method_definition'] = {
  path: '/resilience.test.Echo/Unary',
  requestStream: false,
  responseStream: false,
  requestSerialize: (v: unknown) => Buffer.from(String(v)),
  responseDeserialize: (b: Buffer) => b.toString(),
};

interface Plan {
  /** The status code of each attempt (the last repeats). */
  codes: grpc.status[];
  /** Whether the client cancels the call at some point. */
  cancel: boolean;
}

class Transport {
  active = 0;
  maxActive = 0;
  started = 0;
  readonly s: fc.Scheduler;

  constructor(s: fc.Scheduler) {
    this.s = s;
  }

  /** The `nextCall` at the bottom of the chain: one scheduled call per attempt. */
  next(plan: Plan, attempt: { n: number }): (options: grpc.InterceptorOptions) => CallInterface {
    return () => {
      const code = plan.codes[Math.min(attempt.n++, plan.codes.length - 1)] as grpc.status;
      let listener: grpc.InterceptingListener | undefined;
      let ended = false;
      const end = (st: grpc.StatusObject): void => {
        if (ended) return;
        ended = true;
        this.active--;
        listener?.onReceiveMessage(st.code === status.OK ? 'reply' : null);
        listener?.onReceiveStatus(st);
      };
      const call: CallInterface = {
        start: (_md, l) => {
          listener = l as grpc.InterceptingListener;
          this.started++;
          this.active++;
          this.maxActive = Math.max(this.maxActive, this.active);
          this.s
            .schedule(Promise.resolve(code), `status ${code}`)
            .then((c) => end({ code: c, details: `scripted ${c}`, metadata: new grpc.Metadata() }));
        },
        sendMessageWithContext: (ctx) => ctx.callback?.(),
        sendMessage: () => {},
        startRead: () => {},
        halfClose: () => {},
        cancelWithStatus: (c, details) => {
          process.nextTick(() => end({ code: c, details, metadata: new grpc.Metadata() }));
        },
        getPeer: () => 'test',
        getAuthContext: () => null,
      };
      return call;
    };
  }
}

describe('client interceptors under any interleaving of statuses and cancellations', () => {
  it('settle every call exactly once, never exceed the bulkhead, and free every slot', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(
          fc.record({
            codes: fc.array(fc.constantFrom(status.OK, status.UNAVAILABLE, status.INTERNAL), {
              minLength: 1,
              maxLength: 3,
            }),
            cancel: fc.boolean(),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        async (s, plans) => {
          const clock = new FakeClock();
          const bulkhead = new Bulkhead({ maxConcurrent: 2, maxQueue: 3, clock });
          const breaker = new CircuitBreaker({ readyToTrip: (c) => c.consecutiveFailures >= 3, clock });
          const interceptors = [
            retryInterceptor(new Retry({ maxAttempts: 3, initialDelay: 1, clock })),
            circuitBreakerInterceptor(breaker),
            bulkheadInterceptor(bulkhead),
          ];
          const transport = new Transport(s);
          const results: Array<{ statuses: grpc.StatusObject[]; cancelled: boolean; late: number }> = [];
          for (const plan of plans) {
            const attempt = { n: 0 };
            const bottom = transport.next(plan, attempt);
            const make = interceptors.reduceRight<(o: grpc.InterceptorOptions) => CallInterface>(
              (next, interceptor) => (o) => interceptor(o, next),
              bottom,
            );
            const call = make({ method_definition: method });
            const result = { statuses: [] as grpc.StatusObject[], cancelled: false, late: 0 };
            results.push(result);
            call.start(new grpc.Metadata(), {
              onReceiveMetadata: () => {
                if (result.statuses.length > 0) result.late++;
              },
              onReceiveMessage: () => {
                if (result.statuses.length > 0) result.late++;
              },
              onReceiveStatus: (st) => result.statuses.push(st),
            });
            call.sendMessage('hello');
            call.halfClose();
            if (plan.cancel) {
              s.schedule(Promise.resolve(), 'cancel').then(() => {
                if (result.statuses.length === 0) result.cancelled = true;
                call.cancelWithStatus(status.CANCELLED, 'Cancelled on client');
              });
            }
          }
          for (let i = 0; i < 500 && results.some((r) => r.statuses.length === 0); i++) {
            if (s.count() > 0) await s.waitOne();
            else await clock.advance(1);
            await new Promise((resolve) => setImmediate(resolve));
          }
          for (const result of results) {
            expect(result.statuses).toHaveLength(1);
            expect(result.late).toBe(0);
            const code = result.statuses[0]?.code;
            if (code === status.CANCELLED) expect(result.cancelled).toBe(true);
          }
          expect(transport.maxActive).toBeLessThanOrEqual(2);
          expect(transport.active).toBe(0);
          expect(bulkhead.active).toBe(0);
          expect(bulkhead.queued).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
