import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { Bulkhead } from '../bulkhead/index.js';
import { CircuitBreaker } from '../circuit-breaker/index.js';
import type { ExecuteOptions, ExecutionContext, Operation } from '../context.js';
import { isResilienceError } from '../errors/guards.js';
import { Fallback } from '../fallback/index.js';
import { RateLimiter } from '../rate-limiter/index.js';
import { Retry } from '../retry/index.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from '../timeout/index.js';
import { compose, type PipelineStage } from './pipeline.js';

// A pipeline hands the core's patterns the next step and the caller's `fn` as they are
// (`internal/step.ts`) instead of a closure per call; these tests pin that it changes nothing
// a caller can see, and that an `execute` replaced or overridden is still the one called.

const work = async (ctx: ExecutionContext): Promise<number> => ctx.attempt;

describe('a pipeline of the core patterns', () => {
  it('calls an execute replaced on the instance (a spy), not the class one', async () => {
    const breaker = new CircuitBreaker();
    const retry = new Retry({ maxAttempts: 2, initialDelay: 0 });
    const spy = vi.spyOn(breaker, 'execute');
    const policy = compose(retry, breaker, new Bulkhead({ maxConcurrent: 1 }));
    await expect(policy.execute(work)).resolves.toBe(1);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('calls an execute replaced on the class after the pipeline was built (instrumentation)', async () => {
    const original = Timeout.prototype.execute;
    const seen: unknown[] = [];
    const policy = compose(new Timeout({ defaultTimeout: 1000 }), new CircuitBreaker());
    Timeout.prototype.execute = function wrapped<R>(this: Timeout, fn: Operation<R>, options?: ExecuteOptions) {
      seen.push(options);
      return original.call(this, fn, options) as Promise<R>;
    };
    try {
      await expect(policy.execute(work, { attempt: 3 })).resolves.toBe(3);
    } finally {
      Timeout.prototype.execute = original;
    }
    expect(seen).toHaveLength(1);
    await expect(policy.execute(work)).resolves.toBe(1);
    expect(seen).toHaveLength(1);
  });

  it('calls a subclass’s own execute', async () => {
    const calls: number[] = [];
    class CountingRetry extends Retry {
      override execute<R>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
        calls.push(1);
        return super.execute(fn, options);
      }
    }
    const policy = compose(new CountingRetry({ maxAttempts: 2, initialDelay: 0 }), new CircuitBreaker());
    await expect(policy.execute(work)).resolves.toBe(1);
    expect(calls).toEqual([1]);
  });

  it('retries the work through the inner steps with each attempt’s context', async () => {
    const attempts: number[] = [];
    const policy = compose(
      new Timeout({ defaultTimeout: 10_000 }),
      new Retry({ maxAttempts: 3, initialDelay: 0 }),
      new CircuitBreaker(),
      new Bulkhead({ maxConcurrent: 1 }),
    );
    const result = await policy.execute(async (ctx) => {
      attempts.push(ctx.attempt);
      expect(ctx.deadline).toBeTypeOf('number');
      if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt}`);
      return 'done';
    });
    expect(result).toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('queues in a bulkhead that is not the innermost step and runs the queued call later', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const policy = compose(bulkhead, new CircuitBreaker());
    let release: () => void = () => {};
    const first = policy.execute(() => new Promise<string>((resolve) => (release = () => resolve('first'))));
    const second = policy.execute(async () => 'second');
    expect(bulkhead.queued).toBe(1);
    release();
    await expect(first).resolves.toBe('first');
    await expect(second).resolves.toBe('second');
  });

  it('reads an execute defined as a getter once per call, as a call of execute does', async () => {
    for (const policy of [
      new Timeout({ defaultTimeout: 1000 }),
      new Retry({ maxAttempts: 2, initialDelay: 0 }),
      new CircuitBreaker(),
      new Bulkhead({ maxConcurrent: 1 }),
      new Fallback({ fallback: () => 0 }),
    ] as PipelineStage[]) {
      const original = Object.getPrototypeOf(policy).execute as PipelineStage['execute'];
      let reads = 0;
      let calls = 0;
      const wrapped = function <R>(this: PipelineStage, fn: Operation<R>, options?: ExecutionContext): Promise<R> {
        calls++;
        return original.call(this, fn, options) as Promise<R>;
      };
      const composed = compose(policy, new CircuitBreaker());
      Object.defineProperty(policy, 'execute', {
        configurable: true,
        get: () => {
          reads++;
          return wrapped;
        },
      });
      await expect(composed.execute(work)).resolves.toBe(1);
      expect([reads, calls]).toEqual([1, 1]);
    }
  });

  it('falls back from an inner step’s failure, the work’s own error reaching the fallback', async () => {
    const failure = new Error('down');
    const seen: unknown[] = [];
    const policy = compose<string>(
      new Fallback<string>({
        fallback: (err) => {
          seen.push(err);
          return 'cached';
        },
      }),
      new CircuitBreaker(),
    );
    await expect(
      policy.execute(() => {
        throw failure;
      }),
    ).resolves.toBe('cached');
    expect(seen).toEqual([failure]);
  });
});

type Kind = 'timeout' | 'retry' | 'breaker' | 'bulkhead' | 'fallback' | 'limiter' | 'custom';
type Outcome = 'value' | 'reject' | 'throw' | 'sync-value';

function build(kind: Kind): PipelineStage {
  switch (kind) {
    case 'timeout':
      return new Timeout({ defaultTimeout: 10_000 });
    case 'retry':
      return new Retry({ maxAttempts: 3, initialDelay: 0 });
    case 'breaker':
      return new CircuitBreaker({ readyToTrip: (counts) => counts.consecutiveFailures >= 2 });
    case 'bulkhead':
      return new Bulkhead({ maxConcurrent: 1, maxQueue: 10 });
    case 'fallback':
      return new Fallback<unknown>({ fallback: (err: unknown) => `fallback(${(err as Error).message})` });
    case 'limiter':
      // Never out of tokens: its step makes the pipeline carry the call's key (its other chain).
      return new RateLimiter({ rate: 1e9, interval: 1000, burst: 1e9 });
    case 'custom':
      return {
        execute: (fn, options) => Promise.resolve(fn(options ?? { signal: new AbortController().signal, attempt: 1 })),
      };
  }
}

/** The same step as a plain object: a pipeline calls its `execute` with a closure per call (the way before). */
function viaExecute(stage: PipelineStage): PipelineStage {
  return { execute: (fn, options) => stage.execute(fn, options) };
}

describe('property: a pipeline runs the core patterns as their execute does', () => {
  it('settles the same way, with the same attempts, as the same steps called through execute', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Kind>('timeout', 'retry', 'breaker', 'bulkhead', 'fallback', 'limiter', 'custom'), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.array(fc.constantFrom<Outcome>('value', 'reject', 'throw', 'sync-value'), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 3 }),
        async (kinds, outcomes, calls) => {
          const run = async (wrap: (stage: PipelineStage) => PipelineStage) => {
            const stages = kinds.map(build);
            const policy = compose(...stages.map(wrap));
            const log: string[] = [];
            let next = 0;
            const fn = (ctx: ExecutionContext): unknown => {
              const outcome = outcomes[next++ % outcomes.length] as Outcome;
              log.push(`${outcome}@${ctx.attempt}`);
              if (outcome === 'throw') throw new Error(`thrown ${next}`);
              if (outcome === 'sync-value') return `sync ${next}`;
              return outcome === 'value'
                ? Promise.resolve(`value ${next}`)
                : Promise.reject(new Error(`rejected ${next}`));
            };
            for (let i = 0; i < calls; i++) {
              const settled = await policy.execute(fn as Operation<unknown>, { key: 'user' }).then(
                (value) => `ok ${String(value)}`,
                (err: unknown) => `err ${(err as Error).name}: ${(err as Error).message}`,
              );
              log.push(settled);
            }
            const breakers = stages.filter((s): s is CircuitBreaker => s instanceof CircuitBreaker);
            return { log, breakers: breakers.map((b) => [b.state, b.counts]) };
          };
          expect(await run((stage) => stage)).toEqual(await run(viaExecute));
        },
      ),
      { numRuns: 150 },
    );
  });
});

type ConcurrentKind = 'timeout' | 'retry' | 'breaker' | 'bulkhead' | 'fallback' | 'limiter' | 'nested';

describe('property: concurrent calls through a pipeline of the core patterns (fc.scheduler)', () => {
  it('settles every call once, with its own value or error, a pattern’s error or the fallback; no bulkhead over its limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(
          fc.constantFrom<ConcurrentKind>('timeout', 'retry', 'breaker', 'bulkhead', 'fallback', 'limiter', 'nested'),
          { minLength: 1, maxLength: 5 },
        ),
        fc.array(fc.constantFrom<Outcome>('value', 'reject', 'throw', 'sync-value'), { minLength: 1, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
        async (s, kinds, outcomes, aborts) => {
          const clock = new FakeClock();
          const bulkheads: Bulkhead[] = [];
          const violations: string[] = [];
          const stages = kinds.map((kind): PipelineStage => {
            switch (kind) {
              case 'timeout':
                return new Timeout({ defaultTimeout: 60_000, clock });
              case 'retry':
                return new Retry({ maxAttempts: 2, initialDelay: 0 });
              case 'breaker':
                return new CircuitBreaker({ readyToTrip: (counts) => counts.consecutiveFailures >= 3, clock });
              case 'bulkhead': {
                const bulkhead = new Bulkhead({ maxConcurrent: 1 + (bulkheads.length % 2), maxQueue: 3, clock });
                bulkheads.push(bulkhead);
                return bulkhead;
              }
              case 'limiter':
                return new RateLimiter({ rate: 1e9, interval: 1000, burst: 1e9, clock });
              case 'nested': {
                // A pipeline as a step: its limiter spends the call's key, its bulkhead is checked like the others.
                const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 3, clock });
                bulkheads.push(bulkhead);
                return compose(new RateLimiter({ rate: 1e9, interval: 1000, burst: 1e9, clock }), bulkhead);
              }
              default:
                return new Fallback<unknown>({ fallback: () => 'fallback' });
            }
          });
          const policy = compose(...stages);
          const settled = aborts.map(() => 0);
          const calls = aborts.map((abort, i) => {
            const controller = new AbortController();
            const reason = new Error(`abort ${i}`);
            const own = new Set<unknown>([reason]);
            let attempt = 0;
            const fn = async (ctx: ExecutionContext): Promise<string> => {
              for (const bulkhead of bulkheads) {
                if (bulkhead.active > bulkhead.maxConcurrent) violations.push(`call ${i}: bulkhead over its limit`);
              }
              const outcome = outcomes[(i + attempt++) % outcomes.length] as Outcome;
              const error = new Error(`call ${i} attempt ${ctx.attempt}`);
              own.add(error);
              if (outcome === 'throw') throw error;
              if (outcome === 'sync-value') return `call ${i}`;
              await s.schedule(Promise.resolve(), `work ${i}.${ctx.attempt}`);
              if (outcome === 'reject') throw error;
              return `call ${i}`;
            };
            if (abort) void s.schedule(Promise.resolve(), `abort ${i}`).then(() => controller.abort(reason));
            return policy
              .execute(fn as Operation<unknown>, { signal: controller.signal, key: `user ${i % 2}` })
              .then(
                (value) => {
                  if (value !== `call ${i}` && value !== 'fallback') violations.push(`call ${i} got ${String(value)}`);
                },
                (err: unknown) => {
                  const cause = (err as { cause?: unknown }).cause;
                  if (own.has(err) || own.has(cause)) return;
                  if (isResilienceError(err)) return;
                  violations.push(`call ${i} failed with ${String(err)}`);
                },
              )
              .finally(() => {
                settled[i] = (settled[i] ?? 0) + 1;
              });
          });
          await s.waitFor(Promise.all(calls));
          // Work a timeout or an abort left behind still holds its slot until it ends.
          await s.waitAll();
          await new Promise((resolve) => setImmediate(resolve));
          expect(violations).toEqual([]);
          expect(settled.every((n) => n === 1)).toBe(true);
          for (const bulkhead of bulkheads) expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
