// `execute` never throws synchronously, and observability never changes an
// outcome (issue 10, items 3 and 14): for every pattern, a non-function `fn`,
// `null` options, a clock that throws, a tracer that throws or never calls
// back, spans that throw, and loggers, recorders and hooks that return
// rejected promises.
import { describe, expect, it } from 'vitest';
import { Bulkhead } from '../src/bulkhead/index.js';
import { CircuitBreaker } from '../src/circuit-breaker/index.js';
import type { Clock } from '../src/clock/clock.js';
import { pipeline } from '../src/compose/index.js';
import type { Operation } from '../src/context.js';
import { Fallback } from '../src/fallback/index.js';
import type {
  Logger,
  MetricsRecorder,
  ObservabilityOptions,
  SpanLike,
  TracerLike,
} from '../src/observability/types.js';
import { RateLimiter } from '../src/rate-limiter/index.js';
import { Retry } from '../src/retry/index.js';
import { FakeClock } from '../src/testing/index.js';
import { Timeout } from '../src/timeout/index.js';
import { failOnUnhandledRejection, outcome, recordingLogger } from './support.js';

failOnUnhandledRejection();

interface Executor {
  execute(fn: Operation<unknown>, options?: unknown): Promise<unknown>;
}

type Extra = ObservabilityOptions & { clock?: Clock };

/** Every pattern, built with the given observability options and clock. */
const patterns: [string, (extra: Extra) => Executor][] = [
  ['CircuitBreaker', (extra) => new CircuitBreaker(extra)],
  ['Retry', (extra) => new Retry({ maxAttempts: 2, isRetryable: () => false, ...extra })],
  ['Timeout', (extra) => new Timeout({ defaultTimeout: 1000, ...extra })],
  [
    'Fallback',
    ({ clock: _noClock, ...extra }) => new Fallback({ fallback: 'fallback', shouldHandle: () => false, ...extra }),
  ],
  ['RateLimiter', (extra) => new RateLimiter({ rate: 100, ...extra })],
  ['Bulkhead', (extra) => new Bulkhead({ maxConcurrent: 2, ...extra })],
  [
    'Pipeline',
    (extra) =>
      pipeline()
        .timeout({ defaultTimeout: 1000, ...extra })
        .retry({ maxAttempts: 2, isRetryable: () => false, ...extra })
        .circuitBreaker({ ...extra })
        .rateLimit({ rate: 100, ...extra })
        .bulkhead({ maxConcurrent: 2, ...extra })
        .build(),
  ],
];

/** Calls `execute` and fails the test if it throws synchronously. */
function call(pattern: Executor, fn: unknown, options?: unknown): Promise<unknown> {
  let promise: Promise<unknown> | undefined;
  expect(() => {
    promise = pattern.execute(fn as Operation<unknown>, options);
  }).not.toThrow();
  return promise as Promise<unknown>;
}

const boom = (): never => {
  throw new Error('observer broke');
};

/** A clock that works while the pattern is built, then throws from every method. */
function breakingClock(): { clock: Clock; breakNow(): void } {
  let broken = false;
  const check = (): void => {
    if (broken) boom();
  };
  const clock: Clock = {
    now: () => {
      check();
      return 0;
    },
    setTimeout: (fn, ms) => {
      check();
      return setTimeout(fn, ms);
    },
    clearTimeout: (handle) => {
      check();
      clearTimeout(handle as NodeJS.Timeout);
    },
  };
  return { clock, breakNow: () => (broken = true) };
}

const throwingTracer: TracerLike = { startActiveSpan: boom };

/** A tracer that returns without ever calling back (a broken or mocked tracer). */
const silentTracer: TracerLike = {
  startActiveSpan: (() => undefined) as TracerLike['startActiveSpan'],
};

/** A tracer whose spans throw from every method. */
const brokenSpanTracer: TracerLike = {
  startActiveSpan: ((_name: string, _options: unknown, fn: (span: SpanLike) => unknown) =>
    fn({ setAttribute: boom, setStatus: boom, recordException: boom, end: boom })) as TracerLike['startActiveSpan'],
};

