import { describe, expect, it } from 'vitest';
import {
  booleanOption,
  clockOption,
  configObject,
  describeValue,
  functionOption,
  numberOption,
  oneOfOption,
  requiredNumber,
  requireMethod,
  stringOption,
} from './validate.js';

describe('numberOption', () => {
  it('returns the fallback for undefined and the value when valid', () => {
    expect(numberOption('P', 'n', undefined, 5)).toBe(5);
    expect(numberOption('P', 'n', 3, 5, { min: 0 })).toBe(3);
    expect(numberOption('P', 'n', 0, 5, { min: 0 })).toBe(0);
  });

  it('names the owner, the option and the value', () => {
    expect(() => numberOption('Bulkhead', 'maxConcurrent', -1, 1, { min: 1, integer: true })).toThrow(
      new RangeError('Bulkhead: maxConcurrent must be an integer >= 1, got -1'),
    );
    expect(() => numberOption('Retry', 'multiplier', Number.NaN, 2, { min: 1 })).toThrow(
      'Retry: multiplier must be a finite number >= 1, got NaN',
    );
    expect(() => numberOption('CircuitBreaker', 'rate', 1.5, 0, { min: 0, max: 1 })).toThrow(
      'CircuitBreaker: rate must be a finite number >= 0 and <= 1, got 1.5',
    );
    expect(() => numberOption('RateLimiter', 'rate', 0, 1, { min: 0, minExclusive: true })).toThrow(
      'RateLimiter: rate must be a finite number > 0, got 0',
    );
  });

  it('refuses non-numbers with a TypeError that shows the value', () => {
    expect(() => numberOption('P', 'n', '5', 1)).toThrow(new TypeError('P: n must be a finite number, got "5"'));
    expect(() => numberOption('P', 'n', null, 1)).toThrow('got null');
    expect(() => numberOption('P', 'n', 5n, 1)).toThrow('got 5n');
    expect(() => numberOption('P', 'n', {}, 1)).toThrow('got an object');
    expect(() => numberOption('P', 'n', [], 1)).toThrow('got an array');
    expect(() => numberOption('P', 'n', () => 1, 1)).toThrow('got a function');
  });

  it('refuses Infinity unless allowed, and then allows it for integers too', () => {
    expect(() => numberOption('P', 'n', Number.POSITIVE_INFINITY, 1)).toThrow('got Infinity');
    expect(numberOption('P', 'n', Number.POSITIVE_INFINITY, 1, { allowInfinity: true, integer: true })).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(() => numberOption('P', 'n', Number.NEGATIVE_INFINITY, 1, { allowInfinity: true })).toThrow(
      'P: n must be a finite number (or Infinity), got -Infinity',
    );
  });

  it('requiredNumber refuses undefined', () => {
    expect(() => requiredNumber('Timeout', 'timeout', undefined, { min: 0 })).toThrow(
      new TypeError('Timeout: timeout must be a finite number >= 0, got undefined'),
    );
  });
});

describe('other options', () => {
  it('functionOption', () => {
    const fn = () => 1;
    expect(functionOption('P', 'onRetry', fn)).toBe(fn);
    expect(functionOption('P', 'onRetry', undefined)).toBeUndefined();
    expect(() => functionOption('P', 'onRetry', 'x' as never)).toThrow(
      new TypeError('P: onRetry must be a function, got "x"'),
    );
  });

  it('oneOfOption', () => {
    const algorithms = ['token-bucket', 'sliding-window'] as const;
    expect(oneOfOption('R', 'algorithm', undefined, algorithms, 'token-bucket')).toBe('token-bucket');
    expect(oneOfOption('R', 'algorithm', 'sliding-window', algorithms, 'token-bucket')).toBe('sliding-window');
    expect(() => oneOfOption('R', 'algorithm', 'leaky', algorithms, 'token-bucket')).toThrow(
      new RangeError('R: algorithm must be one of "token-bucket", "sliding-window", got "leaky"'),
    );
    expect(() => oneOfOption('R', 'algorithm', 3, algorithms, 'token-bucket')).toThrow('got 3');
  });

  it('booleanOption and stringOption', () => {
    expect(booleanOption('P', 'jitter', undefined, true)).toBe(true);
    expect(booleanOption('P', 'jitter', false, true)).toBe(false);
    expect(() => booleanOption('P', 'jitter', 'yes', true)).toThrow('P: jitter must be a boolean, got "yes"');
    expect(stringOption('P', 'name', undefined, 'x')).toBe('x');
    expect(stringOption('P', 'name', 'y', 'x')).toBe('y');
    expect(() => stringOption('P', 'name', 1, 'x')).toThrow('P: name must be a string, got 1');
  });

  it('configObject', () => {
    expect(configObject('P', undefined)).toEqual({});
    const config = { a: 1 };
    expect(configObject('P', config)).toBe(config);
    expect(() => configObject('P', null as never)).toThrow(new TypeError('P: config must be an object, got null'));
    expect(() => configObject('P', 5 as never)).toThrow('got 5');
  });
});

describe('adapter helpers', () => {
  it('describeValue names the kind of a bad value', () => {
    expect(describeValue('x')).toBe('"x"');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(Symbol('s'))).toBe('Symbol(s)');
  });

  it('configObject names the argument it checks', () => {
    expect(() => configObject('rateLimit', 'fast' as never, 'options')).toThrow(
      new TypeError('rateLimit: options must be an object, got "fast"'),
    );
  });

  it('oneOfOption accepts literals other than strings', () => {
    expect(oneOfOption('P', 'legacy', true, [true, false], false)).toBe(true);
    expect(() => oneOfOption('P', 'legacy', 'yes', [true, false], false)).toThrow(
      'P: legacy must be one of true, false, got "yes"',
    );
  });

  it('requireMethod checks for a method and says which', () => {
    expect(() => requireMethod('bulkhead', 'bh', { execute() {} }, 'execute')).not.toThrow();
    expect(() => requireMethod('bulkhead', 'bh', {}, 'execute')).toThrow(
      new TypeError('bulkhead: bh must have an execute() method, got an object'),
    );
    expect(() => requireMethod('rateLimit', 'limiter', null, 'consume')).toThrow(
      'rateLimit: limiter must have a consume() method, got null',
    );
    expect(() => requireMethod('x', 'f', () => {}, 'execute')).toThrow('got a function');
  });

  it('clockOption takes a clock-shaped object or the system clock', () => {
    const clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} };
    expect(clockOption('P', clock)).toBe(clock);
    expect(clockOption('P', undefined).now()).toBeGreaterThan(0);
    expect(() => clockOption('P', { now: () => 0 })).toThrow(
      'P: clock must be an object with now(), setTimeout() and clearTimeout(), got an object',
    );
  });
});
