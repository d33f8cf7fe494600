import { describe, expect, it } from 'vitest';
import { AdaptiveBulkhead } from '../adaptive-bulkhead/adaptive-bulkhead.js';
import { AdaptiveThrottle } from '../adaptive-throttle/adaptive-throttle.js';
import { Bulkhead } from '../bulkhead/bulkhead.js';
import { Chaos } from '../chaos/chaos.js';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import { Fallback } from '../fallback/fallback.js';
import { Hedging } from '../hedging/hedging.js';
import { RateLimiter } from '../rate-limiter/rate-limiter.js';
import { Retry } from '../retry/retry.js';
import { FakeClock } from '../testing/fake-clock.js';
import { Timeout } from '../timeout/timeout.js';
import { knownOptions, mergeUpdate, prepareUpdate } from './update.js';

describe('update(): hostile values', () => {
  const clock = new FakeClock();
  const cases: [string, { update(partial: object): void }, string, (p: object) => unknown][] = [
    ['CircuitBreaker', new CircuitBreaker({ clock }), 'timeout', (p) => (p as CircuitBreaker).toJSON().state],
    ['Retry', new Retry({ clock }), 'maxAttempts', (p) => (p as Retry).maxAttempts],
    ['Timeout', new Timeout({ clock }), 'defaultTimeout', (p) => (p as Timeout).defaultTimeout],
    ['Bulkhead', new Bulkhead({ clock, maxConcurrent: 2 }), 'maxConcurrent', (p) => (p as Bulkhead).maxConcurrent],
    ['RateLimiter', new RateLimiter({ clock, rate: 2 }), 'rate', (p) => (p as RateLimiter).rate],
  ];
  it.each(cases)(
    '%s refuses NaN, negative, huge-but-invalid and non-numbers, naming the option, and keeps its settings',
    (owner, policy, option, read) => {
      const before = read(policy);
      for (const bad of [Number.NaN, -1, Number.NEGATIVE_INFINITY, '5', null, {}]) {
        expect(() => policy.update({ [option]: bad })).toThrow(new RegExp(`${owner}: ${option} must be`));
        expect(read(policy)).toEqual(before);
      }
      expect(() => policy.update([] as never)).toThrow(`${owner}: update() takes an object of options, got an array`);
    },
  );

  it('Fallback refuses a missing fallback and a non-function hook', () => {
    const fallback = new Fallback({ fallback: 1 });
    expect(() => fallback.update({ onFallback: 'x' as never })).toThrow(/Fallback: onFallback must be a function/);
    expect(() => fallback.update({ name: 'other' })).toThrow(/Fallback: name cannot be changed by update\(\)/);
  });

  it('mergeUpdate keeps the current value of a fixed option given again unchanged', () => {
    const clock = new FakeClock();
    expect(mergeUpdate('X', { clock, a: 1 }, { clock, a: 2 }, ['clock', 'a'])).toEqual({ clock, a: 2 });
  });

  it('prepareUpdate refuses what is not a pattern', () => {
    expect(() => prepareUpdate({}, {})).toThrow('an object cannot be updated');
  });
});

describe('knownOptions', () => {
  const build: Record<keyof typeof knownOptions, (config: Record<string, unknown>) => unknown> = {
    circuitBreaker: (c) => new CircuitBreaker(c),
    retry: (c) => new Retry(c),
    timeout: (c) => new Timeout(c),
    bulkhead: (c) => new Bulkhead({ maxConcurrent: 1, ...c } as never),
    rateLimiter: (c) => new RateLimiter({ rate: 1, ...c } as never),
    adaptiveBulkhead: (c) => new AdaptiveBulkhead(c),
    adaptiveThrottle: (c) => new AdaptiveThrottle(c),
    hedging: (c) => new Hedging({ delay: 1, ...c } as never),
    chaos: (c) => new Chaos({ rate: 0, ...('latency' in c ? { result: 1 } : { latency: 1 }), ...c } as never),
  };

  it('lists only options the constructors accept (they refuse unknown keys, even undefined ones)', () => {
    for (const [kind, options] of Object.entries(knownOptions) as [keyof typeof knownOptions, readonly string[]][]) {
      for (const option of options) {
        if (option === 'maxConcurrent' || option === 'rate' || option === 'delay') continue;
        expect(() => build[kind]({ [option]: undefined }), `${kind}.${option}`).not.toThrow();
      }
      expect(() => build[kind]({ notAnOption: undefined }), kind).toThrow(/unknown option "notAnOption"/);
    }
  });

  it('lists every option the constructors accept, so update() and configure() know a new one (a guard for merges)', () => {
    for (const [kind, options] of Object.entries(knownOptions) as [keyof typeof knownOptions, readonly string[]][]) {
      let message = '';
      try {
        build[kind]({ notAnOption: 1 });
      } catch (err) {
        message = (err as Error).message;
      }
      const accepted = /known options: ([^)]*)\)/.exec(message)?.[1]?.split(', ') ?? [];
      expect(accepted.length, kind).toBeGreaterThan(0);
      expect([...options].sort(), kind).toEqual(accepted.sort());
    }
  });
});