/** A tracer that calls back twice. */
const twiceTracer: TracerLike = {
  startActiveSpan: ((_name: string, _options: unknown, fn: (span: SpanLike) => unknown) => {
    const noop = { setAttribute() {}, setStatus() {}, recordException() {}, end() {} };
    fn(noop);
    return fn(noop);
  }) as TracerLike['startActiveSpan'],
};

const rejecting = (): Promise<never> => Promise.reject(new Error('observer rejected'));

const rejectingLogger: Logger = { debug: rejecting, info: rejecting, warn: rejecting, error: rejecting };

const rejectingRecorder: MetricsRecorder = {
  recordCircuitBreakerState: rejecting,
  recordRetryAttempt: rejecting,
  recordRateLimitHit: rejecting,
  recordBulkheadUtilization: rejecting,
  recordTimeout: rejecting,
  recordCircuitBreakerCall: rejecting,
  recordCallDuration: rejecting,
} as unknown as MetricsRecorder;

describe.each(patterns)('%s: execute never throws synchronously', (_name, make) => {
  it.each([null, undefined, 42, 'fn', {}])('rejects fn = %s with a TypeError', async (bad) => {
    const result = await outcome(call(make({}), bad));
    expect(result.error).toBeInstanceOf(TypeError);
  });

  it('treats null options as none', async () => {
    await expect(call(make({}), () => 'value', null)).resolves.toBe('value');
  });

  it('rejects, never throws, with a clock whose methods throw', async () => {
    const { clock, breakNow } = breakingClock();
    const pattern = make({ clock });
    breakNow();
    // Some patterns need no clock for this call; what matters is that execute itself does not throw.
    await outcome(call(pattern, () => 'value'));
  });
});

describe.each(patterns)('%s: observability never changes an outcome', (_name, make) => {
  it.each([
    ['throws', throwingTracer],
    ['never calls back', silentTracer],
    ['gives spans that throw', brokenSpanTracer],
    ['calls back twice', twiceTracer],
  ])('runs the work once and keeps its value when the tracer %s', async (_kind, tracer) => {
    const logger = recordingLogger();
    let runs = 0;
    const value = await call(make({ tracer, logger }), async () => {
      runs++;
      return 'value';
    });
    expect(value).toBe('value');
    expect(runs).toBe(1);
  });

  it('keeps the failure as it is when the spans throw', async () => {
    const failure = new Error('the work failed');
    const result = await outcome(
      call(make({ tracer: brokenSpanTracer, logger: recordingLogger() }), () => Promise.reject(failure)),
    );
    expect(result.error).toBe(failure);
  });

  it('keeps the value with a logger and a metrics recorder that return rejected promises', async () => {
    const pattern = make({ logger: rejectingLogger, metrics: rejectingRecorder, name: 'hostile' });
    await expect(call(pattern, () => 'value')).resolves.toBe('value');
    const failure = new Error('fails');
    expect((await outcome(call(pattern, () => Promise.reject(failure)))).error).toBe(failure);
  });
});

describe('a clock that breaks while a call runs', () => {
  it('does not turn a breaker success or failure into another outcome', async () => {
    const failure = new Error('own');
    for (const settle of [() => Promise.resolve('value'), () => Promise.reject(failure)]) {
      const { clock, breakNow } = breakingClock();
      const logger = recordingLogger();
      const breaker = new CircuitBreaker({ clock, logger, metrics: rejectingRecorder, interval: 1000 });
      const result = await outcome(
        breaker.execute(() => {
          breakNow();
          return settle();
        }),
      );
      expect(result).toEqual(result.error === undefined ? { value: 'value' } : { error: failure });
      expect(logger.records.map((r) => r.msg)).toContain('circuit breaker could not record an outcome');
    }
  });
});

