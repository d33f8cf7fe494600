import { describe, expect, it, vi } from 'vitest';
import { failOnUnhandledRejection } from '../../test/support.js';
import { RateLimiter } from '../rate-limiter/rate-limiter.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from './timeout.js';

failOnUnhandledRejection();

// The prologue of every pattern is enter()'s (internal/context.ts): the RateLimiter calls it, the Timeout writes
// the same checks out (see its #start). These pin the order of the checks (the work, the signal's type, an aborted
// signal, then the pattern's own options), which neither may change.
describe('Timeout: the prologue, in order', () => {
  it('a work that is no function wins over an aborted signal and a bad timeout', async () => {
    const timeout = new Timeout();
    await expect(timeout.execute(42 as never, { signal: AbortSignal.abort('gone'), timeout: -1 })).rejects.toThrow(
      'Timeout: execute needs a function, got 42',
    );
  });

  it('a signal that is no AbortSignal is a TypeError naming it, before the work runs, whatever it claims', async () => {
    const timeout = new Timeout();
    const fn = vi.fn(async () => 1);
    const fake = { aborted: true, reason: 'fake' };
    await expect(timeout.execute(fn, { signal: fake as never })).rejects.toThrow(
      /^Timeout: options\.signal must be an AbortSignal, got/,
    );
    expect(fn).not.toHaveBeenCalled();
  });

  it('an aborted signal rejects with its reason, before a bad timeout and before a deadline that has passed (no timeout counted)', async () => {
    const clock = new FakeClock({ now: 1_000 });
    const onTimeout = vi.fn();
    const timeout = new Timeout({ clock, onTimeout });
    const fn = vi.fn(async () => 1);
    const signal = AbortSignal.abort('gone');
    await expect(timeout.execute(fn, { signal, timeout: -1 })).rejects.toBe('gone');
    await expect(timeout.execute(fn, { signal, deadline: 500 })).rejects.toBe('gone');
    expect(fn).not.toHaveBeenCalled();
    expect(onTimeout).not.toHaveBeenCalled();
    // Without the aborted signal, the same options fail on their own terms.
    await expect(timeout.execute(fn, { timeout: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(timeout.execute(fn, { deadline: 500 })).rejects.toThrow('No time left to start the operation');
    expect(onTimeout).toHaveBeenCalledTimes(1);
  });

  it("an outer Timeout's context passed as options: attempt, deadline and an abort reach the inner one", async () => {
    const clock = new FakeClock({ now: 0 });
    const outer = new Timeout({ clock, defaultTimeout: 100 });
    const inner = new Timeout({ clock, defaultTimeout: 1_000 });
    const seen: unknown[] = [];
    let innerSignal: AbortSignal | undefined;
    const result = outer.execute((ctx) =>
      inner.execute((innerCtx) => {
        seen.push(innerCtx.attempt, innerCtx.deadline);
        innerSignal = innerCtx.signal;
        return new Promise(() => {});
      }, ctx),
    );
    const settled = expect(result).rejects.toThrow(/timed out/i);
    await clock.advance(100);
    await settled;
    expect(seen).toEqual([1, 100]);
    expect(innerSignal?.aborted).toBe(true);
  });

  it('null options are no options; a null signal is no signal', async () => {
    const timeout = new Timeout();
    await expect(timeout.execute(async () => 1, null as never)).resolves.toBe(1);
    await expect(timeout.execute(async () => 2, { signal: null as never, attempt: 3 })).resolves.toBe(2);
  });
});

describe('RateLimiter.execute: the prologue, in order', () => {
  for (const maxWait of [0, 1_000]) {
    it(`maxWait ${maxWait}: no function, then an aborted signal, then the tokens; a refused call takes nothing`, async () => {
      const limiter = new RateLimiter({ rate: 1, interval: 1_000, maxWait, clock: new FakeClock() });
      const signal = AbortSignal.abort('gone');
      await expect(limiter.execute(42 as never, { signal, tokens: -1 })).rejects.toThrow(
        'RateLimiter: execute needs a function, got 42',
      );
      const fn = vi.fn(async () => 1);
      await expect(limiter.execute(fn, { signal, tokens: -1 })).rejects.toBe('gone');
      await expect(limiter.execute(fn, { tokens: -1 })).rejects.toBeInstanceOf(RangeError);
      expect(fn).not.toHaveBeenCalled();
      // Nothing was taken by the refused calls: the one token is still there.
      expect(limiter.check().remaining).toBe(1);
      await expect(limiter.execute(fn)).resolves.toBe(1);
    });
  }
});
