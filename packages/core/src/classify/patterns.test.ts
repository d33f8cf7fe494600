import { describe, expect, it } from 'vitest';
import { failOnUnhandledRejection, outcome, recordingLogger } from '../../test/support.js';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import { pipeline } from '../compose/pipeline.js';
import { CircuitOpenError } from '../errors/errors.js';
import { retryable } from '../errors/retryable.js';
import { Fallback } from '../fallback/fallback.js';
import { Hedging } from '../hedging/hedging.js';
import { PolicyRegistry } from '../registry/registry.js';
import { Retry } from '../retry/retry.js';
import { FakeClock } from '../testing/index.js';
import { handle, handleAll, handleResult, handleWhen } from './index.js';

failOnUnhandledRejection();

class NetworkError extends Error {}
class NotFoundError extends Error {}

interface Res {
  readonly status: number;
}
const ok: Res = { status: 200 };
const unavailable: Res = { status: 503 };
const reset = (): Error => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

/** The one value every pattern below is given. */
const transient = handle(NetworkError)
  .orWhen((err) => (err as { code?: unknown }).code === 'ECONNRESET')
  .orResult((res: Res) => res.status >= 500);

/** A breaker on a fake clock that trips after two failures in a row. */
function breaker(config: ConstructorParameters<typeof CircuitBreaker<Res>>[0] = {}): CircuitBreaker<Res> {
  return new CircuitBreaker<Res>({
    clock: new FakeClock(),
    readyToTrip: (counts) => counts.consecutiveFailures >= 2,
    ...config,
  });
}

/** Runs `retry` over `outcomes` (one per attempt: a value, or an error to throw); returns the calls and the outcome. */
async function runRetry(retry: Retry<Res>, clock: FakeClock, outcomes: unknown[]) {
  let calls = 0;
  const done = outcome(
    retry.execute(() => {
      const next = outcomes[Math.min(calls, outcomes.length - 1)];
      calls++;
      if (next instanceof Error || typeof next === 'string') throw next;
      return next as Res;
    }),
  );
  await clock.runAll();
  return { calls, ...(await done) };
}

