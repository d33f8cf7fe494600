import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMaxAttemptsReachedError } from '../errors/guards.js';
import { FakeClock } from '../testing/index.js';
import { backoffPolicies } from './backoff.js';
import { Retry } from './retry.js';

describe('Retry, property', () => {
  it('never runs more than maxAttempts attempts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        fc.constantFrom(...backoffPolicies),
        async (maxAttempts, outcomes, backoff) => {
          const clock = new FakeClock();
          const retry = new Retry({ clock, maxAttempts, backoff, initialDelay: 10, random: () => 0.5 });
          let calls = 0;
          const done = retry
            .execute(() => {
              const ok = outcomes[calls % outcomes.length];
              calls++;
              return ok ? 'ok' : Promise.reject(new Error(`fail ${calls}`));
            })
            .then(
              (v) => ({ v }),
              (e: unknown) => ({ e }),
            );
          await clock.advance(0);
          await clock.runAll();
          const result = await done;
          expect(calls).toBeLessThanOrEqual(maxAttempts);
          const firstOk = outcomes.slice(0, maxAttempts).indexOf(true);
          if (firstOk === -1 && outcomes.length >= maxAttempts) {
            expect(calls).toBe(maxAttempts);
            expect(isMaxAttemptsReachedError((result as { e: unknown }).e)).toBe(true);
          }
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('an abort at any moment settles once with the reason and leaves no listener or timer', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 0, max: 300 }),
        fc.boolean(),
        async (abortAt, workMs, honoursSignal) => {
          const clock = new FakeClock();
          const controller = new AbortController();
          const reason = new Error('aborted');
          const retry = new Retry({ clock, maxAttempts: 20, initialDelay: 50, maxDelay: 400 });
          let settled = 0;
          let outcome: unknown;
          let settledAt = -1;
          const done = retry
            .execute(
              ({ signal }) =>
                new Promise<never>((_, reject) => {
                  const fail = (): void => {
                    signal.removeEventListener('abort', onAbort);
                    reject(new Error('work failed'));
                  };
                  const onAbort = (): void => {
                    clock.clearTimeout(timer);
                    reject(signal.reason);
                  };
                  const timer = clock.setTimeout(fail, workMs);
                  if (honoursSignal) signal.addEventListener('abort', onAbort, { once: true });
                }),
              { signal: controller.signal },
            )
            .then(
              (v) => {
                settled++;
                settledAt = clock.now();
                outcome = v;
              },
              (e: unknown) => {
                settled++;
                settledAt = clock.now();
                outcome = e;
              },
            );
          clock.setTimeout(() => controller.abort(reason), abortAt);
          await clock.advance(0);
          await clock.runAll();
          await done;
          expect(settled).toBe(1);
          if (isMaxAttemptsReachedError(outcome)) {
            // every attempt ran out before the abort
            expect(settledAt).toBeLessThanOrEqual(abortAt);
          } else {
            expect(outcome).toBe(reason);
            // at once when the work honours the signal, else as soon as the running attempt ends
            if (honoursSignal) expect(settledAt).toBe(abortAt);
            else expect(settledAt).toBeLessThanOrEqual(abortAt + workMs);
          }
          expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });
});
