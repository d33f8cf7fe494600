import { describe, expect, it } from 'vitest';
import { reportCall } from './breaker-call.js';
import { rateLimitOptionHints } from './option-hints.js';
import { MAX_HEADER_INTEGER, RateLimitHeaders } from './rate-limit-headers.js';
import { requestKey } from './rate-limit-settings.js';
import { prepareBody, Rejection } from './rejection.js';
import { retryAfterSeconds } from './retry-after.js';
import { rejectUnknownOptions } from './status.js';
import { ignoreRejection } from './sync.js';

describe('requestKey', () => {
  it('takes a string, makes a finite number a string, refuses anything else naming the value', () => {
    expect(requestKey('rateLimit', 'key(req)', 'a')).toBe('a');
    expect(requestKey('rateLimit', 'key(req)', 42)).toBe('42');
    expect(() => requestKey('rateLimit', 'key(req)', { id: 1 })).toThrow(
      new TypeError(
        'rateLimit: key(req) must return a string (or a finite number), got an object; use skip for requests that have no key',
      ),
    );
    for (const bad of [undefined, null, Number.NaN, Number.POSITIVE_INFINITY, 1n, Symbol('s'), true]) {
      expect(() => requestKey('rateLimit', 'key(req)', bad)).toThrow(TypeError);
    }
    expect(() => requestKey('rateLimit', 'key(req)', Promise.reject(new Error('x')))).toThrow('returned a promise');
  });
});

describe('rejectUnknownOptions', () => {
  it('names the option with its hint, or the known options', () => {
    expect(() => rejectUnknownOptions('rateLimit', { windowMs: 1 }, ['key'], rateLimitOptionHints)).toThrow(
      `rateLimit: unknown option "windowMs" (windowMs is the limiter's interval here`,
    );
    expect(() => rejectUnknownOptions('x', { kee: 1 }, ['key', 'cost'])).toThrow(
      new TypeError('x: unknown option "kee" (known options: key, cost)'),
    );
    // A name from Object.prototype is no hint.
    expect(() => rejectUnknownOptions('x', { toString: 1 }, ['key'], rateLimitOptionHints)).toThrow(
      'x: unknown option "toString" (known options: key)',
    );
    expect(() => rejectUnknownOptions('x', { key: 1 }, ['key'], rateLimitOptionHints)).not.toThrow();
  });
});

describe('bodies that cannot be sent', () => {
  it('prepareBody refuses what JSON cannot serialise', () => {
    for (const bad of [undefined, Symbol('s'), () => 1, 1n]) {
      expect(() => prepareBody(bad as never)).toThrow(TypeError);
    }
  });

  it('a static body is refused at construction, naming the owner; a dynamic one gives an empty body', () => {
    expect(() => new Rejection(503, Symbol('b') as never, {}, 'timeout')).toThrow(
      /^timeout: body must be a string, a JSON-serialisable object or a function \(req, error\) => either, got Symbol\(b\)$/,
    );
    for (const bad of [undefined, Symbol('s'), 1n, () => 1]) {
      expect(new Rejection(503, () => bad as never, {}, 'x').body(undefined, undefined).payload).toBe('');
    }
  });
});

describe('reportCall', () => {
  it('never throws, even when the predicates and every permit method throw', () => {
    const calls: string[] = [];
    const thrower = (name: string) => () => {
      calls.push(name);
      throw new Error(name);
    };
    const permit = { success: thrower('success'), failure: thrower('failure'), ignore: thrower('ignore') };
    const no = () => false;
    expect(() => reportCall(permit, undefined, true, 200, no, no)).not.toThrow();
    expect(() => reportCall(permit, undefined, false, 200, no, no)).not.toThrow();
    const bad = () => {
      throw new Error('predicate');
    };
    expect(() => reportCall(permit, { value: 1 }, true, 500, bad, bad)).not.toThrow();
    expect(calls).toEqual(['success', 'failure', 'ignore', 'failure', 'failure']);
  });

  it('reports in order: failing error, unfinished, failing status, success', () => {
    const seen: unknown[] = [];
    const permit = {
      success: () => seen.push('success'),
      failure: (e?: unknown) => seen.push(['failure', e]),
      ignore: () => seen.push('ignore'),
    };
    const yes = () => true;
    const fiveHundreds = (s: number) => s >= 500;
    reportCall(permit, { value: 'e' }, false, 200, yes, fiveHundreds);
    reportCall(permit, undefined, false, 500, yes, fiveHundreds);
    reportCall(permit, undefined, true, 503, yes, fiveHundreds);
    reportCall(permit, undefined, true, undefined, yes, fiveHundreds);
    reportCall(permit, undefined, true, 200, yes, fiveHundreds);
    expect(seen).toEqual([['failure', 'e'], 'ignore', ['failure', undefined], 'success', 'success']);
  });
});

describe('ignoreRejection', () => {
  it('handles a rejected promise and survives a throwing then', async () => {
    ignoreRejection(Promise.reject(new Error('async logger')));
    ignoreRejection({
      // biome-ignore lint/suspicious/noThenProperty: a hostile thenable whose then getter throws
      get then() {
        throw new Error('getter');
      },
    });
    ignoreRejection(undefined);
    ignoreRejection(5);
    await new Promise((resolve) => setTimeout(resolve, 10)); // an unhandled rejection would fail the run here
  });
});

describe('header numbers stay integers a client can parse', () => {
  it('clamps huge and negative values instead of writing 1e+305', () => {
    const out: Record<string, string> = {};
    const set = (o: Record<string, string>, k: string, v: string) => {
      o[k] = v;
    };
    for (const standard of ['draft-7', 'draft-8'] as const) {
      const headers = new RateLimitHeaders({
        standard,
        legacy: true,
        policyName: 'p',
        burst: 1e21,
        rate: 1e-9,
        interval: 1e300,
      });
      headers.write(out, { allowed: true, limit: 1e21, remaining: -5, resetMs: 1e308, retryAfterMs: 0 }, set);
      for (const value of Object.values(out)) expect(value).not.toMatch(/e\+|-\d|NaN|Infinity/);
    }
    expect(out['X-RateLimit-Limit']).toBe(String(MAX_HEADER_INTEGER));
    expect(retryAfterSeconds(1e308)).toBe(MAX_HEADER_INTEGER);
    expect(retryAfterSeconds(1)).toBe(1);
  });
});
