import { describe, expect, it } from 'vitest';
import { failOnUnhandledRejection, outcome, recordingLogger } from '../../test/support.js';
import type { Operation } from '../context.js';
import { RateLimitExceededError } from '../errors/errors.js';
import { FakeClock } from '../testing/index.js';
import { RateLimiter } from './rate-limiter.js';
import type { RateLimiterConfig, RateLimitWaitOptions } from './types.js';

failOnUnhandledRejection();

describe('RateLimiter: a rate below 1 (issue 10, item 11)', () => {
  it('defaults burst to max(1, rate), so rate 0.5 admits one call every two seconds', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, rate: 0.5 });
    expect(limiter.burst).toBe(1);
    expect(limiter.allow()).toBe(true);
    expect(limiter.allow()).toBe(false);
    await clock.advance(1999);
    expect(limiter.allow()).toBe(false);
    await clock.advance(1);
    expect(limiter.allow()).toBe(true);
    await expect(limiter.execute(() => 'later')).rejects.toBeInstanceOf(RateLimitExceededError);
  });

  it('keeps burst = rate for rates of 1 and more, and still refuses an explicit burst below 1', () => {
    expect(new RateLimiter({ rate: 7 }).burst).toBe(7);
    expect(() => new RateLimiter({ rate: 0.5, burst: 0.5 })).toThrow(/RateLimiter: burst must be a finite number >= 1/);
    expect(() => new RateLimiter({ rate: 0.5, algorithm: 'sliding-window' })).toThrow(
      /rate must be >= 1 with the sliding-window algorithm/,
    );
  });
});

describe('RateLimiter: per-call numbers of wait (issue 10, item 11)', () => {
  it.each<[RateLimitWaitOptions, RegExp]>([
    [{ maxWait: Number.NaN }, /RateLimiter: maxWait must be a number >= 0 \(or Infinity\), got NaN/],
    [{ maxWait: -1 }, /RateLimiter: maxWait must be .*, got -1/],
    [{ maxWait: '100' as never }, /RateLimiter: maxWait must be .*, got "100"/],
    [{ deadline: Number.NaN }, /RateLimiter: deadline must be a finite number \(an absolute clock time\), got NaN/],
    [{ deadline: Number.POSITIVE_INFINITY }, /RateLimiter: deadline must be .*, got Infinity/],
    [{ tokens: Number.NaN }, /RateLimiter: tokens must be a finite number > 0 and <= 1 \(the limit\), got NaN/],
    [{ tokens: '1' as never }, /RateLimiter: tokens must be .*, got "1"/],
  ])('rejects %o with a RangeError naming the field', async (options, message) => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, rate: 1 });
    limiter.allow(); // empty: a wait would queue
    const result = await outcome(limiter.wait(undefined, options));
    expect(result.error).toBeInstanceOf(RangeError);
    expect((result.error as Error).message).toMatch(message);
    expect(clock.pendingTimers).toBe(0);
  });

  it('never reads NaN as "wait forever": maxWait NaN with tokens available still refuses', async () => {
    const limiter = new RateLimiter({ clock: new FakeClock(), rate: 5 });
    await expect(limiter.wait('k', { maxWait: Number.NaN })).rejects.toBeInstanceOf(RangeError);
    expect(limiter.check('k').remaining).toBe(5);
  });

  it('rejects a bad per-call tokens of execute with a RangeError, running nothing', async () => {
    const limiter = new RateLimiter({ clock: new FakeClock(), rate: 5 });
    let ran = false;
    const result = await outcome(
      limiter.execute(
        () => {
          ran = true;
        },
        { tokens: Number.NaN },
      ),
    );
    expect(result.error).toBeInstanceOf(RangeError);
    expect(ran).toBe(false);
  });
});

describe('RateLimiter: an onLimit hook that uses the limiter (issue 10, item 11)', () => {
  it('evicting the refused key inside onLimit does not make execute throw a TypeError', async () => {
    const clock = new FakeClock();
    let n = 0;
    const limiter: RateLimiter = new RateLimiter({
      clock,
      rate: 1,
      maxKeys: 1,
      onLimit: () => {
        limiter.allow(`other-${n++}`); // a new key evicts the refused one (maxKeys 1)
      },
    });
    expect(limiter.allow('user')).toBe(true);
    const result = await outcome(limiter.execute(() => 'x', { key: 'user' }));
    expect(result.error).toBeInstanceOf(RateLimitExceededError);
    expect((result.error as RateLimitExceededError).retryAfterMs).toBe(1000);
  });

  it('an onLimit that asks the same limiter again is not called recursively (no stack overflow)', () => {
    let calls = 0;
    const limiter: RateLimiter = new RateLimiter({
      rate: 1,
      onLimit: (key) => {
        calls++;
        limiter.allow(key); // refused again, inside the hook
      },
    });
    limiter.allow('k');
    expect(limiter.allow('k')).toBe(false);
    expect(calls).toBe(1);
    expect(limiter.allow('k')).toBe(false);
    expect(calls).toBe(2);
  });

  it('consume reports the state before the hook ran', () => {
    const clock = new FakeClock();
    const limiter: RateLimiter = new RateLimiter({
      clock,
      rate: 2,
      maxKeys: 1,
      onLimit: () => {
        limiter.allow('someone-else');
      },
    });
    limiter.take('user', 2);
    expect(limiter.consume('user')).toEqual({
      allowed: false,
      limit: 2,
      remaining: 0,
      resetMs: 1000,
      retryAfterMs: 500,
    });
  });

  it('an async onLimit that rejects is logged, not an unhandled rejection', async () => {
    const logger = recordingLogger();
    const limiter = new RateLimiter({
      clock: new FakeClock(),
      rate: 1,
      logger,
      onLimit: async () => {
        throw new Error('hook down');
      },
    });
    limiter.allow();
    expect(limiter.allow()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(logger.records.map((r) => r.msg)).toContain('onLimit rejected');
  });
});

describe('RateLimiter: contract edges (issue 10, items 14 and 16)', () => {
  it.each([null, undefined, 1, 'fn'])(
    'rejects execute(%s) with a TypeError, never a synchronous throw',
    async (bad) => {
      const limiter = new RateLimiter({ rate: 5 });
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = limiter.execute(bad as unknown as Operation<unknown>);
      }).not.toThrow();
      await expect(promise).rejects.toThrow(/RateLimiter: execute needs a function/);
      expect(limiter.check().remaining).toBe(5);
    },
  );

  it('treats null options of execute and wait as none', async () => {
    const limiter = new RateLimiter({ rate: 5 });
    await expect(limiter.execute(() => 1, null as never)).resolves.toBe(1);
    await expect(limiter.wait(undefined, null as never)).resolves.toBeUndefined();
  });

  it.each([
    [{ rate: 1, points: 5 }, /RateLimiter: unknown option "points" \(rate-limiter-flexible's points is "rate" here\)/],
    [{ rate: 1, windowMs: 1000 }, /express-rate-limit's windowMs is "interval" here/],
    [{ rate: 1, brust: 5 }, /RateLimiter: unknown option "brust" \(known options: rate, interval, burst/],
  ])('refuses unknown option %o', (config, message) => {
    expect(() => new RateLimiter(config as RateLimiterConfig)).toThrow(TypeError);
    expect(() => new RateLimiter(config as RateLimiterConfig)).toThrow(message);
  });
});
