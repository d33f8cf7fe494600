import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failOnUnhandledRejection } from '../../test/support.js';
import { listenersAfterTurn } from '../../test/waits-support.js';
import { FakeClock } from '../testing/index.js';
import { RateLimiter } from './rate-limiter.js';

failOnUnhandledRejection();

type Op =
  | { readonly kind: 'wait'; readonly key: number; readonly tokens: number; readonly signal: number }
  | { readonly kind: 'abort'; readonly signal: number }
  | { readonly kind: 'advance'; readonly ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('wait' as const),
    key: fc.integer({ min: 0, max: 2 }),
    tokens: fc.integer({ min: 1, max: 3 }),
    signal: fc.integer({ min: -1, max: 2 }),
  }),
  fc.record({ kind: fc.constant('abort' as const), signal: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400 }) }),
);

// The limiter's waiters share their base (internal/waiter.ts) with the bulkheads': a node of the key's queue and of
// the signal's hub at once. Whatever the interleaving of waits, aborts of shared signals and time: every wait settles
// once, the served ones of a key in their arrival order, the aborted ones with their signal's reason and only once
// it aborted, and no listener or timer is left behind.
describe('RateLimiter.wait: waiters under interleaved waits, aborts and time (property)', () => {
  it('settle once, in order per key, with the reason when aborted, leaving no listener or timer', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const clock = new FakeClock();
        const limiter = new RateLimiter({ clock, rate: 3, interval: 300, maxWait: Number.POSITIVE_INFINITY });
        const controllers = [new AbortController(), new AbortController(), new AbortController()];
        const settled: { id: number; key: number; how: 'served' | 'aborted' }[] = [];
        const counts: number[] = [];
        const all: Promise<void>[] = [];
        let id = 0;
        for (const o of ops) {
          if (o.kind === 'wait') {
            const me = id++;
            counts[me] = 0;
            const controller = o.signal < 0 ? undefined : controllers[o.signal];
            const p = limiter.wait(`k${o.key}`, { tokens: o.tokens, signal: controller?.signal });
            all.push(
              p.then(
                () => {
                  counts[me] = (counts[me] ?? 0) + 1;
                  settled.push({ id: me, key: o.key, how: 'served' });
                },
                (reason: unknown) => {
                  counts[me] = (counts[me] ?? 0) + 1;
                  expect([reason, controller?.signal.aborted]).toEqual([`abort ${o.signal}`, true]);
                  settled.push({ id: me, key: o.key, how: 'aborted' });
                },
              ),
            );
          } else if (o.kind === 'abort') {
            controllers[o.signal]?.abort(`abort ${o.signal}`);
          } else {
            await clock.advance(o.ms);
          }
        }
        // Enough time for every remaining waiter (at most 40 waits of 3 tokens, at 3 tokens per 300 ms).
        await clock.advance(40 * 300);
        await Promise.all(all);
        expect(counts.every((n) => n === 1)).toBe(true);
        expect(settled).toHaveLength(id);
        for (const key of [0, 1, 2]) {
          const served = settled.filter((e) => e.key === key && e.how === 'served').map((e) => e.id);
          expect(served).toEqual([...served].sort((a, b) => a - b));
        }
        for (const c of controllers) expect(await listenersAfterTurn(c.signal)).toBe(0);
        expect(clock.pendingTimers).toBe(0);
        expect(limiter.check('k0').remaining).toBeGreaterThan(0);
      }),
      { numRuns: 80 },
    );
  });
});
