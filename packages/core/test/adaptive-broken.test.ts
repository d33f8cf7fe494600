import { describe, expect, it, vi } from 'vitest';
import { AdaptiveBulkhead } from '../src/adaptive-bulkhead/adaptive-bulkhead.js';
import { AdaptiveThrottle } from '../src/adaptive-throttle/adaptive-throttle.js';
import { Chaos } from '../src/chaos/chaos.js';
import type { Clock } from '../src/clock/clock.js';
import { Hedging } from '../src/hedging/hedging.js';
import { FakeClock } from '../src/testing/index.js';
import { deferred, failOnUnhandledRejection, outcome, recordingLogger } from './support.js';

// The policies of issue 17 with a caller signal that is no AbortSignal, a clock that throws, and bad
// observability options: the same rules as every pattern (attack-core).
failOnUnhandledRejection();

/** A fake clock whose methods throw while `broken` has them. */
function brokenClock(): { clock: Clock; fake: FakeClock; broken: Set<'now' | 'setTimeout' | 'clearTimeout'> } {
  const fake = new FakeClock();
  const broken = new Set<'now' | 'setTimeout' | 'clearTimeout'>();
  const clock: Clock = {
    now: () => {
      if (broken.has('now')) throw new Error('now broke');
      return fake.now();
    },
    setTimeout: (fn, ms) => {
      if (broken.has('setTimeout')) throw new Error('setTimeout broke');
      return fake.setTimeout(fn, ms);
    },
    clearTimeout: (handle) => {
      if (broken.has('clearTimeout')) throw new Error('clearTimeout broke');
      fake.clearTimeout(handle);
    },
  };
  return { clock, fake, broken };
}

const notASignal = { aborted: 'no' } as unknown as AbortSignal;

describe('a caller signal that is no AbortSignal', () => {
  it('Hedging rejects with a TypeError naming it, before any attempt', async () => {
    const fn = vi.fn(() => 1);
    await expect(new Hedging({ delay: 10 }).execute(fn, { signal: notASignal })).rejects.toThrow(
      /^Hedging: options.signal must be an AbortSignal, got an object$/,
    );
    expect(fn).not.toHaveBeenCalled();
  });

  it('AdaptiveBulkhead rejects a call that would queue, and never runs it later', async () => {
    const bulkhead = new AdaptiveBulkhead({ initialLimit: 1, maxLimit: 1, maxQueue: 5 });
    const gate = deferred();
    const head = bulkhead.execute(() => gate.promise);
    const fn = vi.fn(() => 2);
    await expect(bulkhead.execute(fn, { signal: notASignal })).rejects.toThrow(/AdaptiveBulkhead: options.signal/);
    expect(bulkhead.queued).toBe(0);
    gate.resolve();
    await head;
    expect(fn).not.toHaveBeenCalled();
  });

  it('Chaos rejects an injected latency at once and leaves no timer', async () => {
    const fake = new FakeClock();
    const chaos = new Chaos({ rate: 1, latency: 100, enabled: true, clock: fake });
    await expect(chaos.execute(() => 1, { signal: notASignal })).rejects.toThrow(/Chaos: options.signal/);
    expect(fake.pendingTimers).toBe(0);
  });
});

