import { describe, expect, it } from 'vitest';
import { outcome } from '../../test/support.js';
import { isRateLimitExceededError } from '../errors/guards.js';
import { RateLimiter } from '../rate-limiter/rate-limiter.js';
import type { RateLimiterLike } from '../rate-limiter/types.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from '../timeout/index.js';
import { compose, pipeline } from './pipeline.js';

describe('pipeline: a per-call key (issue 10, item 17)', () => {
  it('reaches every rate-limit step added without a fixed key, wherever it sits', async () => {
    const clock = new FakeClock();
    const perUser = new RateLimiter({ clock, rate: 1 });
    const inner = new RateLimiter({ clock, rate: 2 });
    const service = new RateLimiter({ clock, rate: 100 });
    const policy = pipeline()
      .rateLimit(perUser) // outermost
      .timeout({ clock, defaultTimeout: 1000 })
      .retry({ clock, maxAttempts: 1 })
      .rateLimit(inner) // inside, behind a Timeout's lazy context
      .rateLimit(service, { key: 'payments' }) // a fixed key wins
      .build();
    await expect(policy.execute(() => 'a', { key: 'alice' })).resolves.toBe('a');
    await expect(policy.execute(() => 'b', { key: 'bob' })).resolves.toBe('b');
    const again = await outcome(policy.execute(() => 'a2', { key: 'alice' }));
    expect(isRateLimitExceededError(again.error)).toBe(true);
    expect(perUser.check('alice').remaining).toBe(0);
    expect(perUser.check('bob').remaining).toBe(0);
    expect(perUser.check().remaining).toBe(1);
    expect(inner.check('alice').remaining).toBe(1);
    expect(inner.check('bob').remaining).toBe(1);
    expect(inner.check().remaining).toBe(2);
    expect(service.check('payments').remaining).toBe(98);
    expect(service.check('alice').remaining).toBe(100);
  });

  it('spends the default bucket when no key is given', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, rate: 3 });
    const policy = pipeline().retry({ clock, maxAttempts: 1 }).rateLimit(limiter).build();
    await policy.execute(() => 1);
    expect(limiter.check().remaining).toBe(2);
  });

  it('reaches a limiter passed to compose() and a distributed limiter, passing the signal on', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, rate: 5 });
    const seen: (string | undefined)[] = [];
    const distributed: RateLimiterLike = {
      rate: 1,
      burst: 1,
      interval: 1000,
      allow: () => true,
      take: () => true,
      consume: () => ({ allowed: true, limit: 1, remaining: 0, resetMs: 0, retryAfterMs: 0 }),
      check: () => ({ allowed: true, limit: 1, remaining: 0, resetMs: 0, retryAfterMs: 0 }),
      wait: () => Promise.resolve(),
      execute: (fn, options) => {
        seen.push(options?.key);
        return Promise.resolve(fn({ signal: options?.signal as AbortSignal, attempt: options?.attempt ?? 1 }));
      },
    };
    const policy = compose(new RateLimiter({ clock, rate: 9 }), limiter, distributed);
    const controller = new AbortController();
    let signal: AbortSignal | undefined;
    await policy.execute(
      (ctx) => {
        signal = ctx.signal;
        return 1;
      },
      { key: 'carol', signal: controller.signal },
    );
    expect(limiter.check('carol').remaining).toBe(4);
    expect(seen).toEqual(['carol']);
    expect(signal).toBe(controller.signal);
  });
});

describe('pipeline: a rate-limit step run on its own', () => {
  it('spends its fixed key when its execute is called directly, and rejects hostile options instead of throwing', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, rate: 3 });
    const policy = pipeline().rateLimit(limiter, { key: 'svc', tokens: 2 }).build();
    const stage = policy.stages[0] as { execute(fn: () => unknown, options?: unknown): Promise<unknown> };
    await expect(stage.execute(() => 'x')).resolves.toBe('x');
    expect(limiter.check('svc').remaining).toBe(1);
    const hostile = Object.defineProperty({}, 'signal', {
      get() {
        throw new Error('signal getter');
      },
    });
    const distributed = pipeline()
      .rateLimit({ ...limiterLike(), execute: () => Promise.resolve('never') } as RateLimiterLike, { key: 'k' })
      .build();
    const distributedStage = distributed.stages[0] as typeof stage;
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = distributedStage.execute(() => 'x', hostile);
    }).not.toThrow();
    await expect(result).rejects.toThrow('signal getter');
  });
});

