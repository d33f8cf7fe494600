import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { failOnUnhandledRejection } from '../../test/support.js';
import { RateLimitExceededError } from '../errors/errors.js';
import { FakeClock } from '../testing/index.js';
import { RateLimiter } from './rate-limiter.js';

failOnUnhandledRejection();

// A limiter without maxWait runs execute() with no async frame (issue 16): it takes synchronously and hands back
// fn's own promise. Each call must still settle exactly once, with the caller's own error, and never throw.
describe('RateLimiter.execute without maxWait: no async frame (issue 16)', () => {
  const limiter = (rate = 1_000_000) => new RateLimiter({ rate, clock: new FakeClock() });

  it('resolves with what fn returns: a promise, a plain value or a thenable', async () => {
    const l = limiter();
    await expect(l.execute(async () => 1)).resolves.toBe(1);
    await expect(l.execute(() => 2)).resolves.toBe(2);
    // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test hands to execute
    const thenable = { then: (resolve: (v: number) => void) => resolve(3) };
    await expect(l.execute(() => thenable as unknown as PromiseLike<number>)).resolves.toBe(3);
  });

  it('turns a synchronous throw of fn into a rejection with that error, thousands of times', async () => {
    const l = limiter();
    const boom = new Error('boom');
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 5000; i++) {
      calls.push(
        l.execute(() => {
          throw boom;
        }),
      );
    }
    const settled = await Promise.allSettled(calls);
    expect(settled.every((s) => s.status === 'rejected' && s.reason === boom)).toBe(true);
  });

  it('rejects without calling fn when there is no token, an invalid key or an aborted signal', async () => {
    const l = limiter(1);
    let ran = 0;
    const fn = async () => ++ran;
    await expect(l.execute(fn, { key: 'a' })).resolves.toBe(1);
    await expect(l.execute(fn, { key: 'a' })).rejects.toBeInstanceOf(RateLimitExceededError);
    const bad = l.execute(fn, { key: {} as unknown as string });
    await expect(bad).rejects.toThrow(/RateLimiter: key must be a string/);
    const aborted = AbortSignal.abort(new Error('caller gave up'));
    await expect(l.execute(fn, { key: 'b', signal: aborted })).rejects.toThrow('caller gave up');
    expect(ran).toBe(1);
    // The aborted call took nothing from 'b'.
    expect(l.check('b').remaining).toBe(1);
  });

  it('never throws synchronously, even when reading the options throws', () => {
    const l = limiter();
    const options = {
      get signal(): AbortSignal {
        throw new Error('bad getter');
      },
    };
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = l.execute(async () => 1, options);
    }).not.toThrow();
    return expect(promise).rejects.toThrow('bad getter');
  });

  it('adds no listener to a shared caller signal over 100,000 calls', async () => {
    const l = limiter();
    const controller = new AbortController();
    const calls: Promise<number>[] = [];
    for (let i = 0; i < 100_000; i++) calls.push(l.execute(async () => i, { signal: controller.signal }));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const values = await Promise.all(calls);
    expect(values[99_999]).toBe(99_999);
  });

  it('rejects NaN, negative and oversized token counts with a RangeError naming them', async () => {
    const l = limiter(10);
    for (const tokens of [Number.NaN, -1, 0, 11, Number.POSITIVE_INFINITY]) {
      await expect(l.execute(async () => 1, { tokens })).rejects.toThrow(/tokens must be a finite number/);
    }
  });
});
