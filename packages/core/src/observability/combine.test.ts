import { describe, expect, it } from 'vitest';
import { listRecorder } from '../../test/recorders.js';
import { inMemoryTracing, recordingLogger } from '../../test/support.js';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import { Retry } from '../retry/retry.js';
import { FakeClock } from '../testing/fake-clock.js';
import { combineLoggers, combineRecorders, combineTracers } from './combine.js';
import type { MetricsRecorder } from './types.js';

const boom = new Error('boom');

describe('combineRecorders', () => {
  it('hands every record to each recorder, optional methods to those that have them', () => {
    const a = listRecorder();
    const durations: number[] = [];
    const b: MetricsRecorder & { lines: string[] } = {
      ...listRecorder(),
      recordCallDuration: (_n, _p, _o, s) => void durations.push(s),
      recordHedge: () => undefined,
    };
    const both = combineRecorders(a, b);
    both.recordCircuitBreakerState('p', 'open');
    both.recordRetryAttempt('r', 2, true);
    both.recordRateLimitHit('l');
    both.recordBulkheadUtilization('b', 1, 2);
    both.recordTimeout('t');
    both.recordCircuitBreakerCall?.('p', 'failure');
    both.recordCallDuration?.('p', 'circuit_breaker', 'failure', 0.5);
    both.recordHedge?.('h', 2);
    both.recordAdaptiveBulkheadLimit?.('ab', 7);
    const expected = ['state p open', 'retry r 2 true', 'limit l', 'bulkhead b 1 2', 'timeout t', 'call p failure'];
    expect(a.lines).toEqual(expected);
    expect(b.lines).toEqual(expected);
    expect(durations).toEqual([0.5]);
  });

  it('counts recorders that name the same sink once (two recorders writing the same series), the first given', () => {
    const sink = {};
    const a = listRecorder();
    const b = listRecorder();
    const c = listRecorder();
    for (const r of [a, b]) Object.defineProperty(r, Symbol.for('@resilience/core.sink'), { value: sink });
    Object.defineProperty(c, Symbol.for('@resilience/core.sink'), { value: {} });
    expect(combineRecorders(a, b)).toBe(a);
    expect(combineRecorders(undefined, b, a)).toBe(b);
    const all = combineRecorders(a, b, c);
    all.recordTimeout('t');
    expect([a.lines, b.lines, c.lines]).toEqual([['timeout t'], [], ['timeout t']]);
  });

  it('returns the only distinct recorder itself, and counts a recorder given twice once', () => {
    const a = listRecorder();
    expect(combineRecorders(a)).toBe(a);
    expect(combineRecorders(undefined, a, a, undefined)).toBe(a);
    const b = listRecorder();
    const ab = combineRecorders(a, b);
    // A combination inside a combination is flattened: a still counts once.
    const again = combineRecorders(ab, a, b);
    again.recordTimeout('t');
    expect(a.lines).toEqual(['timeout t']);
    expect(b.lines).toEqual(['timeout t']);
  });

  it('calls every recorder when one throws or rejects, never throws, and returns a rejection with the first failure', async () => {
    const a = listRecorder();
    const c = listRecorder();
    const thrower: MetricsRecorder = {
      ...listRecorder(),
      recordTimeout: () => {
        throw boom;
      },
    };
    const rejecter = { ...listRecorder(), recordTimeout: () => Promise.reject(new Error('later')) };
    const all = combineRecorders(a, thrower, rejecter as MetricsRecorder, c);
    let returned: unknown;
    expect(() => {
      returned = all.recordTimeout('t');
    }).not.toThrow();
    expect(a.lines).toEqual(['timeout t']);
    expect(c.lines).toEqual(['timeout t']);
    await expect(returned).rejects.toBe(boom);
    const onlyRejecting = combineRecorders(a, rejecter as MetricsRecorder);
    await expect(onlyRejecting.recordTimeout('t') as unknown).rejects.toThrow('later');
    // Nothing failed: nothing is returned (no promise allocated).
    expect(combineRecorders(a, c).recordTimeout('t') as unknown).toBeUndefined();
  });

  it('keeps a breaker counting in the other recorder when one throws, and the breaker logs the failure', async () => {
    const good = listRecorder();
    const bad: MetricsRecorder = {
      ...listRecorder(),
      recordCircuitBreakerCall: () => {
        throw boom;
      },
    };
    const logger = recordingLogger();
    const breaker = new CircuitBreaker({ name: 'p', metrics: combineRecorders(bad, good), logger });
    await breaker.execute(() => 1);
    await breaker.execute(() => 2);
    expect(good.lines.filter((l) => l.startsWith('call'))).toEqual(['call p success', 'call p success']);
    await Promise.resolve();
    expect(logger.records.filter((r) => r.msg === 'metrics recorder threw')).toHaveLength(2);
  });

  it('refuses a value that is not a recorder, naming the argument', () => {
    expect(() => combineRecorders(listRecorder(), 42 as never)).toThrow(
      'combineRecorders: argument 1 must be a MetricsRecorder object or undefined, got 42',
    );
    expect(() => combineRecorders(null as never)).toThrow(/argument 0/);
  });

  it('with no recorder, records nothing and throws nothing', () => {
    const none = combineRecorders();
    expect(none.recordTimeout('t') as unknown).toBeUndefined();
  });

  it('survives thousands of throwing records', async () => {
    const good = listRecorder();
    const bad: MetricsRecorder = {
      ...listRecorder(),
      recordRateLimitHit: () => {
        throw boom;
      },
    };
    const both = combineRecorders(bad, good);
    const returned: unknown[] = [];
    for (let i = 0; i < 5_000; i++) returned.push(both.recordRateLimitHit('l'));
    expect(good.lines).toHaveLength(5_000);
    const settled = await Promise.allSettled(returned as Promise<void>[]);
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
  });
});

