import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prepareBody, Rejection, utf8Length } from './rejection.js';

describe('Rejection', () => {
  it('prepares a static body once: strings as text, anything else as JSON', () => {
    const text = new Rejection(429, 'slow down', {});
    expect(text.body(undefined, undefined)).toBe(text.body(undefined, undefined));
    expect(text.body(undefined, undefined)).toEqual({
      contentType: 'text/plain; charset=utf-8',
      payload: 'slow down',
      byteLength: 9,
    });
    expect(new Rejection(503, undefined, { error: 'x' }).body(undefined, undefined).payload).toBe('{"error":"x"}');
  });

  it('calls a body function per rejection and survives one that throws or returns a promise', async () => {
    const dynamic = new Rejection<string>(503, (req, err) => ({ req, err: String(err) }), {});
    expect(dynamic.body('r', 'e').payload).toBe('{"req":"r","err":"e"}');
    const throwing = new Rejection(
      503,
      () => {
        throw new Error('boom');
      },
      {},
    );
    expect(throwing.body(undefined, undefined).payload).toBe('');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(new Rejection(503, () => cyclic, {}).body(undefined, undefined).payload).toBe('');
    const asynchronous = new Rejection(503, (async () => Promise.reject(new Error('late'))) as never, {});
    expect(asynchronous.body(undefined, undefined).payload).toBe('');
    await new Promise((resolve) => setTimeout(resolve, 10)); // an unhandled rejection would fail the run here
  });

  it('counts UTF-8 bytes as Buffer does', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => utf8Length(text) === Buffer.byteLength(text)),
      { numRuns: 5000 },
    );
    expect(prepareBody('caf\u00e9 \u{1f600}').byteLength).toBe(Buffer.byteLength('caf\u00e9 \u{1f600}'));
    expect(utf8Length('\ud800')).toBe(Buffer.byteLength('\ud800'));
  });
});
