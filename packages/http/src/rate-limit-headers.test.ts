import { describe, expect, it } from 'vitest';
import { headerInteger, MAX_HEADER_INTEGER, RateLimitHeaders } from './rate-limit-headers.js';

function written(
  headers: RateLimitHeaders,
  decision: Parameters<RateLimitHeaders['write']>[1],
): Record<string, string> {
  const out: Record<string, string> = {};
  headers.write(out, decision, (target, name, value) => {
    target[name] = value;
  });
  return out;
}

const base = { policyName: 'default', burst: 100, rate: 100, interval: 60_000 };
const decision = { allowed: true, limit: 100, remaining: 99.6, resetMs: 1_200, retryAfterMs: 0 };

describe('RateLimitHeaders', () => {
  it('writes draft-7, draft-8, legacy, or nothing', () => {
    expect(written(new RateLimitHeaders({ ...base, standard: 'draft-7', legacy: false }), decision)).toEqual({
      RateLimit: 'limit=100, remaining=99, reset=2',
      'RateLimit-Policy': '100;w=60',
    });
    expect(written(new RateLimitHeaders({ ...base, standard: 'draft-8', legacy: false }), decision)).toEqual({
      RateLimit: '"default";r=99;t=2',
      'RateLimit-Policy': '"default";q=100;w=60',
    });
    const legacy = written(new RateLimitHeaders({ ...base, standard: false, legacy: true }), decision);
    expect(Object.keys(legacy)).toEqual(['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']);
    const none = new RateLimitHeaders({ ...base, standard: false, legacy: false });
    expect(none.enabled).toBe(false);
    expect(none.firstHeader).toBeUndefined();
    expect(written(none, decision)).toEqual({});
  });

  it('refuses at construction what would write broken headers, or none, naming the field and the value', () => {
    const ok = { ...base, standard: 'draft-8', legacy: false } as const;
    const cases: [unknown, string][] = [
      [undefined, 'settings must be an object, got undefined'],
      [{ ...ok, standard: 'draft-9' }, 'standard must be one of "draft-7", "draft-8", false, got "draft-9"'],
      [{ ...ok, legacy: 'no' }, 'legacy must be a boolean, got "no"'],
      // A newline used to be written into every response, where Node refuses it (ERR_INVALID_CHAR).
      [{ ...ok, policyName: 'a\nb' }, 'policyName must be a string of printable ASCII, got "a\\nb"'],
      [{ ...ok, policyName: 'é' }, 'policyName must be a string of printable ASCII, got "é"'],
      [{ ...ok, rate: Number.NaN }, 'rate must be a finite number > 0, got NaN'],
      [{ ...ok, burst: -5 }, 'burst must be a finite number > 0, got -5'],
      [{ ...ok, interval: Number.POSITIVE_INFINITY }, 'interval must be a finite number > 0, got Infinity'],
      [{ ...ok, standard: false, legacy: true, rate: 0 }, 'rate must be a finite number > 0, got 0'],
    ];
    for (const [settings, message] of cases) {
      expect(() => new RateLimitHeaders(settings as never), message).toThrow(
        new TypeError(`RateLimitHeaders: ${message}`),
      );
    }
    // Writing nothing needs no limiter numbers (a limiter of another library may not have them).
    const none = new RateLimitHeaders({ ...ok, standard: false, rate: Number.NaN, burst: undefined as never });
    expect(none.enabled).toBe(false);
  });

  it('headerInteger gives an integer a client can parse for any number', () => {
    const cases: [number, number][] = [
      [5, 5],
      [5.9, 5],
      [0.4, 0], // was 0.4
      [1e-7, 0], // was 1e-7, written "1e-7"
      [-3, 0],
      [Number.NaN, 0],
      [Number.POSITIVE_INFINITY, MAX_HEADER_INTEGER],
      [1e300, MAX_HEADER_INTEGER],
    ];
    for (const [value, expected] of cases) expect(headerInteger(value), String(value)).toBe(expected);
  });

  it('never writes a negative remaining or reset', () => {
    const headers = new RateLimitHeaders({ ...base, standard: 'draft-7', legacy: false });
    expect(written(headers, { ...decision, remaining: -3, resetMs: -10 }).RateLimit).toBe(
      'limit=100, remaining=0, reset=0',
    );
  });
});
