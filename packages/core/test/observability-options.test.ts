import { describe, expect, it } from 'vitest';
import { Bulkhead, CircuitBreaker, Fallback, RateLimiter, Retry, Timeout } from '../src/index.js';

/** Every pattern, built with one extra observability option. */
const patterns: ReadonlyArray<readonly [string, (extra: object) => unknown]> = [
  ['CircuitBreaker', (extra) => new CircuitBreaker({ ...extra })],
  ['Retry', (extra) => new Retry({ ...extra })],
  ['Timeout', (extra) => new Timeout({ ...extra })],
  ['Bulkhead', (extra) => new Bulkhead({ maxConcurrent: 1, ...extra })],
  ['RateLimiter', (extra) => new RateLimiter({ rate: 1, ...extra })],
  ['Fallback', (extra) => new Fallback({ fallback: 1, ...extra })],
];

describe.each(patterns)('%s: observability options that would fail silently on every call', (owner, build) => {
  it('refuses them at construction, naming the option and the value', () => {
    expect(() => build({ name: 5 })).toThrow(new TypeError(`${owner}: name must be a string, got 5`));
    expect(() => build({ logger: 5 })).toThrow(
      new TypeError(`${owner}: logger must have debug(), info(), warn() and error() methods (console fits), got 5`),
    );
    expect(() => build({ logger: { error() {} } })).toThrow(`${owner}: logger must have debug(), info(), warn()`);
    expect(() => build({ tracer: {} })).toThrow(
      new TypeError(`${owner}: tracer must be an OpenTelemetry Tracer (with startActiveSpan()), got an object`),
    );
    expect(() => build({ metrics: 'prometheus' })).toThrow(
      new TypeError(`${owner}: metrics must be a MetricsRecorder object, got "prometheus"`),
    );
  });

  it('accepts console, a tracer-shaped object and a recorder implementing only some methods', () => {
    const tracer = { startActiveSpan: () => undefined };
    expect(() => build({ name: 'svc', logger: console, tracer, metrics: {} })).not.toThrow();
  });
});
