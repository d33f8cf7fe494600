import { CircuitBreaker, isCircuitOpenError, isMaxAttemptsReachedError, isTimeoutError } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFetch } from '../src/index.js';
import { OriginBreakers } from '../src/origins.js';

type Outcome = 'ok' | '503' | '429' | '500' | 'network' | 'stall';
const outcomeArb = fc.constantFrom<Outcome>('ok', '503', '429', '500', 'network', 'stall');

/**
 * A fetch whose answers come from a script, counted per call (the URL's path
 * is the call's index); a stall ends only when its signal aborts.
 */
function scriptedFetch(
  outcomes: Outcome[],
  logs: { calls: number }[],
  schedule: <T>(promise: Promise<T>) => Promise<T>,
) {
  return (input: unknown, init?: RequestInit): Promise<Response> => {
    const log = logs[Number(new URL(String(input)).pathname.slice(1))] as { calls: number };
    const outcome = outcomes[log.calls % outcomes.length] ?? 'ok';
    log.calls++;
    const signal = init?.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    switch (outcome) {
      case 'network':
        // Rejects only once the scheduler releases it, so an unreleased task is no unhandled rejection.
        return schedule(Promise.resolve()).then(() => Promise.reject(new TypeError('fetch failed')));
      case 'stall':
        return new Promise((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      case 'ok':
        return schedule(Promise.resolve(new Response('ok')));
      default:
        return schedule(
          Promise.resolve(new Response(outcome, { status: Number(outcome), headers: { 'retry-after': '1' } })),
        );
    }
  };
}

describe('createFetch properties', () => {
  it('every call settles exactly once and never makes more attempts than configured', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(outcomeArb, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (s, outcomes, maxAttempts, aborts, withBreaker) => {
          const clock = new FakeClock();
          const logs = aborts.map(() => ({ calls: 0 }));
          const settlements = aborts.map(() => 0);
          // One resilient fetch for every call: they share the origin's breaker.
          const fetch = createFetch({
            fetch: scriptedFetch(outcomes, logs, (p) => s.schedule(p)),
            clock,
            retry: { maxAttempts, initialDelay: 10, maxDelay: 500, jitter: false },
            breaker: withBreaker ? { readyToTrip: (c) => c.consecutiveFailures >= 2, timeout: 1000 } : false,
            timeout: 2000,
            attemptTimeout: 300,
          });
          const calls = aborts.map((abortAt, i) => {
            const controller = new AbortController();
            if (abortAt !== undefined) clock.setTimeout(() => controller.abort(new Error('caller')), abortAt);
            const promise = fetch(`http://origin.test/${i}`, { signal: controller.signal });
            const settled = (): void => {
              settlements[i] = (settlements[i] ?? 0) + 1;
            };
            promise.then(settled, settled);
            return promise.then(
              (response) => expect(response).toBeInstanceOf(Response),
              (error: unknown) => {
                // Only the core's errors, the caller's reason or the network error of a request not retried.
                const known =
                  isTimeoutError(error) ||
                  isCircuitOpenError(error) ||
                  isMaxAttemptsReachedError(error) ||
                  (error instanceof Error && error.message === 'caller') ||
                  (maxAttempts === 1 && error instanceof TypeError && error.message === 'fetch failed');
                expect(known, String(error)).toBe(true);
              },
            );
          });
          let done = false;
          const all = Promise.all(calls).then(() => {
            done = true;
          });
          for (let guard = 0; !done && guard < 10_000; guard++) {
            if (s.count() > 0) await s.waitOne();
            else if (clock.nextTimerAt !== undefined) await clock.advance(Math.max(0, clock.nextTimerAt - clock.now()));
            else await Promise.resolve();
          }
          if (!done)
            throw new Error(`stuck: s.count=${s.count()} timers=${clock.pendingTimers} next=${clock.nextTimerAt}`);
          await all;
          await Promise.resolve();
          for (const count of settlements) expect(count).toBe(1);
          for (const log of logs) expect(log.calls).toBeLessThanOrEqual(maxAttempts);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('an open breaker is never evicted before its open time ends; closed ones go first', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('touch' as const), origin: fc.integer({ min: 0, max: 9 }) }),
            fc.record({ kind: fc.constant('fail' as const), origin: fc.integer({ min: 0, max: 9 }) }),
            fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 1500 }) }),
          ),
          { maxLength: 60 },
        ),
        async (max, ops) => {
          const clock = new FakeClock();
          const map = new OriginBreakers(
            max,
            () => new CircuitBreaker({ clock, timeout: 1000, readyToTrip: (c) => c.consecutiveFailures >= 1 }),
            () => clock.now(),
          );
          /** Breakers known to be open, and when their open time ends. */
          const open = new Map<string, { breaker: CircuitBreaker; until: number }>();
          for (const op of ops) {
            if (op.kind === 'wait') {
              await clock.advance(op.ms);
            } else {
              const origin = `http://o${op.origin}.test`;
              const before = map.size;
              const breaker = map.get(origin);
              if (map.size > before && map.size > max) {
                // Just inserted past the bound: everything but the newest entry is open (nothing else could go).
                const others = map.origins().filter((o) => o !== origin);
                expect(others.every((o) => map.peek(o)?.state === 'open')).toBe(true);
              }
              if (op.kind === 'fail' && breaker.state === 'closed') {
                breaker.acquire().failure(new Error('down'));
                if ((breaker.state as string) === 'open') open.set(origin, { breaker, until: clock.now() + 1000 });
              }
            }
            for (const [origin, entry] of open) {
              if (clock.now() >= entry.until) open.delete(origin);
              else expect(map.peek(origin)).toBe(entry.breaker);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('OriginBreakers', () => {
  it('forgets the least recently used closed breaker first, then half-open, never open', async () => {
    const clock = new FakeClock();
    const map = new OriginBreakers(
      2,
      () => new CircuitBreaker({ clock, timeout: 1000, readyToTrip: (c) => c.consecutiveFailures >= 1 }),
      () => clock.now(),
    );
    const a = map.get('a');
    a.acquire().failure();
    expect(a.state).toBe('open');
    map.get('b');
    map.get('c'); // b is closed and least recently used after a, which is open: b goes
    expect(map.origins()).toEqual(['a', 'c']);
    map.get('c').acquire().failure(); // c open too
    map.get('d'); // nothing but open ones: the map grows
    expect(map.origins()).toEqual(['a', 'c', 'd']);
    await clock.advance(1001); // a and c are half-open now
    map.get('e');
    expect(map.origins()).toEqual(['c', 'e']); // d (closed) first, then a (half-open, least recent)
  });
});
