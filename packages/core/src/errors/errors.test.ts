import { describe, expect, it } from 'vitest';
import {
  BulkheadFullError,
  CircuitOpenError,
  ErrorCode,
  isBulkheadFullError,
  isCircuitOpenError,
  isMaxAttemptsReachedError,
  isRateLimitExceededError,
  isResilienceError,
  isTimeoutError,
  MaxAttemptsReachedError,
  RateLimitExceededError,
  ResilienceError,
  TimeoutError,
} from './index.js';

const guards = [
  isCircuitOpenError,
  isRateLimitExceededError,
  isBulkheadFullError,
  isTimeoutError,
  isMaxAttemptsReachedError,
] as const;

const cases = [
  {
    make: () => new CircuitOpenError({ retryAfterMs: 250 }),
    cls: CircuitOpenError,
    code: 'ERR_CIRCUIT_OPEN',
    message: 'Circuit breaker is open',
    guard: isCircuitOpenError,
    extra: { retryAfterMs: 250 },
  },
  {
    make: () => new RateLimitExceededError({ retryAfterMs: 40 }),
    cls: RateLimitExceededError,
    code: 'ERR_RATE_LIMIT_EXCEEDED',
    message: 'Rate limit exceeded',
    guard: isRateLimitExceededError,
    extra: { retryAfterMs: 40 },
  },
  {
    make: () => new BulkheadFullError(),
    cls: BulkheadFullError,
    code: 'ERR_BULKHEAD_FULL',
    message: 'Bulkhead is full',
    guard: isBulkheadFullError,
    extra: {},
  },
  {
    make: () => new TimeoutError({ timeoutMs: 1500 }),
    cls: TimeoutError,
    code: 'ERR_TIMEOUT',
    message: 'Operation timed out after 1500 ms',
    guard: isTimeoutError,
    extra: { timeoutMs: 1500 },
  },
  {
    make: () => new MaxAttemptsReachedError({ attempts: 3, cause: new Error('last') }),
    cls: MaxAttemptsReachedError,
    code: 'ERR_MAX_ATTEMPTS_REACHED',
    message: 'Gave up after 3 attempts',
    guard: isMaxAttemptsReachedError,
    extra: { attempts: 3 },
  },
];

describe.each(cases)('$cls.name', ({ make, cls, code, message, guard, extra }) => {
  it('carries its code, default message, name and extra fields', () => {
    const err = make();
    expect(err).toBeInstanceOf(cls);
    expect(err).toBeInstanceOf(ResilienceError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(code);
    expect(err.message).toBe(message);
    expect(err.name).toBe(cls.name);
    expect(err).toMatchObject(extra);
    expect(typeof err.stack).toBe('string');
  });

  it('is recognised by its own guard only', () => {
    const err = make();
    expect(guard(err)).toBe(true);
    expect(isResilienceError(err)).toBe(true);
    for (const other of guards) if (other !== guard) expect(other(err)).toBe(false);
  });

  it('is recognised by code when it comes from another copy of the core', () => {
    const foreign = Object.assign(new Error('from another copy'), { code });
    expect(guard(foreign)).toBe(true);
    expect(isResilienceError(foreign)).toBe(true);
  });
});

describe('error options', () => {
  it('keeps the cause and a custom message', () => {
    const cause = new Error('upstream');
    const err = new CircuitOpenError({ cause, message: 'payments breaker open', retryAfterMs: 10 });
    expect(err.cause).toBe(cause);
    expect(err.message).toBe('payments breaker open');
  });

  it('leaves retryAfterMs undefined when unknown', () => {
    expect(new CircuitOpenError().retryAfterMs).toBeUndefined();
    expect(new RateLimitExceededError().retryAfterMs).toBeUndefined();
  });

  it('says "attempt" for a single attempt', () => {
    expect(new MaxAttemptsReachedError({ attempts: 1 }).message).toBe('Gave up after 1 attempt');
  });

  it('names TimeoutError "TimeoutError" like the DOM does', () => {
    expect(new TimeoutError({ timeoutMs: 1 }).name).toBe('TimeoutError');
  });

  it('gives the base class the code it is given', () => {
    const err = new ResilienceError('ERR_CUSTOM', 'custom');
    expect(err.code).toBe('ERR_CUSTOM');
    expect(err.name).toBe('ResilienceError');
    expect(isResilienceError(err)).toBe(false);
  });
});

describe('guards reject what is not an error of theirs', () => {
  const values: unknown[] = [
    undefined,
    null,
    'ERR_TIMEOUT',
    42,
    { code: ErrorCode.Timeout },
    new Error('plain'),
    Object.assign(new Error('other'), { code: 'ECONNRESET' }),
  ];
  it.each(values)('%s', (value) => {
    for (const guard of guards) expect(guard(value)).toBe(false);
    expect(isResilienceError(value)).toBe(false);
  });
});
