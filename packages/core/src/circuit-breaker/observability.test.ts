import { describe, expect, it } from 'vitest';
import { inMemoryTracing, recordingLogger, useAsyncContextManager } from '../../test/support.js';
import type { CallOutcome, MetricsRecorder, PatternName, TracerLike } from '../observability/types.js';
import { FakeClock } from '../testing/index.js';
import { CircuitBreaker } from './circuit-breaker.js';

const { exporter, provider } = inMemoryTracing();
useAsyncContextManager();

function recordingMetrics() {
  const states: [string, string][] = [];
  const calls: [string, CallOutcome][] = [];
  const durations: [string, PatternName, CallOutcome, number][] = [];
  const metrics: MetricsRecorder = {
    recordCircuitBreakerState: (name, state) => states.push([name, state]),
    recordCircuitBreakerCall: (name, outcome) => calls.push([name, outcome]),
    recordCallDuration: (name, pattern, outcome, seconds) => durations.push([name, pattern, outcome, seconds]),
    recordRetryAttempt: () => {},
    recordRateLimitHit: () => {},
    recordBulkheadUtilization: () => {},
    recordTimeout: () => {},
  };
  return { metrics, states, calls, durations };
}

const boom = new Error('boom');
const fail = (): never => {
  throw boom;
};

describe('CircuitBreaker: observability', () => {
  it('records the state at construction and on every transition, and each call with its outcome and duration', async () => {
    const clock = new FakeClock();
    const { metrics, states, calls, durations } = recordingMetrics();
    const breaker = new CircuitBreaker({
      name: 'payments',
      clock,
      metrics,
      readyToTrip: () => true,
      timeout: 10,
      isIgnored: (e) => e === 'ignored',
    });
    expect(states).toEqual([['payments', 'closed']]);
    const slow = breaker.execute(async () => {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 250));
      return 1;
    });
    await clock.advance(250);
    await slow;
    await expect(breaker.execute(() => Promise.reject('ignored'))).rejects.toBe('ignored');
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await expect(breaker.execute(() => 1)).rejects.toThrow('open');
    await clock.advance(11);
    await breaker.execute(() => 2);
    expect(states).toEqual([
      ['payments', 'closed'],
      ['payments', 'open'],
      ['payments', 'half-open'],
      ['payments', 'closed'],
    ]);
    expect(calls).toEqual([
      ['payments', 'success'],
      ['payments', 'ignored'],
      ['payments', 'failure'],
      ['payments', 'rejected'],
      ['payments', 'success'],
    ]);
    expect(durations).toEqual([
      ['payments', 'circuit_breaker', 'success', 0.25],
      ['payments', 'circuit_breaker', 'ignored', 0],
      ['payments', 'circuit_breaker', 'failure', 0],
      ['payments', 'circuit_breaker', 'success', 0],
    ]);
  });

  it('works with a recorder that has none of the optional methods', async () => {
    const states: string[] = [];
    const metrics: MetricsRecorder = {
      recordCircuitBreakerState: (_name, state) => states.push(state),
      recordRetryAttempt: () => {},
      recordRateLimitHit: () => {},
      recordBulkheadUtilization: () => {},
      recordTimeout: () => {},
    };
    const breaker = new CircuitBreaker({ metrics, readyToTrip: () => true });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await expect(breaker.execute(() => 1)).rejects.toThrow('open');
    expect(states).toEqual(['closed', 'open']);
  });

  it('survives a metrics recorder that throws: the caller still gets its own outcome, the error is logged', async () => {
    const logger = recordingLogger();
    const broken = (): never => {
      throw new Error('registry closed');
    };
    const metrics: MetricsRecorder = {
      recordCircuitBreakerState: broken,
      recordCircuitBreakerCall: broken,
      recordRetryAttempt: broken,
      recordRateLimitHit: broken,
      recordBulkheadUtilization: broken,
      recordTimeout: broken,
    };
    const breaker = new CircuitBreaker({ metrics, logger, readyToTrip: () => true });
    await expect(breaker.execute(() => 'value')).resolves.toBe('value');
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await expect(breaker.execute(() => 1)).rejects.toThrow('open');
    expect(breaker.state).toBe('open');
    expect(logger.records.filter(({ msg }) => msg === 'metrics recorder threw')).toHaveLength(5);
  });

  it('logs each state change (warn when opening) and a throwing listener', async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const breaker = new CircuitBreaker({
      name: 'db',
      clock,
      logger,
      readyToTrip: () => true,
      timeout: 10,
      onStateChange: (_from, to) => {
        if (to === 'half-open') throw new Error('listener bug');
      },
    });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await clock.advance(11);
    expect(breaker.state).toBe('half-open');
    const base = { 'resilience.name': 'db', 'resilience.pattern': 'circuit_breaker' };
    expect(logger.records).toEqual([
      {
        level: 'warn',
        msg: 'circuit breaker state changed',
        attrs: { ...base, 'resilience.circuit_breaker.from': 'closed', 'resilience.circuit_breaker.state': 'open' },
      },
      {
        level: 'info',
        msg: 'circuit breaker state changed',
        attrs: { ...base, 'resilience.circuit_breaker.from': 'open', 'resilience.circuit_breaker.state': 'half-open' },
      },
      { level: 'error', msg: 'onStateChange threw', attrs: { ...base, err: expect.any(Error) } },
    ]);
  });

  it('opens a span per execute with the state, marking failures and rejections', async () => {
    exporter.reset();
    const tracer = provider.getTracer('test') as unknown as TracerLike;
    const breaker = new CircuitBreaker({ name: 'search', tracer, readyToTrip: () => true });
    await expect(breaker.execute(() => 'hit')).resolves.toBe('hit');
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await expect(breaker.execute(() => 'never')).rejects.toThrow('open');
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.attributes['resilience.circuit_breaker.state'], s.status.code])).toEqual([
      ['resilience.circuit_breaker', 'closed', 0],
      ['resilience.circuit_breaker', 'closed', 2],
      ['resilience.circuit_breaker', 'open', 2],
    ]);
    expect(spans[0]?.attributes['resilience.name']).toBe('search');
  });
});
