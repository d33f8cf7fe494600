// The breaker keeps rare state in a side object created on first need. A
// breaker built with no options has none until an `on()`, an `update()`, a
// forced mode or a transition makes one, possibly while calls are in flight.
// Property: whatever the program, such a breaker counts, transitions and
// settles exactly like one whose side object existed from the start (a
// listener makes one, and takes every call off the quiet fast path).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';

const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('call' as const), fail: fc.boolean(), sync: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('settle' as const), index: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { kind: 'on' as const },
      { kind: 'update' as const },
      { kind: 'updateTrip' as const },
      { kind: 'reset' as const },
      { kind: 'isolate' as const },
      { kind: 'disable' as const },
      { kind: 'release' as const },
    ),
  },
);

interface Pending {
  settle: () => void;
}

const noop = (): void => {};
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('CircuitBreaker: the side object appearing mid-call', () => {
  it('a breaker built with no options behaves exactly like one with its side object from the start', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const lazy = new CircuitBreaker();
        const eager = new CircuitBreaker();
        eager.on('stateChange', noop);
        const pending: Pending[] = [];
        const outcomes: [unknown, unknown][] = [];
        let n = 0;
        for (const step of ops) {
          switch (step.kind) {
            case 'call': {
              const i = n++;
              const error = new Error(`call ${i}`);
              const results = [lazy, eager].map((breaker) => {
                if (step.sync && step.fail) {
                  return breaker.execute(() => {
                    throw error;
                  });
                }
                return breaker.execute(
                  () =>
                    new Promise<number>((resolve, reject) => {
                      pending.push({ settle: () => (step.fail ? reject(error) : resolve(i)) });
                    }),
                );
              });
              const [a, b] = results.map((p) =>
                (p as Promise<unknown>).then(
                  (value) => ({ value }),
                  (err: unknown) => ({ err: (err as Error).message }),
                ),
              );
              outcomes.push([a, b]);
              break;
            }
            case 'settle': {
              // Settle the same call in both: pending holds the lazy breaker's and the eager one's in turn.
              const pairs = pending.length / 2;
              if (pairs === 0) break;
              const k = step.index % pairs;
              const [first, second] = pending.splice(2 * k, 2);
              first?.settle();
              second?.settle();
              break;
            }
            case 'on':
              lazy.on('success', noop);
              break;
            case 'update':
              lazy.update({});
              eager.update({});
              break;
            case 'updateTrip':
              for (const breaker of [lazy, eager]) breaker.update({ readyToTrip: (c) => c.consecutiveFailures >= 2 });
              break;
            case 'reset':
              lazy.reset();
              eager.reset();
              break;
            case 'isolate':
              lazy.isolate();
              eager.isolate();
              break;
            case 'disable':
              lazy.disable();
              eager.disable();
              break;
            case 'release':
              lazy.release();
              eager.release();
              break;
          }
          await flush();
          expect(lazy.state).toBe(eager.state);
          expect(lazy.mode).toBe(eager.mode);
          expect(lazy.counts).toEqual(eager.counts);
        }
        for (const p of pending) p.settle();
        await flush();
        expect(lazy.counts).toEqual(eager.counts);
        for (const [a, b] of outcomes) expect(await a).toEqual(await b);
      }),
      { numRuns: 300 },
    );
  });
});
