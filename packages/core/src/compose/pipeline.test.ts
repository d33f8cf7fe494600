import { describe, expect, it, vi } from 'vitest';
import { Bulkhead } from '../bulkhead/index.js';
import { CircuitBreaker } from '../circuit-breaker/index.js';
import type { ExecuteOptions, ExecutionContext, Operation } from '../context.js';
import { BulkheadFullError, MaxAttemptsReachedError, RateLimitExceededError, TimeoutError } from '../errors/errors.js';
import { isCircuitOpenError } from '../errors/guards.js';
import { Fallback } from '../fallback/index.js';
import { RateLimiter, type RateLimiterExecuteOptions } from '../rate-limiter/index.js';
import { Retry } from '../retry/index.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from '../timeout/index.js';
import { asMiddleware, chain } from './middleware.js';
import { compose, Pipeline, type PipelineStage, pipeline } from './pipeline.js';

/** A policy that logs its entry and exit and hands the work a context of its own. */
function tagged(log: string[], name: string): PipelineStage & { seen: (ExecuteOptions | undefined)[] } {
  const seen: (ExecuteOptions | undefined)[] = [];
  return {
    seen,
    async execute<R>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
      seen.push(options);
      log.push(`${name}:in`);
      try {
        return await fn({
          signal: options?.signal ?? new AbortController().signal,
          attempt: (options?.attempt ?? 0) + 1,
          deadline: options?.deadline,
        });
      } finally {
        log.push(`${name}:out`);
      }
    },
  };
}

