import { describe, expect, it, vi } from 'vitest';
import { deferred, failOnUnhandledRejection } from '../../test/support.js';
import { Bulkhead } from '../bulkhead/bulkhead.js';
import { Retry } from '../retry/retry.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from '../timeout/timeout.js';
import { isAbortSignal, signalHub } from './signal-hub.js';

failOnUnhandledRejection();

/** What a careless caller passes as `signal`: a plain object, a string, a number, a look-alike. */
const notSignals: unknown[] = [{}, 'x', 5, { aborted: false }];

describe('a caller signal that is not an AbortSignal', () => {
  it('is told apart from real signals', () => {
    expect(isAbortSignal(new AbortController().signal)).toBe(true);
    expect(isAbortSignal(AbortSignal.timeout(1_000))).toBe(true);
    for (const value of [...notSignals, null, undefined]) expect(isAbortSignal(value)).toBe(false);
    expect(() => signalHub({} as AbortSignal)).toThrow(
      new TypeError('options.signal must be an AbortSignal, got an object'),
    );
  });

  it('Timeout rejects with a TypeError naming it before the work starts', async () => {
    const timeout = new Timeout({ clock: new FakeClock(), defaultTimeout: 1000 });
    for (const signal of notSignals) {
      const work = vi.fn(async () => 1);
      await expect(timeout.execute(work, { signal: signal as AbortSignal })).rejects.toThrow(
        /^Timeout: options\.signal must be an AbortSignal, got /,
      );
      expect(work).not.toHaveBeenCalled();
    }
    // A null signal is no signal, as null options are no options.
    await expect(timeout.execute(async () => 2, { signal: null as unknown as AbortSignal })).resolves.toBe(2);
  });

  it('Bulkhead rejects a queued call with it and never runs that call later', async () => {
    const bulkhead = new Bulkhead({ clock: new FakeClock(), maxConcurrent: 1, maxQueue: 5 });
    const first = deferred<number>();
    const running = bulkhead.execute(() => first.promise);
    const late = vi.fn(async () => 'late');
    await expect(bulkhead.execute(late, { signal: {} as AbortSignal })).rejects.toThrow(
      new TypeError('Bulkhead: options.signal must be an AbortSignal, got an object'),
    );
    expect(bulkhead.queued).toBe(0);
    first.resolve(1);
    await expect(running).resolves.toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(late).not.toHaveBeenCalled();
    expect(bulkhead.active).toBe(0);
  });

  it('Retry ends with a TypeError naming it when it has to wait on it, not a WeakMap error', async () => {
    const retry = new Retry({ clock: new FakeClock(), maxAttempts: 3, initialDelay: 10 });
    await expect(
      retry.execute(
        () => {
          throw new Error('down');
        },
        { signal: 'x' as unknown as AbortSignal },
      ),
    ).rejects.toThrow(new TypeError('options.signal must be an AbortSignal, got "x"'));
  });
});
