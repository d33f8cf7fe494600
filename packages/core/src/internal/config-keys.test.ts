import { describe, expect, it } from 'vitest';
import { checkConfigKeys, knownKeys } from './config-keys.js';

describe('checkConfigKeys', () => {
  const known = knownKeys(['a', 'b']);

  it('accepts known keys and the observability options', () => {
    expect(() => checkConfigKeys('X', { a: 1, name: 'n', logger: undefined }, known, {})).not.toThrow();
  });

  it('names the first unknown key and the known ones, or the peer hint', () => {
    expect(() => checkConfigKeys('X', { a: 1, c: 2 }, known, {})).toThrow(
      new TypeError('X: unknown option "c" (known options: a, b, name, logger, tracer, metrics)'),
    );
    expect(() => checkConfigKeys('X', { retries: 2 }, known, { retries: 'use "a"' })).toThrow(
      new TypeError('X: unknown option "retries" (use "a")'),
    );
    expect(() => checkConfigKeys('X', { z: 1 }, new Set(['kind']), {}, 'window.')).toThrow(
      new TypeError('X: unknown option "window.z" (known options: window.kind)'),
    );
  });

  it('does not take inherited hint names such as "toString" for hints, and skips inherited keys', () => {
    expect(() => checkConfigKeys('X', { toString: 1 }, known, {})).toThrow(/unknown option "toString" \(known options/);
    expect(() => checkConfigKeys('X', Object.create({ c: 1 }) as object, known, {})).not.toThrow();
  });
});
