import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bulkhead } from './bulkhead.js';

describe('Bulkhead.update, property', () => {
  it('with updates of maxConcurrent at any moment: no idle slot while calls wait, none started over the limit, every call settles once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 10 }),
        async (s, initial, limits, callCount) => {
          const bulkhead = new Bulkhead<number>({ maxConcurrent: initial, maxQueue: 20 });
          let limit = initial;
          const settleCounts = Array.from({ length: callCount }, () => 0);
          const violations: string[] = [];
          const check = (when: string): void => {
            if (bulkhead.queued > 0 && bulkhead.active < limit) {
              violations.push(`${when}: ${bulkhead.active} active < ${limit} with ${bulkhead.queued} queued`);
            }
          };
          const calls = settleCounts.map((_, i) =>
            bulkhead
              .execute(async () => {
                // A call may start only when a slot under the current limit is free.
                if (bulkhead.active > limit) violations.push(`call ${i} started with ${bulkhead.active} > ${limit}`);
                await s.schedule(Promise.resolve(), `work ${i}`);
                return i;
              })
              .finally(() => {
                settleCounts[i] = (settleCounts[i] ?? 0) + 1;
                check(`after call ${i}`);
              }),
          );
          const updates = limits.map((next, j) =>
            s.schedule(Promise.resolve(), `update ${j} to ${next}`).then(() => {
              const before = bulkhead.active;
              limit = next;
              bulkhead.update({ maxConcurrent: next });
              if (bulkhead.active > Math.max(next, before)) violations.push(`update ${j} over-started`);
              check(`after update ${j}`);
            }),
          );
          await s.waitFor(Promise.all([...calls, ...updates]));
          expect(violations).toEqual([]);
          expect(settleCounts.every((n) => n === 1)).toBe(true);
          expect(bulkhead.active).toBe(0);
          expect(bulkhead.queued).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
