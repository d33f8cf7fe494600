import { describe, expect, it } from 'vitest';
import { breakerOnFakeClock, deferred, noCounts } from '../../test/support.js';
import { CircuitOpenError } from '../errors/errors.js';
import type { FakeClock } from '../testing/index.js';

class AbortedByCaller extends Error {}
class NotFound extends Error {}
const boom = new Error('boom');
const fail = (): never => {
  throw boom;
};
const ok = (): string => 'ok';

const setup = breakerOnFakeClock;

/** A call that takes `ms` on the fake clock. */
function takes(clock: FakeClock, ms: number, result: 'ok' | 'fail' = 'ok') {
  return async () => {
    await new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    if (result === 'fail') throw boom;
    return 'done';
  };
}

async function rejectsOpen(promise: Promise<unknown>): Promise<CircuitOpenError> {
  const err = await promise.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CircuitOpenError);
  return err as CircuitOpenError;
}

describe('CircuitBreaker: outcomes', () => {
  it('counts an ignored error as neither, giving its admission back', async () => {
    const { breaker } = setup({ isIgnored: (e) => e instanceof AbortedByCaller, readyToTrip: () => true });
    const aborted = new AbortedByCaller();
    await expect(breaker.execute(() => Promise.reject(aborted))).rejects.toBe(aborted);
    expect(breaker.state).toBe('closed');
    expect(breaker.counts).toEqual(noCounts);
  });

  it('frees the half-open slot of an ignored probe', async () => {
    const { breaker, clock } = setup({ isExcluded: (e) => e instanceof AbortedByCaller, readyToTrip: () => true });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await clock.advance(60_001);
    const aborted = new AbortedByCaller();
    await expect(breaker.execute(() => Promise.reject(aborted))).rejects.toBe(aborted);
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('keeps isIgnored and isExcluded both working', async () => {
    const { breaker } = setup({
      isIgnored: (e) => e instanceof AbortedByCaller,
      isExcluded: (e) => e === 'excluded',
      readyToTrip: () => true,
    });
    await expect(breaker.execute(() => Promise.reject('excluded'))).rejects.toBe('excluded');
    await expect(breaker.execute(() => Promise.reject(new AbortedByCaller()))).rejects.toThrow();
    expect(breaker.state).toBe('closed');
  });

  it('counts a thrown value as a success when isSuccessful says so (the caller still gets it)', async () => {
    const { breaker } = setup({ isSuccessful: (e) => e instanceof NotFound, readyToTrip: () => true });
    const notFound = new NotFound();
    await expect(breaker.execute(() => Promise.reject(notFound))).rejects.toBe(notFound);
    expect(breaker.state).toBe('closed');
    expect(breaker.counts.totalSuccesses).toBe(1);
  });

  it('counts a returned value as a failure with isFailureResult (the caller still gets it)', async () => {
    const response = { status: 503 };
    const { breaker } = setup<{ status: number }>({
      isFailureResult: (res) => res.status >= 500,
      readyToTrip: (c) => c.consecutiveFailures >= 2,
    });
    await expect(breaker.execute(async () => response)).resolves.toBe(response);
    expect(breaker.counts.totalFailures).toBe(1);
    await breaker.execute(async () => ({ status: 200 }));
    expect(breaker.counts.totalSuccesses).toBe(1);
    await breaker.execute(async () => response);
    await breaker.execute(async () => response);
    expect(breaker.state).toBe('open');
  });

  it('falls back to the default when a classifier throws, and still hands back the caller’s own outcome', async () => {
    const { breaker } = setup<number>({
      isIgnored: () => {
        throw new Error('classifier bug');
      },
      isFailureResult: () => {
        throw new Error('classifier bug');
      },
      readyToTrip: () => {
        throw new Error('predicate bug');
      },
    });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await expect(breaker.execute(() => 1)).resolves.toBe(1);
    expect(breaker.counts).toMatchObject({ totalFailures: 1, totalSuccesses: 1 });
    expect(breaker.state).toBe('closed');
  });
});

describe('CircuitBreaker: failure-rate and slow-call windows', () => {
  it('trips on the failure rate of a count window once it holds minimumCalls', async () => {
    const { breaker } = setup({ window: { kind: 'count', size: 4 }, failureRateThreshold: 0.5, minimumCalls: 4 });
    await breaker.execute(ok);
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('closed');
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('open');
  });

  it('replaces the default readyToTrip with the rates, and still asks an explicit one', async () => {
    const { breaker } = setup({ window: { kind: 'count', size: 100 }, failureRateThreshold: 0.9, minimumCalls: 50 });
    for (let i = 0; i < 10; i++) await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('closed');
    const explicit = setup({ window: { kind: 'count', size: 100 }, readyToTrip: (c) => c.consecutiveFailures >= 3 });
    for (let i = 0; i < 3; i++) await expect(explicit.breaker.execute(fail)).rejects.toBe(boom);
    expect(explicit.breaker.state).toBe('open');
  });

  it('forgets old calls in a time window', async () => {
    const { breaker, clock } = setup({
      window: { kind: 'time', duration: 1000, buckets: 10 },
      failureRateThreshold: 0.5,
      minimumCalls: 4,
    });
    for (let i = 0; i < 3; i++) await expect(breaker.execute(fail)).rejects.toBe(boom);
    await clock.advance(1000);
    await breaker.execute(ok);
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('open');
  });

  it('trips on the slow-call rate, even when the slow calls succeed', async () => {
    const { breaker, clock } = setup({
      window: { kind: 'count', size: 4 },
      minimumCalls: 2,
      slowCallDuration: 100,
      slowCallRateThreshold: 0.5,
    });
    const first = breaker.execute(takes(clock, 150));
    await clock.advance(150);
    await expect(first).resolves.toBe('done');
    expect(breaker.state).toBe('closed'); // one call, under minimumCalls
    const fast = breaker.execute(takes(clock, 100));
    await clock.advance(100);
    await fast;
    expect(breaker.state).toBe('closed'); // a fast success never trips, though the slow rate is 1/2
    const third = breaker.execute(takes(clock, 101));
    await clock.advance(101);
    await third;
    expect(breaker.state).toBe('open');
  });

  it('treats a slow half-open probe as a failure', async () => {
    const { breaker, clock, transitions } = setup({
      window: { kind: 'count', size: 10 },
      readyToTrip: () => true,
      slowCallDuration: 100,
      timeout: 10,
      halfOpenTimeout: 1000,
    });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await clock.advance(11);
    const probe = breaker.execute(takes(clock, 101));
    await clock.advance(101);
    await expect(probe).resolves.toBe('done');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->open']);
  });

  it('starts a fresh window after closing', async () => {
    const { breaker, clock } = setup({ window: { kind: 'count', size: 2 }, minimumCalls: 2, timeout: 10 });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('open');
    await clock.advance(11);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('closed');
  });
});

describe('CircuitBreaker: open-time backoff and half-open bound', () => {
  it('multiplies the open time per failed half-open episode, up to maxTimeout, and resets on close', async () => {
    const { breaker, clock } = setup({ readyToTrip: () => true, timeout: 100, backoffMultiplier: 2, maxTimeout: 300 });
    const openFor = async (): Promise<number | undefined> => (await rejectsOpen(breaker.execute(ok))).retryAfterMs;
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(await openFor()).toBe(100);
    for (const expected of [200, 300, 300]) {
      await clock.advance(clock.now() + 1e6);
      await expect(breaker.execute(fail)).rejects.toBe(boom);
      expect(await openFor()).toBe(expected);
    }
    await clock.advance(301);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(await openFor()).toBe(100);
  });

  it('leaves half-open when admitted probes never report, after halfOpenTimeout', async () => {
    const { breaker, clock, transitions } = setup({ readyToTrip: () => true, timeout: 100, halfOpenTimeout: 50 });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await clock.advance(101);
    const hung = deferred<string>();
    const probe = breaker.execute(() => hung.promise);
    const full = await rejectsOpen(breaker.execute(ok));
    expect(full.retryAfterMs).toBe(150);
    await clock.advance(50);
    expect(breaker.state).toBe('half-open');
    await clock.advance(1);
    expect(breaker.state).toBe('open');
    expect((await rejectsOpen(breaker.execute(ok))).retryAfterMs).toBe(99);
    await clock.advance(100);
    expect(breaker.state).toBe('half-open');
    hung.resolve('too late');
    await expect(probe).resolves.toBe('too late');
    expect(breaker.state).toBe('half-open');
    await breaker.execute(ok);
    expect(transitions).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->open',
      'open->half-open',
      'half-open->closed',
    ]);
  });

  it('does not leave half-open while a probe slot is still free', async () => {
    const { breaker, clock } = setup({ readyToTrip: () => true, timeout: 100, halfOpenTimeout: 50, maxRequests: 2 });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await clock.advance(101);
    void breaker.execute(() => new Promise(() => {}));
    await clock.advance(1000);
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });

  it('catches up several transitions at once when halfOpenTimeout is set', async () => {
    const { breaker, clock, transitions } = setup({ readyToTrip: () => true, timeout: 100, halfOpenTimeout: 100 });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await clock.advance(101);
    void breaker.execute(() => new Promise(() => {}));
    await clock.advance(500);
    expect(breaker.state).toBe('half-open');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->open', 'open->half-open']);
  });

  it('waits for its probe by default: a probe slower than the open time that succeeds closes the breaker (issue 10)', async () => {
    const { breaker, clock, transitions } = setup({ readyToTrip: () => true, timeout: 100 });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await clock.advance(101);
    const slow = deferred<string>();
    const probe = breaker.execute(() => slow.promise);
    await clock.advance(10_000);
    expect(breaker.state).toBe('half-open');
    const full = await rejectsOpen(breaker.execute(ok));
    expect(full.retryAfterMs).toBeUndefined();
    slow.resolve('slow but fine');
    await expect(probe).resolves.toBe('slow but fine');
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('stays half-open forever with halfOpenTimeout Infinity, as gobreaker does', async () => {
    const { breaker, clock } = setup({ readyToTrip: () => true, timeout: 100, halfOpenTimeout: Infinity });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await clock.advance(101);
    void breaker.execute(() => new Promise(() => {}));
    await clock.advance(1e9);
    expect(breaker.state).toBe('half-open');
    expect((await rejectsOpen(breaker.execute(ok))).retryAfterMs).toBeUndefined();
  });
});

describe('CircuitBreaker: manual control', () => {
  it('isolate() rejects every call until release()', async () => {
    const { breaker, clock, transitions } = setup();
    breaker.isolate();
    expect(breaker.mode).toBe('isolated');
    expect(breaker.state).toBe('open');
    await clock.advance(1e9);
    const err = await rejectsOpen(breaker.execute(ok));
    expect(err.retryAfterMs).toBeUndefined();
    expect(err.message).toMatch(/isolated/);
    expect(() => breaker.acquire()).toThrow(CircuitOpenError);
    breaker.isolate();
    breaker.release();
    expect(breaker.mode).toBe('auto');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(transitions).toEqual(['closed->open', 'open->closed']);
  });

  it('disable() admits every call and counts nothing until release()', async () => {
    const { breaker, clock } = setup({ readyToTrip: () => true, timeout: 10 });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    breaker.disable();
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 5; i++) await expect(breaker.execute(fail)).rejects.toBe(boom);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    breaker.acquire().failure();
    breaker.acquire().success();
    await clock.advance(100);
    expect(breaker.state).toBe('closed');
    expect(breaker.counts).toEqual(noCounts);
    breaker.disable();
    breaker.release();
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('open');
  });

  it('isolate() from half-open does not count as a failed episode', async () => {
    const { breaker, clock } = setup({ readyToTrip: () => true, timeout: 100, backoffMultiplier: 2 });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await clock.advance(101);
    expect(breaker.state).toBe('half-open');
    breaker.isolate();
    expect(breaker.toJSON()).toMatchObject({ state: 'open', mode: 'isolated', failedEpisodes: 0 });
  });
});
