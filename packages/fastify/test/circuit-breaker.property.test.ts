import { Timeout } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import fc from 'fast-check';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { type CircuitBreakerLike, circuitBreaker, routeHooks, timeout } from '../src/index.js';

type Outcome = 'ok' | 'status500' | 'status404' | 'throw';

const statusOf: Record<Outcome, number> = { ok: 200, status500: 500, status404: 404, throw: 500 };

describe('circuitBreaker under any interleaving', () => {
  it('reports every admitted request exactly once, as a failure exactly when its answer was a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.constantFrom<Outcome>('ok', 'status500', 'status404', 'throw'), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 0, max: 3 }),
        async (s, outcomes, ticks) => {
          const reports: string[][] = [];
          const breaker: CircuitBreakerLike = {
            acquire: () => {
              const mine: string[] = [];
              reports.push(mine);
              return {
                success: () => mine.push('success'),
                failure: () => mine.push('failure'),
                ignore: () => mine.push('ignore'),
              };
            },
          };
          // Time moves only when the scheduler runs one of the clock ticks: any request may run out of it.
          const clock = new FakeClock();
          const clockTicks: Promise<void>[] = [];
          const app = Fastify();
          const hooks = routeHooks(circuitBreaker(breaker), timeout(new Timeout({ defaultTimeout: 5, clock })));
          app.get('/:i', { ...hooks }, async (request, reply) => {
            const i = Number((request.params as { i: string }).i);
            // The first handlers each add a clock tick, released in any order with the handlers' ends; a handler
            // whose tick came first ends only once that time has passed (and every request in flight timed out).
            let passed: Promise<void> = Promise.resolve();
            if (i < ticks) {
              clockTicks.push(
                s.schedule(Promise.resolve(i), `tick ${i}`).then(() => {
                  passed = clock.advance(10);
                  return passed;
                }),
              );
            }
            await s.schedule(Promise.resolve(i), `handler ${i}`);
            await passed;
            const outcome = outcomes[i] as Outcome;
            if (outcome === 'throw') throw new Error('boom');
            if (outcome !== 'ok') return reply.code(statusOf[outcome]).send('answer');
            return 'ok';
          });
          await app.ready();
          const answers = outcomes.map((_, i) =>
            s.schedule(Promise.resolve(i), `request ${i}`).then(() => app.inject(`/${i}`)),
          );
          await s.waitFor(Promise.all(answers));
          await Promise.all(clockTicks);
          const statuses = (await Promise.all(answers)).map((res) => res.statusCode);
          await app.close();
          expect(reports).toHaveLength(outcomes.length);
          for (const mine of reports) expect(mine).toHaveLength(1);
          const failures = reports.filter((mine) => mine[0] === 'failure').length;
          expect(failures).toBe(statuses.filter((status) => status >= 500).length);
          statuses.forEach((status, i) => {
            expect([statusOf[outcomes[i] as Outcome], 503]).toContain(status);
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
