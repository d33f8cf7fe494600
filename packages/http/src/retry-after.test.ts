import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryAfterSeconds } from './retry-after.js';

describe('retryAfterSeconds', () => {
  it('rounds up to whole seconds, at least 1, and refuses what is not finite', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(undefined)).toBeUndefined();
    expect(retryAfterSeconds(Number.NaN)).toBeUndefined();
    expect(retryAfterSeconds(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Sun, 06 Dec 2026 12:00:00 GMT');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date, a past one as 0', () => {
    expect(parseRetryAfter('Sun, 06 Dec 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 06 Dec 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('gives undefined, never NaN, for anything else', () => {
    for (const bad of [null, undefined, '', '-1', '1.5', 'soon', '1e3', 'Sun, 06 Dec 2026', '2026-12-06T12:00:30Z']) {
      expect(parseRetryAfter(bad, now), String(bad)).toBeUndefined();
    }
    expect(parseRetryAfter('9'.repeat(400), now)).toBeUndefined();
  });
});