function limiterLike(): RateLimiterLike {
  const report = { allowed: true, limit: 1, remaining: 0, resetMs: 0, retryAfterMs: 0 };
  return {
    rate: 1,
    burst: 1,
    interval: 1000,
    allow: () => true,
    take: () => true,
    consume: () => report,
    check: () => report,
    wait: () => Promise.resolve(),
    execute: (fn) => Promise.resolve(fn({ signal: new AbortController().signal, attempt: 1 })),
  };
}

describe('pipeline: a step of your own that throws synchronously', () => {
  it('makes execute reject, never throw', async () => {
    const policy = pipeline()
      .use({
        execute: () => {
          throw new Error('my policy broke');
        },
      })
      .use(new RateLimiter({ rate: 1 }))
      .build();
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = policy.execute(() => 1);
    }).not.toThrow();
    await expect(result).rejects.toThrow('my policy broke');
  });
});

describe('pipeline: a rate-limit step checks its options when it is added', () => {
  it('refuses an unknown option, a key that is not a string, bad tokens and a null limiter, at once', () => {
    const limiter = new RateLimiter({ rate: 1 });
    expect(() => pipeline().rateLimit(limiter, { kee: 'x' } as never)).toThrow(
      new TypeError('pipeline: rateLimit(): unknown option "kee" (known options: key, tokens)'),
    );
    expect(() => pipeline().rateLimit(limiter, { cost: 2 } as never)).toThrow('unknown option "cost" (use "tokens")');
    expect(() => pipeline().rateLimit(limiter, { key: {} as never })).toThrow(
      new TypeError('pipeline: rateLimit(): key must be a string, got an object'),
    );
    for (const tokens of [-1, 0, Number.NaN, Number.POSITIVE_INFINITY, '2']) {
      expect(() => pipeline().rateLimit(limiter, { tokens: tokens as number })).toThrow(
        /^pipeline: rateLimit\(\): tokens must be a finite number > 0, got /,
      );
    }
    expect(() => pipeline().rateLimit(null as never)).toThrow(
      new TypeError('RateLimiter: config must be an object, got null'),
    );
    expect(() => pipeline().rateLimit(limiter, null as never)).toThrow(
      'pipeline: rateLimit(): options must be an object',
    );
    expect(() => pipeline().rateLimit(limiter, { key: 'svc', tokens: 1 }).build()).not.toThrow();
  });
});

describe('pipeline: a limiter of your own that returns a thenable or a plain value', () => {
  const base = (execute: RateLimiterLike['execute']): RateLimiterLike => ({ ...limiterLike(), execute });

  it('still makes execute return a promise, as the only step or the outermost one', async () => {
    const thenable = base(
      (fn, options) =>
        ({
          // biome-ignore lint/suspicious/noThenProperty: the point of the test is a hand-made thenable
          then(resolve: (value: unknown) => void, reject: (err: unknown) => void) {
            Promise.resolve(fn({ signal: options?.signal as AbortSignal, attempt: 1 })).then(resolve, reject);
          },
        }) as never,
    );
    const plain = base(() => 'plain value' as never);
    for (const policy of [
      compose(thenable),
      compose(thenable, new Timeout({ defaultTimeout: 1000 })),
      pipeline().rateLimit(thenable, { key: 'svc' }).build(),
    ]) {
      const result = policy.execute(() => 'from fn', { key: 'k' });
      expect(result).toBeInstanceOf(Promise);
      await expect(result).resolves.toBe('from fn');
    }
    const result = compose(plain).execute(() => 'from fn', { key: 'k' });
    expect(result).toBeInstanceOf(Promise);
    await expect(result).resolves.toBe('plain value');
  });
});
