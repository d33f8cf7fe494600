import { Bulkhead } from '@resilience/core';
import fc from 'fast-check';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bulkhead, timeout } from '../src/index.js';

describe('bulkhead middleware under any interleaving', () => {
  it('never runs more than maxConcurrent handlers, answers every request once, and frees every slot', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        async (s, maxConcurrent, maxQueue, throws) => {
          const bh = new Bulkhead({ maxConcurrent, maxQueue });
          const app = new Hono();
          app.onError((_err, c) => c.text('error', 500));
          let running = 0;
          let most = 0;
          app.get('/:i', timeout(60_000), bulkhead(bh), async (c) => {
            running++;
            most = Math.max(most, running);
            const i = Number(c.req.param('i'));
            try {
              // The scheduler decides when each handler finishes, in any order.
              await s.schedule(Promise.resolve(i), `handler ${i}`);
              if (throws[i]) throw new Error(`handler ${i} failed`);
              return c.text(`ok ${i}`);
            } finally {
              running--;
            }
          });
          const answers = throws.map((_, i) =>
            s.schedule(Promise.resolve(i), `request ${i}`).then(() => app.request(`/${i}`)),
          );
          await s.waitFor(Promise.all(answers));
          const statuses = (await Promise.all(answers)).map((res) => res.status);
          expect(most).toBeLessThanOrEqual(maxConcurrent);
          expect(statuses.every((status) => status === 200 || status === 500 || status === 503)).toBe(true);
          const admitted = statuses.filter((status) => status !== 503).length;
          expect(admitted).toBeGreaterThanOrEqual(Math.min(throws.length, maxConcurrent));
          expect(bh.active + bh.queued).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
