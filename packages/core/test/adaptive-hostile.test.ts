import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdaptiveBulkhead } from '../src/adaptive-bulkhead/adaptive-bulkhead.js';
import { AdaptiveThrottle } from '../src/adaptive-throttle/adaptive-throttle.js';
import { Chaos } from '../src/chaos/chaos.js';
import { isCircuitOpenError } from '../src/errors/guards.js';
import { Hedging } from '../src/hedging/hedging.js';
import { FakeClock } from '../src/testing/index.js';
import { failOnUnhandledRejection, outcome } from './support.js';

// The policies of issue 17 under the abuse a hostile user brings: one signal shared by 100,000 calls,
// thousands of synchronous throws, hooks that reject, absurd numbers.
failOnUnhandledRejection();

const warnings: Error[] = [];
const onWarning = (warning: Error): void => {
  warnings.push(warning);
};
beforeEach(() => {
  warnings.length = 0;
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
  expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
});

const N = 100_000;

describe('one caller signal shared by 100,000 calls', () => {
  it('Hedging: one listener on the signal; the abort rejects every call with its reason and aborts every attempt', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging({ delay: 1_000, clock });
    const controller = new AbortController();
    let aborted = 0;
    const calls = Array.from({ length: N }, () =>
      outcome(
        hedging.execute(
          ({ signal }) =>
            new Promise((_, reject) =>
              signal.addEventListener('abort', () => {
                aborted++;
                reject(signal.reason);
              }),
            ),
          { signal: controller.signal },
        ),
      ),
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('caller gone');
    controller.abort(reason);
    const results = await Promise.all(calls);
    expect(results.every((r) => r.error === reason)).toBe(true);
    expect(aborted).toBe(N);
    expect(clock.pendingTimers).toBe(0);
  });

  it('AdaptiveBulkhead: 100,000 queued calls leave the queue on one abort', async () => {
    const bulkhead = new AdaptiveBulkhead({ initialLimit: 1, maxLimit: 1, maxQueue: Number.POSITIVE_INFINITY });
    const controller = new AbortController();
    let release = (): void => {};
    const head = bulkhead.execute(() => new Promise<void>((resolve) => (release = resolve)));
    const calls = Array.from({ length: N }, () => outcome(bulkhead.execute(() => 1, { signal: controller.signal })));
    expect(bulkhead.queued).toBe(N);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('gone');
    controller.abort(reason);
    const results = await Promise.all(calls);
    expect(results.every((r) => r.error === reason)).toBe(true);
    expect(bulkhead.queued).toBe(0);
    release();
    await head;
    expect(bulkhead.active).toBe(0);
  });

  it('Chaos: 100,000 injected latencies end on one abort, leaving no timer', async () => {
    const clock = new FakeClock();
    const chaos = new Chaos({ rate: 1, latency: 10_000, enabled: true, clock });
    const controller = new AbortController();
    const calls = Array.from({ length: N }, () => outcome(chaos.execute(() => 1, { signal: controller.signal })));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('gone');
    controller.abort(reason);
    const results = await Promise.all(calls);
    expect(results.every((r) => r.error === reason)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('synchronous throws by the thousand', () => {
  it('Hedging with hedgeOnFailure and 100 hedges: every attempt throws synchronously, every call rejects once', async () => {
    const hedging = new Hedging({ delay: 5, maxHedges: 100, hedgeOnFailure: true, clock: new FakeClock() });
    let attempts = 0;
    const calls = Array.from({ length: 1_000 }, (_, i) =>
      outcome(
        hedging.execute(({ attempt }) => {
          attempts++;
          throw new Error(`call ${i} attempt ${attempt}`);
        }),
      ),
    );
    const results = await Promise.all(calls);
    expect(results.every((r, i) => (r.error as Error).message === `call ${i} attempt 101`)).toBe(true);
    expect(attempts).toBe(1_000 * 101);
  });

  it('AdaptiveThrottle: 5,000 synchronous throws, then it sheds locally and never throws itself', async () => {
    const throttle = new AdaptiveThrottle({ clock: new FakeClock(), random: () => 0.5 });
    const results = await Promise.all(
      Array.from({ length: 5_000 }, () =>
        outcome(
          throttle.execute(() => {
            throw new Error('sync');
          }),
        ),
      ),
    );
    expect(results.every((r) => (r.error as Error).message === 'sync' || isCircuitOpenError(r.error))).toBe(true);
    expect(results.some((r) => isCircuitOpenError(r.error))).toBe(true);
    expect(throttle.rejectionProbability).toBeLessThanOrEqual(0.9);
  });
});

describe('hooks that reject and absurd numbers', () => {
  it('async hooks that reject are caught, never unhandled', async () => {
    const reject = async (): Promise<void> => {
      throw new Error('hook');
    };
    const bulkhead = new AdaptiveBulkhead({
      algorithm: 'aimd',
      initialLimit: 2,
      onLimitChange: reject,
      onRejected: reject,
    });
    await outcome(bulkhead.execute(() => Promise.reject(new Error('x'))));
    const throttle = new AdaptiveThrottle({ k: 1, random: () => 0, onRejected: reject });
    await outcome(throttle.execute(() => Promise.reject(new Error('x'))));
    await outcome(throttle.execute(() => 1));
    const chaos = new Chaos({ rate: 1, result: 1, enabled: true, onInject: reject });
    await chaos.execute(() => 2);
    const hedging = new Hedging({ delay: 0, clock: new FakeClock(), onHedge: reject });
    const clock = new FakeClock();
    const h2 = new Hedging({ delay: 1, clock, onHedge: reject });
    const call = h2.execute(() => new Promise((resolve) => clock.setTimeout(() => resolve(1), 5)));
    await clock.advance(5);
    await expect(call).resolves.toBe(1);
    expect(hedging.delay).toBe(0);
  });

  it('huge windows, delays and queue timeouts work; NaN and negatives are refused by name', async () => {
    const clock = new FakeClock();
    const throttle = new AdaptiveThrottle({ window: 1e15, clock });
    await throttle.execute(() => 1);
    await clock.advance(1e14);
    expect(throttle.requests).toBe(1);
    const bulkhead = new AdaptiveBulkhead({ initialLimit: 1, maxQueue: 1, queueTimeout: 1e12, clock });
    let release = (): void => {};
    const head = bulkhead.execute(() => new Promise<void>((resolve) => (release = resolve)));
    const queued = outcome(bulkhead.execute(() => 2));
    await clock.advance(2 ** 31);
    expect(bulkhead.queued).toBe(1); // a capped timer step expired nobody early
    release();
    await head;
    expect((await queued).value).toBe(2);
    expect(clock.pendingTimers).toBe(0);
    expect(() => new AdaptiveBulkhead({ queueTimeout: Number.NaN })).toThrow(/queueTimeout.*NaN/);
    expect(() => new AdaptiveBulkhead({ maxQueue: -1 })).toThrow(/maxQueue.*-1/);
    expect(() => new AdaptiveThrottle({ window: -5 })).toThrow(/window.*-5/);
    expect(() => new Hedging({ delay: 10, maxHedges: Number.POSITIVE_INFINITY })).toThrow(/maxHedges/);
    expect(() => new Chaos({ rate: -0.1, fault: 1 })).toThrow(/rate.*-0.1/);
  });
});