describe('compose', () => {
  it('runs the first policy outermost and hands each context to the next as options', async () => {
    const log: string[] = [];
    const [a, b, c] = [tagged(log, 'a'), tagged(log, 'b'), tagged(log, 'c')];
    const composed = compose(a, b, c);
    const signal = new AbortController().signal;
    const seenByWork: ExecutionContext[] = [];
    const result = await composed.execute(
      (ctx) => {
        log.push('work');
        seenByWork.push(ctx);
        return 'done';
      },
      { signal, attempt: 1, deadline: 500 },
    );
    expect(result).toBe('done');
    expect(log).toEqual(['a:in', 'b:in', 'c:in', 'work', 'c:out', 'b:out', 'a:out']);
    expect(a.seen[0]).toEqual({ signal, attempt: 1, deadline: 500 });
    expect(b.seen[0]).toEqual({ signal, attempt: 2, deadline: 500 });
    expect(c.seen[0]).toEqual({ signal, attempt: 3, deadline: 500 });
    expect(seenByWork[0]).toEqual({ signal, attempt: 4, deadline: 500 });
    expect(composed.stages).toEqual([a, b, c]);
    expect(Object.isFrozen(composed.stages)).toBe(true);
  });

  it('with no policy runs the work itself, with the same failure semantics as a pattern', async () => {
    const empty = compose();
    await expect(empty.execute((ctx) => ctx.attempt)).resolves.toBe(1);
    await expect(
      empty.execute(() => {
        throw 'a string';
      }),
    ).rejects.toBe('a string');
    const reason = new Error('cancelled');
    const fn = vi.fn();
    await expect(empty.execute(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it('is a policy itself: it nests and works as a middleware', async () => {
    const log: string[] = [];
    const inner = compose(tagged(log, 'b'));
    const outer = compose(tagged(log, 'a'), inner);
    const handler = chain(asMiddleware<string>(outer))(async () => 'x');
    await expect(handler({ signal: new AbortController().signal, attempt: 1 })).resolves.toBe('x');
    expect(log).toEqual(['a:in', 'b:in', 'b:out', 'a:out']);
  });

  it('refuses what is not a policy', () => {
    expect(() => compose({} as PipelineStage)).toThrow('pipeline: compose() needs a policy with an execute method');
    expect(() => new Pipeline([null as unknown as PipelineStage])).toThrow(TypeError);
    expect(() => pipeline().use({ execute: 1 } as unknown as PipelineStage)).toThrow('pipeline: use() needs a policy');
  });

  it('names the step and the value it refuses, without offering a config object where none is taken', () => {
    // Regression: every refusal read "needs a policy with an execute method or a config object", also for a config
    // passed to compose() (which takes no configs), with neither the value nor its place.
    expect(() => compose({ maxAttempts: 3 } as unknown as PipelineStage)).toThrow(
      'pipeline: compose() needs a policy with an execute method as step 1, got an object',
    );
    expect(() => compose(new Retry(), undefined as unknown as PipelineStage)).toThrow(
      'pipeline: compose() needs a policy with an execute method as step 2, got undefined',
    );
    expect(() => pipeline().use(5 as unknown as PipelineStage)).toThrow(
      'pipeline: use() needs a policy with an execute method, got 5',
    );
    expect(() => pipeline().use(pipeline() as unknown as PipelineStage)).toThrow(
      'pipeline: use() needs a policy with an execute method, got a PipelineBuilder (call its build() first)',
    );
    expect(() => new Pipeline(5 as unknown as PipelineStage[])).toThrow(
      'pipeline: new Pipeline() needs an array of policies, got 5',
    );
  });
});

describe('pipeline()', () => {
  it('builds the recommended order from configs and numbers, and works end to end', async () => {
    const clock = new FakeClock();
    const resilient = pipeline<string>()
      .timeout({ defaultTimeout: 10_000, clock })
      .retry({ maxAttempts: 3, initialDelay: 100, jitter: false, clock })
      .circuitBreaker({ clock })
      .timeout({ defaultTimeout: 50, clock })
      .bulkhead({ maxConcurrent: 2 })
      .build();
    expect(resilient.stages.map((s) => s.constructor.name)).toEqual([
      'Timeout',
      'Retry',
      'CircuitBreaker',
      'Timeout',
      'Bulkhead',
    ]);
    const attempts: ExecutionContext[] = [];
    const call = resilient.execute(async (ctx) => {
      attempts.push(ctx);
      if (ctx.attempt < 3)
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      return `ok on attempt ${ctx.attempt}`;
    });
    await clock.runAll();
    await expect(call).resolves.toBe('ok on attempt 3');
    expect(attempts.map((ctx) => ctx.attempt)).toEqual([1, 2, 3]);
    // Each attempt ran under the per-attempt timeout's deadline, inside the overall one.
    expect(attempts.every((ctx) => ctx.deadline !== undefined && ctx.deadline <= 10_000)).toBe(true);
    expect(attempts[0]?.deadline).toBe(50);
  });

  it('reports the last failure when every attempt timed out, and a fallback can replace it', async () => {
    const clock = new FakeClock();
    const hang = (ctx: ExecutionContext) =>
      new Promise<string>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    const plain = pipeline<string>()
      .retry({ maxAttempts: 2, initialDelay: 10, jitter: false, clock })
      .timeout({ defaultTimeout: 20, clock })
      .build();
    const failed = plain.execute(hang).catch((err: unknown) => err);
    await clock.runAll();
    const err = await failed;
    expect(err).toBeInstanceOf(MaxAttemptsReachedError);
    expect((err as MaxAttemptsReachedError).cause).toBeInstanceOf(TimeoutError);

    const withFallback = pipeline<string>()
      .fallback({ fallback: (e: unknown) => `fallback after ${(e as Error).name}` })
      .retry({ maxAttempts: 2, initialDelay: 10, jitter: false, clock })
      .timeout({ defaultTimeout: 20, clock })
      .build();
    const replaced = withFallback.execute(hang);
    await clock.runAll();
    await expect(replaced).resolves.toBe('fallback after MaxAttemptsReachedError');
  });

  it('takes a number as a timeout in ms on the system clock', async () => {
    const quick = pipeline<string>().timeout(5).build();
    const err = await quick
      .execute(
        (ctx) =>
          new Promise<string>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).timeoutMs).toBe(5);
  });

  it('uses given instances as they are, state included', async () => {
    const breaker = new CircuitBreaker({ readyToTrip: (counts) => counts.consecutiveFailures >= 1 });
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const retry = new Retry({ maxAttempts: 1 });
    const timeout = new Timeout({ defaultTimeout: 1000 });
    const fallback = new Fallback({ fallback: 'spare' });
    const built = pipeline()
      .fallback(fallback)
      .timeout(timeout)
      .retry(retry)
      .circuitBreaker(breaker)
      .bulkhead(bulkhead)
      .build();
    expect(built.stages).toEqual([fallback, timeout, retry, breaker, bulkhead]);
    const direct = pipeline().circuitBreaker(breaker).build();
    await expect(direct.execute(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    // The breaker shared with the first pipeline is open now.
    await expect(built.execute(() => 'never runs')).resolves.toBe('spare');
    const openErr = await direct.execute(() => 'x').catch((e: unknown) => e);
    expect(isCircuitOpenError(openErr)).toBe(true);
  });

  it('spends a rate limit per call, on a fixed key and token count when given', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 3, clock });
    const perService = pipeline().rateLimit(limiter, { key: 'payments', tokens: 2 }).build();
    const signal = new AbortController().signal;
    await expect(perService.execute((ctx) => ctx.signal === signal, { signal, attempt: 1 })).resolves.toBe(true);
    expect(limiter.check('payments').remaining).toBe(1);
    await expect(perService.execute(() => 'x')).rejects.toBeInstanceOf(RateLimitExceededError);
    expect(limiter.check().remaining).toBe(3);

    const shared = pipeline().rateLimit({ rate: 1, clock }).build();
    await expect(shared.execute(() => 1)).resolves.toBe(1);
    await expect(shared.execute(() => 2)).rejects.toBeInstanceOf(RateLimitExceededError);

    const seen: RateLimiterExecuteOptions[] = [];
    const distributed = {
      rate: 1,
      burst: 1,
      interval: 1000,
      allow: async () => true,
      take: async () => true,
      consume: async () => ({ allowed: true, limit: 1, remaining: 0, resetMs: 0, retryAfterMs: 0 }),
      check: async () => ({ allowed: true, limit: 1, remaining: 1, resetMs: 0, retryAfterMs: 0 }),
      wait: async () => {},
      execute: async <R>(fn: Operation<R>, options?: RateLimiterExecuteOptions): Promise<R> => {
        seen.push(options ?? {});
        return fn({ signal: options?.signal ?? signal, attempt: options?.attempt ?? 1 });
      },
    };
    await expect(
      pipeline()
        .rateLimit(distributed, { tokens: 5 })
        .build()
        .execute(() => 'remote'),
    ).resolves.toBe('remote');
    expect(seen[0]).toMatchObject({ attempt: 1, key: undefined, tokens: 5 });
    expect(pipeline().rateLimit(distributed).build().stages[0]).toBe(distributed);
  });

  it('rejects with the bulkhead error when the pipeline is full', async () => {
    const built = pipeline().bulkhead({ maxConcurrent: 1 }).build();
    let release!: () => void;
    const first = built.execute(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(built.execute(() => 'second')).rejects.toBeInstanceOf(BulkheadFullError);
    release();
    await first;
  });

  it('takes a snapshot at build(): later additions do not change a built pipeline', () => {
    const builder = pipeline().bulkhead({ maxConcurrent: 1 });
    const first = builder.build();
    builder.timeout(100);
    expect(first.stages).toHaveLength(1);
    expect(builder.build().stages).toHaveLength(2);
  });
});