describe('one classifier shared by every pattern', () => {
  it('the circuit breaker counts handled errors and results as failures and the rest as successes', async () => {
    const cb = breaker({ handle: transient });
    await cb.execute(async () => ok);
    expect(cb.counts.totalSuccesses).toBe(1);
    await expect(cb.execute(() => Promise.reject(new NotFoundError()))).rejects.toBeInstanceOf(NotFoundError);
    expect(cb.counts).toMatchObject({ totalSuccesses: 2, totalFailures: 0 });
    await expect(cb.execute(async () => unavailable)).resolves.toBe(unavailable);
    expect(cb.counts.totalFailures).toBe(1);
    await expect(cb.execute(() => Promise.reject(reset()))).rejects.toThrow('socket hang up');
    expect(cb.state).toBe('open');
    // The two-step API classifies with it too.
    const other = breaker({ handle: transient });
    other.acquire().failure(new NotFoundError());
    other.acquire().failure(new NetworkError());
    expect(other.counts).toMatchObject({ totalSuccesses: 1, totalFailures: 1 });
  });

  it('the breaker still asks isIgnored first: an ignored error counts as neither', async () => {
    const cb = breaker({ handle: transient, isIgnored: (err) => err instanceof NetworkError });
    await expect(cb.execute(() => Promise.reject(new NetworkError()))).rejects.toBeInstanceOf(NetworkError);
    expect(cb.counts).toMatchObject({ requests: 0, totalSuccesses: 0, totalFailures: 0 });
  });

  it('the retry retries handled errors and results, and rethrows the rest at once', async () => {
    const clock = new FakeClock();
    const retry = new Retry<Res>({ clock, handle: transient, maxAttempts: 3, initialDelay: 10 });
    expect(await runRetry(retry, clock, [reset(), new NetworkError(), ok])).toMatchObject({ calls: 3, value: ok });
    expect(await runRetry(retry, clock, [unavailable, ok])).toMatchObject({ calls: 2, value: ok });
    // When no retry is left, the last handled value is returned as it is.
    expect(await runRetry(retry, clock, [unavailable])).toMatchObject({ calls: 3, value: unavailable });
    const notFound = new NotFoundError();
    expect(await runRetry(retry, clock, [notFound, ok])).toMatchObject({ calls: 1, error: notFound });
    // retryable() marks are retried, as with the older options.
    expect(await runRetry(retry, clock, [retryable(notFound), ok])).toMatchObject({ calls: 2, value: ok });
  });

  it('the fallback replaces handled errors and handled results, and lets the rest through', async () => {
    const seen: unknown[] = [];
    const fallback = new Fallback<Res>({
      handle: transient,
      fallback: (failure) => {
        seen.push(failure);
        return { status: 299 };
      },
    });
    await expect(fallback.execute(() => Promise.reject(new NetworkError()))).resolves.toEqual({ status: 299 });
    await expect(fallback.execute(async () => unavailable)).resolves.toEqual({ status: 299 });
    await expect(fallback.execute(async () => ok)).resolves.toBe(ok);
    await expect(fallback.execute(() => Promise.reject(new NotFoundError()))).rejects.toBeInstanceOf(NotFoundError);
    expect(seen).toEqual([expect.any(NetworkError), unavailable]);
  });

  it('the fallback never replaces a handled result once the caller has aborted', async () => {
    const controller = new AbortController();
    const fallback = new Fallback<Res>({ handle: transient, fallback: ok });
    const value = await fallback.execute(
      async () => {
        controller.abort();
        return unavailable;
      },
      { signal: controller.signal },
    );
    expect(value).toBe(unavailable);
  });

  it('hedging hedges past handled outcomes and ends the call at once on an unhandled error', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging<Res>({ clock, delay: 100, maxHedges: 2, hedgeOnFailure: true, handle: transient });
    // A 503 and a reset are hedged past; the third attempt's success wins.
    let calls = 0;
    const answers = [unavailable, reset(), ok];
    const value = await hedging.execute(async () => {
      const answer = answers[calls++];
      if (answer instanceof Error) throw answer;
      return answer as Res;
    });
    expect({ calls, value }).toEqual({ calls: 3, value: ok });

    // An unhandled error is the answer: the call rejects with it and the other attempts are aborted.
    const signals: AbortSignal[] = [];
    const notFound = new NotFoundError();
    const slow = hedging.execute(({ signal, attempt }) => {
      signals.push(signal);
      if (attempt === 1) return new Promise<Res>(() => {});
      return Promise.reject(notFound);
    });
    const settled = outcome(slow);
    await clock.advance(100);
    expect(await settled).toEqual({ error: notFound });
    expect(signals).toHaveLength(2);
    expect(signals[0]?.aborted).toBe(true);
    expect(String(signals[0]?.reason)).toMatch(/failed with an error that ends the call/);
    expect(clock.pendingTimers).toBe(0);
  });

  it('hedging settles with the last outcome when every attempt ends in a handled one', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging<Res>({ clock, delay: 10, maxHedges: 1, hedgeOnFailure: true, handle: transient });
    await expect(hedging.execute(async () => unavailable)).resolves.toBe(unavailable);
    let calls = 0;
    const last = new NetworkError('last');
    await expect(
      hedging.execute(async () => {
        calls++;
        if (calls === 1) return unavailable;
        throw last;
      }),
    ).rejects.toBe(last);
    // Without handle, nothing changes: every error is hedged past and a returned value wins.
    const plain = new Hedging<Res>({ clock, delay: 10, maxHedges: 1, hedgeOnFailure: true });
    await expect(plain.execute(async () => unavailable)).resolves.toBe(unavailable);
  });

  it('hedging: update() changes handle for new calls, and an error that ends the call is a failure event', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging<Res>({ clock, delay: 10, maxHedges: 1, hedgeOnFailure: true });
    const failures: unknown[] = [];
    hedging.on('failure', ({ error }) => failures.push(error));
    let calls = 0;
    const notFoundThenOk = async (): Promise<Res> => {
      calls++;
      if (calls % 2 === 1) throw new NotFoundError(`nf ${calls}`);
      return ok;
    };
    await expect(hedging.execute(notFoundThenOk)).resolves.toBe(ok); // every error is hedged past
    hedging.update({ handle: transient });
    await expect(hedging.execute(notFoundThenOk)).rejects.toThrow('nf 3'); // a NotFoundError now ends the call
    expect(failures).toEqual([expect.any(NotFoundError)]);
    expect(() => hedging.update({ handle: (() => true) as never })).toThrow(/^Hedging: handle must be a classifier/);
    hedging.update({ handle: undefined });
    await expect(hedging.execute(notFoundThenOk)).resolves.toBe(ok);
  });

  it('a result-only classifier handles no thrown value, in every pattern', async () => {
    const only = handleResult((res: Res) => res.status === 503);
    const cb = breaker({ handle: only });
    await expect(cb.execute(() => Promise.reject(new NetworkError()))).rejects.toBeInstanceOf(NetworkError);
    expect(cb.counts).toMatchObject({ totalSuccesses: 1, totalFailures: 0 });
    const clock = new FakeClock();
    const retry = new Retry<Res>({ clock, handle: only, initialDelay: 1 });
    expect(await runRetry(retry, clock, [new NetworkError(), ok])).toMatchObject({ calls: 1 });
    expect(await runRetry(retry, clock, [unavailable, ok])).toMatchObject({ calls: 2, value: ok });
    const fallback = new Fallback<Res>({ handle: only, fallback: ok });
    await expect(fallback.execute(() => Promise.reject(new NetworkError()))).rejects.toBeInstanceOf(NetworkError);
    const hedging = new Hedging<Res>({ clock, delay: 10, hedgeOnFailure: true, handle: only });
    await expect(hedging.execute(() => Promise.reject(new NetworkError('final')))).rejects.toThrow('final');
  });

  it('handleAll retries into an open breaker unless told not to', async () => {
    const clock = new FakeClock();
    const open = new CircuitOpenError({ retryAfterMs: 5 });
    const all = new Retry<Res>({ clock, handle: handleAll(), initialDelay: 1 });
    expect(await runRetry(all, clock, [open, ok])).toMatchObject({ calls: 2, value: ok });
    const notOpen = new Retry<Res>({ clock, handle: handleAll().except(CircuitOpenError), initialDelay: 1 });
    expect(await runRetry(notOpen, clock, [open, ok])).toMatchObject({ calls: 1, error: open });
    // except wins over a retryable() mark, as nonRetryableErrors does.
    expect(await runRetry(notOpen, clock, [retryable(open), ok])).toMatchObject({ calls: 1 });
  });
});

