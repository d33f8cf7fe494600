import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PolicyRegistry } from './registry.js';

/** A value for a positive option: usually valid, sometimes not. */
const maybeValid = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 50 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, Number.NaN, 1.5, 'ten', null) },
);

describe('PolicyRegistry.configure, property', () => {
  it('applies all of a config or none of it', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record(
            {
              bulkhead: maybeValid,
              rate: maybeValid,
              attempts: maybeValid,
            },
            { requiredKeys: [] },
          ),
          { minLength: 1, maxLength: 6 },
        ),
        (configs) => {
          const policies = new PolicyRegistry();
          const bulkhead = policies.bulkhead('db', { maxConcurrent: 5 });
          const limiter = policies.rateLimiter('api', { rate: 5 });
          const retry = policies.retry('calls', { maxAttempts: 5 });
          const read = () => [bulkhead.maxConcurrent, limiter.rate, retry.maxAttempts];
          for (const c of configs) {
            const before = read();
            const config = {
              bulkhead: { db: c.bulkhead === undefined ? {} : { maxConcurrent: c.bulkhead } },
              rateLimiter: { api: c.rate === undefined ? {} : { rate: c.rate } },
              retry: { calls: c.attempts === undefined ? {} : { maxAttempts: c.attempts } },
            };
            let threw = false;
            try {
              policies.configure(config as never);
            } catch {
              threw = true;
            }
            const whole = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 1);
            const positive = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isFinite(v) && v > 0);
            const allValid = whole(c.bulkhead) && positive(c.rate) && whole(c.attempts);
            expect(threw).toBe(!allValid);
            expect(read()).toEqual(threw ? before : [c.bulkhead ?? 5, c.rate ?? 5, c.attempts ?? 5]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('applies all of a config or none of it, over the adaptive kinds too', () => {
    const rate = fc.oneof(
      { weight: 4, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
      { weight: 1, arbitrary: fc.constantFrom(-0.1, 1.5, Number.NaN, 'half', null) },
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record(
            { maxLimit: maybeValid, k: maybeValid, maxHedges: maybeValid, rate, defaultK: maybeValid },
            { requiredKeys: [] },
          ),
          { minLength: 1, maxLength: 6 },
        ),
        (configs) => {
          const policies = new PolicyRegistry();
          const bulkhead = policies.adaptiveBulkhead('db', { maxLimit: 40 });
          const throttle = policies.adaptiveThrottle('api', { k: 3 });
          const hedging = policies.hedging('prices', { delay: 10, maxHedges: 2 });
          const chaos = policies.chaos('faults', { rate: 0.5, latency: 1 });
          const read = () => [bulkhead.maxLimit, bulkhead.limit, throttle.k, hedging.maxHedges, chaos.rate];
          for (const c of configs) {
            const before = read();
            const config = {
              defaults: c.defaultK === undefined ? {} : { adaptiveThrottle: { k: c.defaultK } },
              adaptiveBulkhead: { db: c.maxLimit === undefined ? {} : { maxLimit: c.maxLimit } },
              adaptiveThrottle: { api: c.k === undefined ? {} : { k: c.k } },
              hedging: { prices: c.maxHedges === undefined ? {} : { maxHedges: c.maxHedges } },
              chaos: { faults: c.rate === undefined ? {} : { rate: c.rate } },
            };
            let threw = false;
            try {
              policies.configure(config as never);
            } catch {
              threw = true;
            }
            const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
            const whole = (v: unknown, min: number, max = Number.POSITIVE_INFINITY) =>
              v === undefined || (isNumber(v) && Number.isInteger(v) && v >= min && v <= max);
            const atLeastOne = (v: unknown) => v === undefined || (isNumber(v) && v >= 1);
            const share = (v: unknown) => v === undefined || (isNumber(v) && v >= 0 && v <= 1);
            const allValid =
              whole(c.maxLimit, 1) && // the default initialLimit (20) is clamped under it
              atLeastOne(c.k) &&
              atLeastOne(c.defaultK) &&
              whole(c.maxHedges, 0, 100) &&
              share(c.rate);
            expect(threw).toBe(!allValid);
            if (threw) {
              expect(read()).toEqual(before);
            } else {
              const maxLimit = (c.maxLimit ?? 40) as number;
              expect(read()).toEqual([
                maxLimit,
                Math.min(before[1] as number, maxLimit),
                c.k ?? 3,
                c.maxHedges ?? 2,
                c.rate ?? 0.5,
              ]);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