describe('a clock that throws', () => {
  it('Hedging: a clock that cannot arm or tell the time leaves calls unhedged, with their own outcomes', async () => {
    const { clock, broken } = brokenClock();
    const logger = recordingLogger();
    const hedging = new Hedging({ delay: 10, clock, logger });
    broken.add('setTimeout');
    await expect(hedging.execute(() => Promise.resolve(1))).resolves.toBe(1);
    broken.clear();
    broken.add('now');
    await expect(hedging.execute(() => Promise.reject(new Error('own')))).rejects.toThrow('own');
    const hedged = new Hedging({ delay: 10, hedgeOnFailure: true, maxHedges: 2, clock, logger });
    let n = 0;
    await expect(hedged.execute(() => (++n === 1 ? Promise.reject(new Error('first')) : 2))).resolves.toBe(2);
    expect(logger.records.map((r) => r.msg)).toEqual(
      expect.arrayContaining(['clock.setTimeout threw', 'clock.now threw']),
    );
  });

  it('Hedging: a clearTimeout that throws keeps the value', async () => {
    const { clock, broken } = brokenClock();
    const hedging = new Hedging({ delay: 10, clock });
    broken.add('clearTimeout');
    await expect(hedging.execute(() => Promise.resolve('kept'))).resolves.toBe('kept');
  });

  it('AdaptiveBulkhead: a clock.now that throws leaks no slot and keeps the outcome', async () => {
    const { clock, broken } = brokenClock();
    const bulkhead = new AdaptiveBulkhead({ initialLimit: 1, maxLimit: 1, clock });
    broken.add('now');
    await expect(bulkhead.execute(() => 'kept')).resolves.toBe('kept');
    await expect(bulkhead.execute(() => Promise.reject(new Error('own')))).rejects.toThrow('own');
    expect(bulkhead.active).toBe(0);
    expect(bulkhead.limit).toBe(1);
  });

  it('AdaptiveBulkhead: a queue timer the clock cannot arm rejects that call, which never runs later', async () => {
    const { clock, broken, fake } = brokenClock();
    const bulkhead = new AdaptiveBulkhead({ initialLimit: 1, maxLimit: 1, maxQueue: 5, queueTimeout: 100, clock });
    const gate = deferred();
    const head = bulkhead.execute(() => gate.promise);
    broken.add('setTimeout');
    const fn = vi.fn(() => 2);
    await expect(bulkhead.execute(fn)).rejects.toThrow('setTimeout broke');
    expect(bulkhead.queued).toBe(0);
    broken.clear();
    const next = bulkhead.execute(() => 3);
    broken.add('clearTimeout');
    gate.resolve();
    await head;
    await expect(next).resolves.toBe(3);
    expect(fn).not.toHaveBeenCalled();
    broken.clear();
    await fake.advance(200);
    expect(bulkhead.active).toBe(0);
  });

  it('AdaptiveThrottle: a clock that breaks after the call started keeps its value', async () => {
    const { clock, broken } = brokenClock();
    const throttle = new AdaptiveThrottle({ clock });
    const value = throttle.execute(async () => {
      broken.add('now');
      return 'kept';
    });
    await expect(value).resolves.toBe('kept');
    broken.clear();
    expect(throttle.requests).toBe(1);
  });

  it("Chaos: a setTimeout that throws rejects that call; a clearTimeout that throws on the caller's abort does not escape", async () => {
    const { clock, broken, fake } = brokenClock();
    const chaos = new Chaos({ rate: 1, latency: 50, enabled: true, clock });
    broken.add('setTimeout');
    await expect(chaos.execute(() => 1)).rejects.toThrow('setTimeout broke');
    broken.clear();
    const controller = new AbortController();
    const call = outcome(chaos.execute(() => 1, { signal: controller.signal }));
    broken.add('clearTimeout');
    const reason = new Error('stop');
    controller.abort(reason);
    expect((await call).error).toBe(reason);
    broken.clear();
    await fake.advance(50);
  });
});

describe('observability options', () => {
  it('are checked at construction, naming the policy', () => {
    expect(() => new Hedging({ delay: 1, logger: {} as never })).toThrow(/^Hedging: logger must have debug\(\)/);
    expect(() => new AdaptiveBulkhead({ tracer: {} as never })).toThrow(/^AdaptiveBulkhead: tracer must be/);
    expect(() => new AdaptiveThrottle({ name: 7 as never })).toThrow(/^AdaptiveThrottle: name must be a string/);
    expect(() => new Chaos({ rate: 1, fault: 1, metrics: 'x' as never })).toThrow(/^Chaos: metrics must be/);
  });
});