describe('a tracer that never calls back', () => {
  it('still lets a Fallback mark, record and end its stand-in span, with the same outcomes', async () => {
    const handled = new Fallback({ fallback: 'spare', tracer: silentTracer, logger: recordingLogger() });
    await expect(handled.execute(() => Promise.reject(new Error('down')))).resolves.toBe('spare');
    const failing = new Fallback({ fallback: () => Promise.reject(new Error('spare failed')), tracer: silentTracer });
    await expect(failing.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('spare failed');
  });

  it('Fallback rejects options whose signal getter throws instead of throwing', async () => {
    const hostile = Object.defineProperty({}, 'signal', {
      get() {
        throw new Error('signal getter');
      },
    });
    await expect(call(new Fallback({ fallback: 1 }), () => 1, hostile)).rejects.toThrow('signal getter');
  });
});

describe('async hooks that reject are logged, never an unhandled rejection (issue 10, item 3)', () => {
  const rejectingHook = async (): Promise<never> => {
    throw new Error('hook rejected');
  };

  it('onStateChange', async () => {
    const logger = recordingLogger();
    const breaker = new CircuitBreaker({ readyToTrip: () => true, onStateChange: rejectingHook, logger });
    await outcome(breaker.execute(() => Promise.reject(new Error('down'))));
    expect(breaker.state).toBe('open');
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(logger.records.map((r) => r.msg)).toContain('onStateChange rejected');
  });

  it('onTimeout', async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const timeout = new Timeout({ clock, defaultTimeout: 10, onTimeout: rejectingHook, logger });
    const result = outcome(timeout.execute(() => new Promise(() => {})));
    await clock.advance(10);
    expect((await result).error).toMatchObject({ name: 'TimeoutError' });
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(logger.records.map((r) => r.msg)).toContain('onTimeout rejected');
  });

  it('onRejected', async () => {
    const logger = recordingLogger();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, onRejected: rejectingHook, logger });
    const first = bulkhead.execute(() => new Promise((resolve) => setTimeout(resolve, 5)));
    await expect(bulkhead.execute(() => 'x')).rejects.toMatchObject({ name: 'BulkheadFullError' });
    await first;
    expect(logger.records.map((r) => r.msg)).toContain('onRejected rejected');
  });

  it('onFallback', async () => {
    const logger = recordingLogger();
    const fallback = new Fallback({ fallback: 'spare', onFallback: rejectingHook, logger });
    await expect(fallback.execute(() => Promise.reject(new Error('down')))).resolves.toBe('spare');
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(logger.records.map((r) => r.msg)).toContain('onFallback rejected');
  });
});

describe('predicates that return promises (issue 10, item 12)', () => {
  it('refuses async predicates at construction, naming them', () => {
    const async = async (): Promise<boolean> => false;
    for (const key of ['readyToTrip', 'isSuccessful', 'isIgnored', 'isExcluded', 'isFailureResult']) {
      expect(() => new CircuitBreaker({ [key]: async } as never)).toThrow(
        new RegExp(`CircuitBreaker: ${key} must be a synchronous function returning a boolean, got an async function`),
      );
    }
    expect(() => new Fallback({ fallback: 1, shouldHandle: async as never })).toThrow(
      /Fallback: shouldHandle must be a synchronous/,
    );
  });

  it('counts a promise returned at run time as false: readyToTrip does not trip, isIgnored ignores nothing', async () => {
    const logger = recordingLogger();
    const promised = (() => Promise.resolve(false)) as unknown as () => boolean;
    const breaker = new CircuitBreaker({ readyToTrip: promised, isIgnored: promised, logger });
    for (let i = 0; i < 3; i++) await outcome(breaker.execute(() => Promise.reject(new Error('down'))));
    expect(breaker.state).toBe('closed');
    expect(breaker.counts.totalFailures).toBe(3);
    expect(logger.records.map((r) => r.msg)).toContain(
      'readyToTrip returned a promise: predicates must answer synchronously, counted as false',
    );
  });

  it('keeps JavaScript truthiness for a synchronous answer', async () => {
    const breaker = new CircuitBreaker({ isIgnored: (e) => (e as { code?: string }).code as unknown as boolean });
    await outcome(breaker.execute(() => Promise.reject(Object.assign(new Error('gone'), { code: 'ECONNRESET' }))));
    expect(breaker.counts.totalFailures).toBe(0);
  });
});
