import { isTimeoutError, RateLimiter } from '@resilience/core';
import { describe, expect, it } from 'vitest';
import { answerWithin, isDecision, rateLimitSettings, requestCost, skipsRequest } from './rate-limit-settings.js';
import { isThenable } from './sync.js';

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

describe('answerWithin', () => {
  it("resolves with the limiter's answer and clears its timer", async () => {
    const before = activeTimers();
    await expect(answerWithin('rateLimit', Promise.resolve(42), 10_000)).resolves.toBe(42);
    expect(activeTimers()).toBe(before);
  });

  it("rejects with the limiter's error, and with a TimeoutError naming limiterTimeout when it hangs", async () => {
    await expect(answerWithin('rateLimit', Promise.reject(new Error('down')), 10_000)).rejects.toThrow('down');
    const late = answerWithin('rateLimit', new Promise(() => {}), 5);
    await expect(late).rejects.toSatisfy(isTimeoutError);
    await expect(late).rejects.toThrow('rateLimit: the limiter did not answer within 5 ms (limiterTimeout)');
  });

  it('turns a thenable whose then() throws into a rejection', async () => {
    const hostile = {
      // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is the point of the test
      then() {
        throw new Error('then exploded');
      },
    };
    await expect(answerWithin('rateLimit', hostile, 1000)).rejects.toThrow('then exploded');
  });
});

describe('decisions', () => {
  it('accepts a decision and refuses anything else', () => {
    const limiter = new RateLimiter({ rate: 1 });
    expect(isDecision(limiter.consume('k', 1), true)).toBe(true);
    expect(isDecision({ allowed: true }, false)).toBe(true);
    expect(isDecision({ allowed: true }, true)).toBe(false);
    expect(isDecision({ allowed: false }, false)).toBe(false);
    expect(isDecision({ allowed: 'yes' }, false)).toBe(false);
    expect(isDecision(null, false)).toBe(false);
    expect(isDecision({ allowed: true, limit: Number.NaN, remaining: 0, resetMs: 0 }, true)).toBe(false);
    expect(isThenable(Promise.resolve())).toBe(true);
    // biome-ignore lint/suspicious/noThenProperty: a `then` that is not a function is the point of the check
    expect(isThenable({ then: 1 })).toBe(false);
  });
});

describe('rateLimitSettings', () => {
  const limiter = new RateLimiter({ rate: 2, interval: 1000 });
  it('normalises the options once', () => {
    const settings = rateLimitSettings('rateLimit', limiter, { standardHeaders: 'draft-8', policyName: 'api' });
    expect(settings.headers.policy).toBe('"api";q=2;w=1');
    expect(settings.cost).toBe(1);
    expect(settings.ipv6Subnet).toBe(56);
    expect(settings.failMode).toBe('open');
    expect(settings.limiterTimeout).toBe(1000);
    expect(settings.limited.statusCode).toBe(429);
    expect(settings.unavailable.statusCode).toBe(503);
  });

  it('refuses bad options, naming the owner, the option and the value', () => {
    expect(() => rateLimitSettings('rl', limiter, { cost: -1 })).toThrow(
      'rl: cost must be a finite number > 0 or a function, got -1',
    );
    expect(() => rateLimitSettings('rl', limiter, { limiterTimeout: 2 ** 31 })).toThrow('limiterTimeout');
    expect(() => rateLimitSettings('rl', limiter, { policyName: 'caf\u00e9' })).toThrow(
      'rl: policyName must be a string of printable ASCII',
    );
    expect(() => rateLimitSettings('rl', { consume: () => ({}) } as never, undefined)).toThrow(
      'rl: limiter.rate must be a finite number > 0 to write rate-limit headers, got undefined',
    );
    expect(() => rateLimitSettings('rl', limiter, null as never)).toThrow('rl: options must be an object, got null');
  });
});

describe('skipsRequest and requestCost, the first steps of every rate-limited request', () => {
  it('skip: false without a predicate, its verdict as a boolean, a promise refused', () => {
    expect(skipsRequest('rateLimit', 'skip(req)', undefined, {})).toBe(false);
    expect(skipsRequest('rateLimit', 'skip(req)', () => 'yes', {})).toBe(true);
    expect(skipsRequest('rateLimit', 'skip(req)', () => 0, {})).toBe(false);
    expect(() => skipsRequest('rateLimit', 'skip(req)', async () => true, {})).toThrow(
      'rateLimit: skip(req) returned a promise; it must answer synchronously (it runs on every request)',
    );
    const thrown = new Error('mine');
    expect(() =>
      skipsRequest(
        'rateLimit',
        'skip(req)',
        () => {
          throw thrown;
        },
        {},
      ),
    ).toThrow(thrown);
  });

  it('cost: the number as it is, a function’s answer when it is a finite number > 0, a RangeError otherwise', () => {
    expect(requestCost('rateLimit', 'cost(req)', 3, {})).toBe(3);
    expect(requestCost('rateLimit', 'cost(c)', (req: { n: number }) => req.n, { n: 2.5 })).toBe(2.5);
    for (const [bad, shown] of [
      [0, '0'],
      [-1, '-1'],
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      ['1', '"1"'],
      [undefined, 'undefined'],
    ] as const) {
      expect(() => requestCost('rateLimit', 'cost(c)', () => bad as never, {})).toThrow(
        new RangeError(`rateLimit: cost(c) must return a finite number > 0, got ${shown}`),
      );
    }
    expect(() => requestCost('rateLimit', 'cost(req)', (async () => 1) as never, {})).toThrow(
      /^rateLimit: cost\(req\) returned a promise/,
    );
  });
});