describe('a shared classifier in a pipeline', () => {
  it('one value configures the fallback, the retry, the breaker and hedging steps', async () => {
    const clock = new FakeClock();
    const cb = breaker({ handle: transient, readyToTrip: () => false });
    const policy = pipeline<Res>()
      .fallback({ handle: transient, fallback: { status: 299 } })
      .retry({ handle: transient, maxAttempts: 2, initialDelay: 1, clock })
      .circuitBreaker(cb)
      .hedging({ handle: transient, delay: 1_000, clock })
      .build();
    let calls = 0;
    const done = policy.execute(async () => (++calls === 1 ? unavailable : ok));
    await clock.runAll();
    await expect(done).resolves.toBe(ok);
    expect(calls).toBe(2);
    expect(cb.counts).toMatchObject({ totalFailures: 1, totalSuccesses: 1 });
    const notFound = new NotFoundError();
    const rejected = outcome(policy.execute(() => Promise.reject(notFound)));
    await clock.runAll();
    expect(await rejected).toEqual({ error: notFound }); // not handled anywhere: not retried, not replaced, a success for the breaker
    expect(cb.counts).toMatchObject({ totalFailures: 1, totalSuccesses: 2 });
    const down = policy.execute(async () => unavailable);
    await clock.runAll();
    await expect(down).resolves.toEqual({ status: 299 }); // retried, then replaced
  });
});

