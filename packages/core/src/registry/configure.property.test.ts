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
});
