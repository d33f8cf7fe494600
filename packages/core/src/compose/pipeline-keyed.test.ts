// Regression tests from an attack on the keyed chain (a pipeline with a rate-limit step): a pipeline as a step,
// and a limiter whose `execute` was replaced (a limiter of your own returning a thenable: pipeline-key.test.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bulkhead } from '../bulkhead/index.js';
import { CircuitBreaker } from '../circuit-breaker/index.js';
import type { Operation } from '../context.js';
import { Fallback } from '../fallback/index.js';
import { RateLimiter } from '../rate-limiter/rate-limiter.js';
import type { RateLimiterExecuteOptions } from '../rate-limiter/types.js';
import { Retry } from '../retry/index.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from '../timeout/index.js';
import { compose, type PipelineStage, pipeline } from './pipeline.js';

type StepKind = 'timeout' | 'retry' | 'breaker' | 'bulkhead' | 'fallback' | 'custom' | 'limiter' | 'nested';

describe('property: every rate-limit step without a fixed key spends the call’s key, wherever it sits', () => {
  it('at any position, any number of them, nested in pipelines or not; the default bucket stays full', async () => {
    const step: fc.Arbitrary<StepKind> = fc.constantFrom(
      'timeout',
      'retry',
      'breaker',
      'bulkhead',
      'fallback',
      'custom',
      'limiter',
      'nested',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 6 }),
        fc.array(fc.constantFrom('alice', 'bob', '', 'x'.repeat(500)), { minLength: 1, maxLength: 4 }),
        async (kinds, keys) => {
          const clock = new FakeClock();
          const limiters: RateLimiter[] = [];
          const limiter = (): RateLimiter => {
            const made = new RateLimiter({ clock, rate: 100 });
            limiters.push(made);
            return made;
          };
          const build = (kind: StepKind): PipelineStage => {
            switch (kind) {
              case 'timeout':
                return new Timeout({ clock, defaultTimeout: 1000 });
              case 'retry':
                return new Retry({ clock, maxAttempts: 2 });
              case 'breaker':
                return new CircuitBreaker({});
              case 'bulkhead':
                return new Bulkhead({ maxConcurrent: 1, maxQueue: 10 });
              case 'fallback':
                return new Fallback<unknown>({ fallback: () => 'fallback' });
              case 'custom':
                return { execute: (fn, options) => Promise.resolve(fn(options as never)) };
              case 'limiter':
                return limiter();
              case 'nested':
                return compose(
                  new Timeout({ clock, defaultTimeout: 1000 }),
                  limiter(),
                  new Retry({ clock, maxAttempts: 1 }),
                );
            }
          };
          const policy = compose(...kinds.map(build));
          for (const [i, key] of keys.entries()) {
            await expect(policy.execute(() => i, { key })).resolves.toBe(i);
          }
          for (const made of limiters) {
            for (const key of new Set(keys)) {
              expect(made.check(key).remaining).toBe(100 - keys.filter((k) => k === key).length);
            }
            expect(made.check().remaining).toBe(100);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('pipeline: a pipeline with a rate-limit step, as a step of another pipeline', () => {
  it('spends the call’s key wherever it sits, and whether or not the outer pipeline has a limit step', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, rate: 5 });
    const inner = pipeline().timeout({ clock, defaultTimeout: 1000 }).rateLimit(limiter).build();
    const outers = [
      compose(inner), // the only step
      compose(inner, new Timeout({ clock, defaultTimeout: 1000 })), // outermost
      compose(new Timeout({ clock, defaultTimeout: 1000 }), inner), // behind a core pattern, no limit step of its own
      compose(new Retry({ clock, maxAttempts: 1 }), inner, new Timeout({ clock, defaultTimeout: 1000 })), // middle
      compose(new Timeout({ clock, defaultTimeout: 1000 }), new RateLimiter({ clock, rate: 100 }), inner), // keyed outer
      compose(new Timeout({ clock, defaultTimeout: 1000 }), compose(new Retry({ clock, maxAttempts: 1 }), inner)), // deeper
    ];
    for (const [i, outer] of outers.entries()) {
      await expect(outer.execute(() => i, { key: `user ${i}` })).resolves.toBe(i);
      expect(limiter.check(`user ${i}`).remaining).toBe(4);
    }
    expect(limiter.check().remaining).toBe(5);
  });

  it('calls a nested pipeline’s own execute when it was replaced (a spy), as before', async () => {
    const limiter = new RateLimiter({ clock: new FakeClock(), rate: 5 });
    const inner = pipeline().rateLimit(limiter).build();
    const calls: unknown[] = [];
    const original = inner.execute.bind(inner);
    inner.execute = (fn, options) => {
      calls.push(options);
      return original(fn, options);
    };
    const outer = compose(new Timeout({ defaultTimeout: 1000 }), inner);
    await expect(outer.execute(() => 'x', { key: 'k' })).resolves.toBe('x');
    expect(calls).toHaveLength(1);
  });
});

describe('pipeline: a per-call key of null', () => {
  it('is refused by the rate-limit step, as RateLimiter.execute refuses it, instead of spending the shared bucket', async () => {
    const limiter = new RateLimiter({ clock: new FakeClock(), rate: 5 });
    const direct = await limiter.execute(() => 'x', { key: null as never }).catch((err: unknown) => err);
    expect(direct).toBeInstanceOf(TypeError);
    for (const policy of [
      compose(limiter),
      compose(new Timeout({ defaultTimeout: 1000 }), limiter),
      compose(new Timeout({ defaultTimeout: 1000 }), compose(limiter)),
    ]) {
      let ran = 0;
      const result = policy.execute(() => ++ran, { key: null as never });
      await expect(result).rejects.toThrow(
        new TypeError('RateLimiter: key must be a string (or omitted for the shared bucket), got null'),
      );
      expect(ran).toBe(0);
    }
    expect(limiter.check().remaining).toBe(5);
  });
});

describe('pipeline: an in-memory limiter whose execute was replaced', () => {
  it('is called through its execute (a subclass’s own, a spy) with the call’s key and the step’s tokens', async () => {
    const seen: (RateLimiterExecuteOptions | undefined)[] = [];
    class CountingLimiter extends RateLimiter {
      override execute<R>(fn: Operation<R>, options?: RateLimiterExecuteOptions): Promise<R> {
        seen.push(options);
        return super.execute(fn, options);
      }
    }
    const clock = new FakeClock();
    const sub = new CountingLimiter({ clock, rate: 10 });
    const spied = new RateLimiter({ clock, rate: 10 });
    const original = spied.execute.bind(spied);
    spied.execute = (fn, options) => {
      seen.push(options);
      return original(fn, options);
    };
    const policy = pipeline()
      .timeout({ clock, defaultTimeout: 1000 })
      .rateLimit(sub)
      .rateLimit(spied, { tokens: 3 })
      .build();
    await expect(policy.execute(() => 'ok', { key: 'alice' })).resolves.toBe('ok');
    expect(seen.map((options) => [options?.key, options?.tokens])).toEqual([
      ['alice', undefined],
      ['alice', 3],
    ]);
    expect(sub.check('alice').remaining).toBe(9);
    expect(spied.check('alice').remaining).toBe(7);
  });
});