describe('combineLoggers', () => {
  it('writes once to loggers that name the same sink (two adapters of one logging library logger)', () => {
    const sink = {};
    const a = recordingLogger();
    const b = recordingLogger();
    for (const l of [a, b]) Object.defineProperty(l, Symbol.for('@resilience/core.sink'), { value: sink });
    const both = combineLoggers(a, b);
    expect(both).toBe(a);
    const c = recordingLogger();
    combineLoggers(b, a, c).warn('hi');
    expect([a.records.length, b.records.length, c.records.length]).toEqual([0, 1, 1]);
  });

  it('writes each record to every logger once, past a logger that throws', async () => {
    const a = recordingLogger();
    const b = recordingLogger();
    const broken = {
      debug: () => {
        throw boom;
      },
      info: () => Promise.reject(boom),
      warn: () => undefined,
      error: () => undefined,
    };
    expect(combineLoggers(a, undefined, a)).toBe(a);
    const all = combineLoggers(a, broken, b, a);
    const returned = all.debug('hello', { x: 1 }) as unknown;
    all.warn('careful');
    expect(a.records.map((r) => r.msg)).toEqual(['hello', 'careful']);
    expect(b.records.map((r) => r.msg)).toEqual(['hello', 'careful']);
    expect(b.records[0]?.attrs).toEqual({ x: 1 });
    await expect(returned).rejects.toBe(boom);
    await expect(all.info('x') as unknown).rejects.toBe(boom);
  });

  it('refuses a logger without the four methods', () => {
    expect(() => combineLoggers(console, { info: () => undefined } as never)).toThrow(
      /combineLoggers: argument 1 must be a Logger .*got an object/,
    );
  });
});

describe('combineTracers', () => {
  it('starts a span in each tracer, nested, and ends them all with the outcome', async () => {
    const one = inMemoryTracing();
    const two = inMemoryTracing();
    const tracer = combineTracers(one.provider.getTracer('one'), two.provider.getTracer('two'));
    const clock = new FakeClock();
    const retry = new Retry({ name: 'r', tracer, maxAttempts: 2, initialDelay: 0, clock });
    let attempt = 0;
    const done = retry.execute(() => {
      attempt++;
      if (attempt === 1) throw boom;
      return 'ok';
    });
    await clock.runAll();
    await expect(done).resolves.toBe('ok');
    for (const { exporter } of [one, two]) {
      const spans = exporter.getFinishedSpans();
      expect(spans.map((s) => s.name)).toEqual(['resilience.retry.attempt', 'resilience.retry.attempt']);
      expect(spans.map((s) => s.status.code)).toEqual([2, 0]);
      expect(spans[0]?.attributes['resilience.name']).toBe('r');
    }
  });

  it('traces once with a tracer given twice, and leaves out a tracer that throws (then throws its error)', () => {
    const one = inMemoryTracing();
    const t = one.provider.getTracer('one');
    expect(combineTracers(t, undefined, t)).toBe(t);
    const broken = {
      startActiveSpan: () => {
        throw boom;
      },
    };
    const both = combineTracers(broken, t);
    let ran = 0;
    expect(() =>
      both.startActiveSpan('s', {}, (span) => {
        ran++;
        span.end();
      }),
    ).toThrow(boom);
    expect(ran).toBe(1);
    expect(one.exporter.getFinishedSpans().map((s) => s.name)).toEqual(['s']);
    expect(() => combineTracers(t, {} as never)).toThrow(/combineTracers: argument 1 must be an OpenTelemetry Tracer/);
  });

  it('runs the work once when a tracer calls back twice or never', () => {
    const one = inMemoryTracing();
    const twice = {
      startActiveSpan: (_n: string, _o: unknown, fn: (span: never) => unknown) => {
        fn({ setAttribute() {}, setStatus() {}, recordException() {}, end() {} } as never);
        return fn({} as never);
      },
    };
    const never = { startActiveSpan: () => undefined };
    let ran = 0;
    const result = combineTracers(twice as never, never as never, one.provider.getTracer('x')).startActiveSpan(
      's',
      {},
      (span) => {
        ran++;
        span.end();
        return 'r';
      },
    );
    expect(ran).toBe(1);
    expect(result).toBe('r');
    expect(one.exporter.getFinishedSpans()).toHaveLength(1);
  });
});
