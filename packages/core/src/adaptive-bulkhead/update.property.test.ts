import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBulkheadFullError } from '../errors/guards.js';
import { AdaptiveBulkhead } from './adaptive-bulkhead.js';

/** A call (that succeeds or fails) or an update of the bounds, in the order the test issues them. */
const command = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('call' as const), fail: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('update' as const),
      minLimit: fc.integer({ min: 1, max: 4 }),
      span: fc.integer({ min: 0, max: 4 }),
      maxQueue: fc.integer({ min: 0, max: 4 }),
    }),
  },
);

describe('AdaptiveBulkhead.update: properties', () => {
  it('whatever the interleaving of calls, completions and updates: no call starts over the limit, each settles once with its own outcome, nothing is left', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.constantFrom('gradient' as const, 'aimd' as const),
        fc.array(command, { minLength: 1, maxLength: 40 }),
        async (s, algorithm, commands) => {
          const bulkhead = new AdaptiveBulkhead({ algorithm, initialLimit: 2, minLimit: 1, maxLimit: 4, maxQueue: 2 });
          const outcomes: Promise<void>[] = [];
          let running = 0;
          for (const [i, cmd] of commands.entries()) {
            if (cmd.kind === 'update') {
              const maxLimit = cmd.minLimit + cmd.span;
              const before = bulkhead.limit;
              bulkhead.update({ minLimit: cmd.minLimit, maxLimit, initialLimit: maxLimit, maxQueue: cmd.maxQueue });
              expect(bulkhead.limit).toBe(Math.min(Math.max(before, cmd.minLimit), maxLimit));
              continue;
            }
            const error = new Error(`call ${i}`);
            const call = bulkhead.execute(async () => {
              running++;
              // A call starts only under the limit of that moment (running calls may exceed a lowered one).
              // A failed expectation here rejects the call with it, which the outcome below refuses.
              expect(bulkhead.active).toBe(running);
              expect(running).toBeLessThanOrEqual(bulkhead.limit);
              await s.schedule(Promise.resolve(), `call ${i}`);
              running--;
              if (cmd.fail) throw error;
              return i;
            });
            outcomes.push(
              call.then(
                (value) => {
                  expect([value, cmd.fail]).toEqual([i, false]);
                },
                (err: unknown) => {
                  // Its own error, or a rejection before it ran (no room under the limit nor in the queue).
                  expect(err === error || isBulkheadFullError(err)).toBe(true);
                },
              ),
            );
          }
          // Queued calls start (and schedule their work) only as running ones finish: wait for every outcome.
          await s.waitFor(Promise.all(outcomes));
          expect([bulkhead.active, bulkhead.queued, running]).toEqual([0, 0, 0]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
