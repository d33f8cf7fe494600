import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outcome } from '../../test/support.js';
import { FakeClock } from '../testing/index.js';
import { AdaptiveThrottle } from './adaptive-throttle.js';

const step = fc.oneof(
  fc.record({ kind: fc.constant('call' as const), ok: fc.boolean() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 5_000 }) }),
  fc.record({ kind: fc.constant('window' as const), window: fc.integer({ min: 1, max: 20_000 }) }),
  fc.record({ kind: fc.constant('k' as const), k: fc.double({ min: 1, max: 4, noNaN: true }) }),
);

describe('AdaptiveThrottle.update: properties', () => {
  it('an update never changes the counts by itself; 0 <= accepts <= requests; one window after the last count, nothing is left', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const clock = new FakeClock();
        // Never rejects (the draw is above any probability), so every call is counted as made.
        const throttle = new AdaptiveThrottle({ window: 10_000, clock, random: () => 0.999_999_9 });
        for (const s of steps) {
          if (s.kind === 'call') {
            await outcome(throttle.execute(() => (s.ok ? 'ok' : Promise.reject(new Error('boom')))));
          } else if (s.kind === 'advance') {
            await clock.advance(s.ms);
          } else {
            const before = [throttle.requests, throttle.accepts];
            throttle.update(s.kind === 'window' ? { window: s.window } : { k: s.k });
            expect([throttle.requests, throttle.accepts]).toEqual(before);
          }
          expect(throttle.accepts).toBeGreaterThanOrEqual(0);
          expect(throttle.accepts).toBeLessThanOrEqual(throttle.requests);
          const p = throttle.rejectionProbability;
          expect(p >= 0 && p <= throttle.maxRejectionProbability).toBe(true);
        }
        await clock.advance(throttle.window + throttle.window / 10);
        expect([throttle.requests, throttle.accepts]).toEqual([0, 0]);
      }),
      { numRuns: 300 },
    );
  });
});
