import { describe, expect, it } from 'vitest';
import { Fallback } from './fallback.js';

const boom = new Error('boom');

describe('Fallback.on and update', () => {
  it("reports 'fallback' after onFallback; update changes the fallback and validates first", async () => {
    const order: string[] = [];
    const fallback = new Fallback<string>({ fallback: 'cached', onFallback: () => order.push('hook') });
    fallback.on('fallback', ({ error }) => order.push(error === boom ? 'event' : 'other'));
    await expect(fallback.execute(() => Promise.reject(boom))).resolves.toBe('cached');
    expect(order).toEqual(['hook', 'event']);
    expect(() => fallback.update({ shouldHandle: 5 as never })).toThrow(
      /Fallback: shouldHandle must be a function, got 5/,
    );
    expect(() => fallback.update({ fallbak: 'x' } as never)).toThrow(/unknown option "fallbak"/);
    fallback.update({ fallback: () => 'fresh', shouldHandle: (err) => err === boom });
    await expect(fallback.execute(() => Promise.reject(boom))).resolves.toBe('fresh');
    await expect(fallback.execute(() => Promise.reject('other'))).rejects.toBe('other');
  });
});