describe('a shared classifier under load', () => {
  it('classifies 10,000 synchronous throws and 10,000 handled results on one shared value, each settled once', async () => {
    const cb = breaker({ handle: transient, readyToTrip: () => false });
    const clock = new FakeClock();
    const retry = new Retry<Res>({ clock, handle: transient, maxAttempts: 1 });
    const fallback = new Fallback<Res>({ handle: transient, fallback: ok });
    const n = 10_000;
    let settled = 0;
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const fail = (): Res => {
        throw i % 2 === 0 ? new NetworkError(`n${i}`) : new NotFoundError(`f${i}`);
      };
      for (const call of [
        cb.execute(fail),
        retry.execute(fail),
        fallback.execute(fail),
        cb.execute(() => unavailable),
      ]) {
        calls.push(
          call.then(
            () => settled++,
            () => settled++,
          ),
        );
      }
    }
    await Promise.all(calls);
    expect(settled).toBe(4 * n);
    expect(cb.counts).toMatchObject({ totalFailures: n / 2 + n, totalSuccesses: n / 2 });
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('the older option names', () => {
  it('still work, and are refused together with handle, naming both fields', () => {
    const both = [
      [() => new CircuitBreaker({ handle: transient, isSuccessful: () => true }), 'CircuitBreaker', 'isSuccessful'],
      [
        () => new CircuitBreaker({ handle: transient, isFailureResult: () => true }),
        'CircuitBreaker',
        'isFailureResult',
      ],
      [() => new Retry({ handle: transient, retryableErrors: [NetworkError] }), 'Retry', 'retryableErrors'],
      [() => new Retry({ handle: transient, nonRetryableErrors: [NetworkError] }), 'Retry', 'nonRetryableErrors'],
      [() => new Retry({ handle: transient, isRetryable: () => true }), 'Retry', 'isRetryable'],
      [() => new Retry({ handle: transient, retryOnResult: () => true }), 'Retry', 'retryOnResult'],
      [() => new Fallback({ handle: transient, shouldHandle: () => true, fallback: ok }), 'Fallback', 'shouldHandle'],
    ] as const;
    for (const [make, owner, alias] of both) {
      expect(make).toThrow(TypeError);
      expect(make).toThrow(new RegExp(`^${owner}: give either handle or ${alias}, not both`));
    }
    // An alias given as undefined is no alias.
    expect(() => new Retry({ handle: transient, isRetryable: undefined as never })).not.toThrow();
  });

  it("name handle in the hints for peer libraries' options", () => {
    expect(() => new Retry({ shouldRetry: () => true } as never)).toThrow(/shouldRetry is "handle" here/);
    expect(() => new Retry({ retryExceptions: [] } as never)).toThrow(/retryExceptions is "handle" here/);
    expect(() => new Retry({ ignoreExceptions: [] } as never)).toThrow(/ignoreExceptions is the "except" of "handle"/);
    expect(() => new CircuitBreaker({ errorFilter: () => true } as never)).toThrow(
      /errorFilter is "isIgnored" here, or "handle"/,
    );
    expect(() => new Fallback({ fallback: 1, errorFilter: () => true } as never)).toThrow(
      /errorFilter is "handle" here/,
    );
  });

  it('refuse what is not a classifier, naming the field and the value', () => {
    const makers = [
      (handle: unknown) => new CircuitBreaker({ handle: handle as never }),
      (handle: unknown) => new Retry({ handle: handle as never }),
      (handle: unknown) => new Fallback({ handle: handle as never, fallback: ok }),
      (handle: unknown) => new Hedging({ handle: handle as never, delay: 10 }),
    ];
    for (const make of makers) {
      for (const bad of [() => true, async () => true, [NetworkError], NetworkError, 'transient', null, 0, {}]) {
        expect(() => make(bad)).toThrow(/^(CircuitBreaker|Retry|Fallback|Hedging): handle must be a classifier/);
      }
      expect(() => make(undefined)).not.toThrow();
    }
  });

  it('update() switches from the old names to handle and back without an undefined for the other', async () => {
    const cb = breaker({ isSuccessful: (err) => err instanceof NotFoundError, readyToTrip: () => false });
    cb.update({ handle: handle(NotFoundError) });
    await expect(cb.execute(() => Promise.reject(new NotFoundError()))).rejects.toBeInstanceOf(NotFoundError);
    expect(cb.counts.totalFailures).toBe(1);
    cb.update({ isFailureResult: (res) => res.status === 503 });
    await cb.execute(() => Promise.reject(new NotFoundError())).catch(() => undefined);
    expect(cb.counts.totalFailures).toBe(2); // handle is gone: every error is a failure again
    expect(() => cb.update({ handle: transient, isSuccessful: () => true })).toThrow(
      /give either handle or isSuccessful/,
    );
    expect(() => cb.update({ handle: 'x' as never })).toThrow(/handle must be a classifier/);

    const clock = new FakeClock();
    const retry = new Retry<Res>({ clock, retryableErrors: [NetworkError], initialDelay: 1 });
    retry.update({ handle: handleWhen((err) => err instanceof NotFoundError) });
    expect(await runRetry(retry, clock, [new NotFoundError(), ok])).toMatchObject({ calls: 2 });
    expect(await runRetry(retry, clock, [new NetworkError(), ok])).toMatchObject({ calls: 1 });
    retry.update({ isRetryable: () => false });
    expect(await runRetry(retry, clock, [new NotFoundError(), ok])).toMatchObject({ calls: 1 });

    const fallback = new Fallback<Res>({ shouldHandle: () => false, fallback: ok });
    fallback.update({ handle: transient });
    await expect(fallback.execute(async () => unavailable)).resolves.toBe(ok);
  });

  it('a classifier predicate that throws follows the rule of the predicate it compiles to, and is logged', async () => {
    const bug = new Error('classifier bug');
    const broken = handleWhen(() => {
      throw bug;
    }).orResult(() => {
      throw bug;
    });
    const logger = recordingLogger();
    const cb = breaker({ handle: broken, logger });
    await cb.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    await cb.execute(async () => ok);
    expect(cb.counts).toMatchObject({ totalFailures: 1, totalSuccesses: 1 });
    const clock = new FakeClock();
    const retry = new Retry<Res>({ clock, handle: broken, logger, initialDelay: 1 });
    expect(await runRetry(retry, clock, [new Error('x'), ok])).toMatchObject({ calls: 1 });
    expect(await runRetry(retry, clock, [unavailable, ok])).toMatchObject({ calls: 1, value: unavailable });
    const fallback = new Fallback<Res>({ handle: broken, fallback: ok, logger });
    await expect(fallback.execute(() => Promise.reject(new Error('y')))).rejects.toThrow('y');
    await expect(fallback.execute(async () => unavailable)).resolves.toBe(unavailable);
    const hedging = new Hedging<Res>({ clock, delay: 10, hedgeOnFailure: true, handle: broken, logger });
    await expect(hedging.execute(() => Promise.reject(new Error('z')))).rejects.toThrow('z');
    const threw = logger.records.filter((r) => r.level === 'error' && / threw$/.test(r.msg));
    expect(threw.map((r) => r.msg)).toEqual([
      'isSuccessful threw',
      'isFailureResult threw',
      'isRetryable threw',
      'retryOnResult threw',
      'shouldHandle threw',
      'handle threw',
      'handle threw',
    ]);
    for (const record of threw) expect(record.attrs?.err).toBe(bug);
  });

  it('the registry keeps a handle given in code across configure(), which cannot carry one', async () => {
    const policies = new PolicyRegistry();
    const cb = policies.circuitBreaker<Res>('payments', { handle: transient, clock: new FakeClock() });
    policies.configure({ circuitBreaker: { payments: { timeout: 5_000 } } });
    await cb.execute(() => Promise.reject(new NotFoundError())).catch(() => undefined);
    await cb.execute(async () => unavailable);
    expect(cb.counts).toMatchObject({ totalSuccesses: 1, totalFailures: 1 });
    expect(() => policies.configure({ circuitBreaker: { payments: { handle: 'transient' } } } as never)).toThrow(
      /circuitBreaker\.payments\.handle must be a classifier .*which JSON cannot carry: give handle in the policy's config in code, got "transient"/,
    );
    expect(() => policies.configure({ defaults: { retry: { handle: {} } } } as never)).toThrow(
      /defaults\.retry\.handle must be a classifier/,
    );
  });
});
