import { describe, expect, it } from 'vitest';
import { breakerOnFakeClock } from '../../test/support.js';
import { CircuitOpenError } from '../errors/errors.js';

const setup = breakerOnFakeClock;

describe('CircuitBreaker: acquire() and CircuitPermit', () => {
  it('counts the admission, then the reported outcome', () => {
    const { breaker } = setup();
    const permit = breaker.acquire();
    expect(breaker.counts.requests).toBe(1);
    permit.success();
    breaker.acquire().failure();
    expect(breaker.counts).toEqual({
      requests: 2,
      totalSuccesses: 1,
      totalFailures: 1,
      consecutiveSuccesses: 0,
      consecutiveFailures: 1,
    });
  });

  it('counts only the first report of a permit', () => {
    const { breaker } = setup({ readyToTrip: (c) => c.totalFailures >= 2 });
    const permit = breaker.acquire();
    permit.failure();
    permit.failure();
    permit.success();
    permit.ignore();
    expect(breaker.counts).toMatchObject({ requests: 1, totalFailures: 1, totalSuccesses: 0 });
    expect(breaker.state).toBe('closed');
  });

  it('throws CircuitOpenError with retryAfterMs when not admitted, changing no count', async () => {
    const { breaker, clock } = setup({ readyToTrip: () => true, timeout: 1000 });
    breaker.acquire().failure();
    await clock.advance(250);
    let thrown: unknown;
    try {
      breaker.acquire();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CircuitOpenError);
    expect((thrown as CircuitOpenError).retryAfterMs).toBe(750);
    expect(breaker.counts.requests).toBe(0);
  });

  it('runs half-open probes with maxRequests slots; ignore() frees a slot', async () => {
    const { breaker, clock, transitions } = setup({ readyToTrip: () => true, timeout: 10, maxRequests: 2 });
    breaker.acquire().failure();
    await clock.advance(11);
    const first = breaker.acquire();
    const second = breaker.acquire();
    expect(() => breaker.acquire()).toThrow(CircuitOpenError);
    second.ignore();
    const third = breaker.acquire();
    first.success();
    third.success();
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('ignores a report from an earlier generation', async () => {
    const { breaker, clock, transitions } = setup({ readyToTrip: () => true, timeout: 10 });
    const early = breaker.acquire();
    breaker.acquire().failure();
    await clock.advance(11);
    expect(breaker.state).toBe('half-open');
    early.success();
    expect(breaker.state).toBe('half-open');
    expect(breaker.counts.totalSuccesses).toBe(0);
    expect(transitions).toEqual(['closed->open', 'open->half-open']);
  });

  it('passes a reported error through isIgnored and isSuccessful', () => {
    const { breaker } = setup({
      isIgnored: (e) => e === 'client went away',
      isSuccessful: (e) => e === 'not found',
    });
    breaker.acquire().failure('client went away');
    breaker.acquire().failure('not found');
    breaker.acquire().failure(new Error('500'));
    expect(breaker.counts).toMatchObject({ requests: 2, totalSuccesses: 1, totalFailures: 1 });
  });

  it('measures slow calls from acquire to report', async () => {
    const { breaker, clock, transitions } = setup({
      window: { kind: 'count', size: 2 },
      minimumCalls: 1,
      slowCallDuration: 50,
    });
    const permit = breaker.acquire();
    await clock.advance(51);
    permit.success();
    expect(transitions).toEqual(['closed->open']);
  });
});
