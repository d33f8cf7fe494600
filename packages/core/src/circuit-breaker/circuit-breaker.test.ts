import { describe, expect, it } from 'vitest';
import { breakerOnFakeClock, deferred, noCounts } from '../../test/support.js';
import { CircuitOpenError } from '../errors/errors.js';
import { isCircuitOpenError } from '../errors/guards.js';
import { rootContext } from '../internal/context.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { type CircuitBreakerConfig, CircuitState, type Counts } from './types.js';

const boom = new Error('boom');
const fail = (): never => {
  throw boom;
};
const ok = (): string => 'ok';

const setup = breakerOnFakeClock;

async function failTimes(breaker: CircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await expect(breaker.execute(fail)).rejects.toBe(boom);
}

async function openBreaker(config: CircuitBreakerConfig<unknown> = {}) {
  const env = setup({ readyToTrip: (c) => c.consecutiveFailures >= 1, ...config });
  await failTimes(env.breaker, 1);
  expect(env.breaker.state).toBe('open');
  return env;
}

describe('CircuitBreaker: gobreaker baseline', () => {
  it('exports the states as a constant object', () => {
    expect(CircuitState).toEqual({ Closed: 'closed', Open: 'open', HalfOpen: 'half-open' });
    expect(new CircuitBreaker().state).toBe(CircuitState.Closed);
  });

  it('passes values and errors through, sync or async, and counts them', async () => {
    const { breaker } = setup();
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    await expect(breaker.execute(async () => 7)).resolves.toBe(7);
    await expect(breaker.execute(() => Promise.reject('plain string'))).rejects.toBe('plain string');
    await expect(
      breaker.execute(() => {
        throw undefined;
      }),
    ).rejects.toBeUndefined();
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.counts).toEqual<Counts>({
      requests: 5,
      totalSuccesses: 3,
      totalFailures: 2,
      consecutiveSuccesses: 1,
      consecutiveFailures: 0,
    });
  });

  it('hands the caller context to fn (the shared root context without options)', async () => {
    const { breaker } = setup();
    await expect(breaker.execute((ctx) => ctx)).resolves.toBe(rootContext);
    const ctx = { signal: new AbortController().signal, attempt: 3, deadline: 99 };
    await expect(breaker.execute((inner) => inner, ctx)).resolves.toBe(ctx);
  });

  it('rejects at once with the reason of an aborted signal, without calling fn or counting', async () => {
    const { breaker } = setup();
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    controller.abort(reason);
    let called = false;
    const run = () => {
      called = true;
    };
    await expect(breaker.execute(run, { signal: controller.signal })).rejects.toBe(reason);
    expect(called).toBe(false);
    expect(breaker.counts.requests).toBe(0);
  });

  it('counts a request at admission, before the call ends', async () => {
    const { breaker } = setup();
    const call = deferred<number>();
    const done = breaker.execute(() => call.promise);
    expect(breaker.counts.requests).toBe(1);
    expect(breaker.counts.totalSuccesses).toBe(0);
    call.resolve(1);
    await done;
    expect(breaker.counts.totalSuccesses).toBe(1);
  });

  it('trips on the sixth failure in a row by default, never on successes', async () => {
    const { breaker, transitions } = setup();
    await failTimes(breaker, 5);
    await breaker.execute(ok);
    await failTimes(breaker, 5);
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 20; i++) await breaker.execute(ok);
    await failTimes(breaker, 6);
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual(['closed->open']);
  });

  it('asks readyToTrip after each failure with a copy of the counts', async () => {
    const seen: Counts[] = [];
    const { breaker } = setup({
      readyToTrip: (counts) => {
        seen.push(counts);
        (counts as { requests: number }).requests = 1000;
        return counts.totalFailures >= 2;
      },
    });
    await breaker.execute(ok);
    await failTimes(breaker, 1);
    expect(seen).toEqual([
      { requests: 1000, totalSuccesses: 1, totalFailures: 1, consecutiveSuccesses: 0, consecutiveFailures: 1 },
    ]);
    expect(breaker.counts.requests).toBe(2);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('rejects while open with CircuitOpenError and retryAfterMs, without calling fn or counting', async () => {
    const { breaker, clock } = await openBreaker({ timeout: 1000 });
    await clock.advance(400);
    let called = false;
    const err = await breaker
      .execute(() => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect(isCircuitOpenError(err)).toBe(true);
    expect((err as CircuitOpenError).retryAfterMs).toBe(600);
    expect(called).toBe(false);
    expect(breaker.counts).toEqual(noCounts);
  });

  it('goes half-open only strictly after the timeout, lazily (no timer)', async () => {
    const { breaker, clock, transitions } = await openBreaker({ timeout: 1000 });
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1000);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(transitions).toEqual(['closed->open']);
    expect(breaker.state).toBe('half-open');
    expect(transitions).toEqual(['closed->open', 'open->half-open']);
  });

  it('uses 60000 ms when timeout is 0 or omitted, and 1 probe when maxRequests is 0', async () => {
    const { breaker, clock } = await openBreaker({ timeout: 0, maxRequests: 0 });
    await clock.advance(60_000);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    const call = deferred<string>();
    const probe = breaker.execute(() => call.promise);
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    call.resolve('fine');
    await expect(probe).resolves.toBe('fine');
    expect(breaker.state).toBe('closed');
  });

  it('admits maxRequests probes per half-open episode (admitted, not in flight)', async () => {
    const { breaker, clock, transitions } = await openBreaker({ timeout: 10, maxRequests: 3 });
    await clock.advance(11);
    await breaker.execute(ok);
    await breaker.execute(ok);
    const third = deferred<string>();
    const pending = breaker.execute(() => third.promise);
    let calledFourth = false;
    const fourth = breaker.execute(() => {
      calledFourth = true;
    });
    await expect(fourth).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calledFourth).toBe(false);
    expect(breaker.state).toBe('half-open');
    third.resolve('x');
    await pending;
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('opens again on any failure while half-open', async () => {
    const { breaker, clock, transitions } = await openBreaker({ timeout: 10, maxRequests: 3 });
    await clock.advance(11);
    await breaker.execute(ok);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->open']);
  });

  it('ignores a result from an earlier generation: no counts, no transition, no callback', async () => {
    const { breaker, clock, transitions } = setup({ readyToTrip: (c) => c.consecutiveFailures >= 2, timeout: 10 });
    const late = deferred<never>();
    const lateCall = breaker.execute(() => late.promise);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('open');
    await clock.advance(11);
    expect(breaker.state).toBe('half-open');
    late.reject(boom);
    await expect(lateCall).rejects.toBe(boom);
    expect(breaker.state).toBe('half-open');
    expect(breaker.counts.totalFailures).toBe(0);
    expect(transitions).toEqual(['closed->open', 'open->half-open']);
  });

  it('a late success from half-open cannot close a breaker that reopened', async () => {
    const { breaker, clock } = await openBreaker({ timeout: 10, maxRequests: 2 });
    await clock.advance(11);
    const slow = deferred<string>();
    const probe = breaker.execute(() => slow.promise);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    slow.resolve('late');
    await expect(probe).resolves.toBe('late');
    expect(breaker.state).toBe('open');
  });

  it('clears the counts every interval while closed (a new generation)', async () => {
    const { breaker, clock } = setup({ interval: 100 });
    const late = deferred<number>();
    const lateCall = breaker.execute(() => late.promise);
    await failTimes(breaker, 5);
    await clock.advance(100);
    expect(breaker.counts.consecutiveFailures).toBe(5);
    await clock.advance(1);
    expect(breaker.counts).toMatchObject({ requests: 0, consecutiveFailures: 0 });
    late.resolve(1);
    await lateCall;
    expect(breaker.counts.totalSuccesses).toBe(0);
    await failTimes(breaker, 5);
    expect(breaker.state).toBe('closed');
  });

  it('never clears the counts with interval 0', async () => {
    const { breaker, clock } = setup({ interval: 0 });
    await failTimes(breaker, 5);
    await clock.advance(1e9);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('keeps working when onStateChange throws, and fires once per real transition', async () => {
    let calls = 0;
    const { breaker, clock } = await openBreaker({
      timeout: 10,
      onStateChange: () => {
        calls++;
        throw new Error('listener bug');
      },
    });
    expect(calls).toBe(1);
    await clock.advance(11);
    expect(breaker.state).toBe('half-open');
    expect(breaker.state).toBe('half-open');
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    expect(calls).toBe(3);
  });

  it('sees a consistent state from inside onStateChange', async () => {
    const seen: [string, string, number][] = [];
    const breaker: CircuitBreaker = new CircuitBreaker({
      readyToTrip: () => true,
      onStateChange: (_from, to) => seen.push([to, breaker.state, breaker.counts.requests]),
    });
    await failTimes(breaker, 1);
    expect(seen).toEqual([['open', 'open', 0]]);
  });

  it('reset() closes with fresh counts and ignores results admitted before', async () => {
    const { breaker, transitions } = await openBreaker();
    breaker.reset();
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed->open', 'open->closed']);
    const late = deferred<never>();
    const lateCall = breaker.execute(() => late.promise);
    breaker.reset();
    expect(transitions).toHaveLength(2);
    late.reject(boom);
    await expect(lateCall).rejects.toBe(boom);
    expect(breaker.counts.totalFailures).toBe(0);
  });
});
