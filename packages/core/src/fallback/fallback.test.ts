import { describe, expect, it, vi } from 'vitest';
import { inMemoryTracing } from '../../test/support.js';
import { asMiddleware, chain } from '../compose/middleware.js';
import type { ExecutionContext } from '../context.js';
import { TimeoutError } from '../errors/errors.js';
import { rootContext } from '../internal/context.js';
import type { Logger } from '../observability/types.js';
import { Retry } from '../retry/retry.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from '../timeout/timeout.js';
import { Fallback } from './fallback.js';

describe('Fallback', () => {
  it('passes a success through without calling the fallback', async () => {
    const fallback = vi.fn(() => 'fallback');
    const fb = new Fallback<string>({ fallback });
    await expect(fb.execute(async () => 'real')).resolves.toBe('real');
    await expect(fb.execute(() => 'sync')).resolves.toBe('sync');
    expect(fallback).not.toHaveBeenCalled();
  });

  it('replaces a failure with the fallback result, given the error and the context', async () => {
    const seen: unknown[] = [];
    const fb = new Fallback<string>({
      fallback: async (err, ctx) => {
        seen.push(err, ctx);
        return 'cached';
      },
    });
    const failure = new Error('down');
    await expect(fb.execute(() => Promise.reject(failure))).resolves.toBe('cached');
    expect(seen).toEqual([failure, rootContext]);
  });

  it('handles sync throws and non-Error values', async () => {
    const fb = new Fallback<string>({ fallback: (err) => `got ${String(err)}` });
    await expect(
      fb.execute(() => {
        throw 'oops';
      }),
    ).resolves.toBe('got oops');
    await expect(fb.execute(() => Promise.reject(undefined))).resolves.toBe('got undefined');
  });

  it('accepts a plain value', async () => {
    const fb = new Fallback<number[]>({ fallback: [] });
    await expect(fb.execute(() => Promise.reject(new Error('x')))).resolves.toEqual([]);
  });

  it('rethrows failures shouldHandle refuses, and those it throws on (logged)', async () => {
    const records: string[] = [];
    const logger = {
      debug: (msg: string) => records.push(`debug: ${msg}`),
      info: () => {},
      warn: () => {},
      error: (msg: string) => records.push(`error: ${msg}`),
    } as Logger;
    const fb = new Fallback<string>({
      fallback: 'fb',
      logger,
      shouldHandle: (err) => {
        if (err === 'broken') throw new Error('classifier broke');
        return err instanceof TimeoutError;
      },
    });
    const other = new Error('other');
    await expect(fb.execute(() => Promise.reject(other))).rejects.toBe(other);
    await expect(fb.execute(() => Promise.reject('broken'))).rejects.toBe('broken');
    await expect(fb.execute(() => Promise.reject(new TimeoutError({ timeoutMs: 1 })))).resolves.toBe('fb');
    expect(records).toEqual(['error: shouldHandle threw', 'debug: falling back']);
  });

  it('lets the error of a failing fallback reach the caller', async () => {
    const fallbackError = new Error('fallback failed too');
    const fb = new Fallback<string>({
      fallback: () => {
        throw fallbackError;
      },
    });
    await expect(fb.execute(() => Promise.reject(new Error('x')))).rejects.toBe(fallbackError);
  });

  it('calls onFallback with the failure; a throwing hook does not stop the fallback', async () => {
    const onFallback = vi.fn(() => {
      throw new Error('hook broke');
    });
    const fb = new Fallback<number>({ fallback: 0, onFallback });
    const failure = new Error('x');
    await expect(fb.execute(() => Promise.reject(failure))).resolves.toBe(0);
    expect(onFallback).toHaveBeenCalledWith(failure);
  });

  it("never replaces the caller's own abort", async () => {
    const fb = new Fallback<string>({ fallback: 'fb' });
    const reason = new Error('cancelled');
    const fn = vi.fn(async () => 'x');
    await expect(fb.execute(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
    const controller = new AbortController();
    await expect(
      fb.execute(
        (ctx: ExecutionContext) => {
          controller.abort(reason);
          return Promise.reject(ctx.signal.reason);
        },
        { signal: controller.signal },
      ),
    ).rejects.toBe(reason);
  });

  it('opens a span and marks whether the fallback was used', async () => {
    const { exporter, provider } = inMemoryTracing();
    const fb = new Fallback<string>({ fallback: 'fb', tracer: provider.getTracer('t') });
    await fb.execute(async () => 'ok');
    await fb.execute(() => Promise.reject(new Error('x')));
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.attributes['resilience.fallback.used'], s.status.code])).toEqual([
      ['resilience.fallback', undefined, 0],
      ['resilience.fallback', true, 0],
    ]);
  });

  it('composes with retry and timeout', async () => {
    const clock = new FakeClock();
    const fb = new Fallback<string>({ fallback: (err) => `fallback after ${(err as Error).name}` });
    const retry = new Retry<string>({ clock, maxAttempts: 2, initialDelay: 10 });
    const timeout = new Timeout<string>({ clock, defaultTimeout: 50 });
    const handler = chain(
      asMiddleware<string>(fb),
      asMiddleware<string>(retry),
      asMiddleware<string>(timeout),
    )(() => new Promise<string>(() => {}));
    const done = handler(rootContext);
    await clock.advance(50);
    await clock.advance(10);
    await clock.advance(50);
    await expect(done).resolves.toBe('fallback after MaxAttemptsReachedError');
  });

  it("passes a Timeout's context through, and never falls back once its caller aborted", async () => {
    const clock = new FakeClock();
    const timeout = new Timeout<string>({ clock, defaultTimeout: 100 });
    const fb = new Fallback<string>({ fallback: 'fb' });
    const seen: ExecutionContext[] = [];
    await expect(
      timeout.execute((ctx) => {
        seen.push(ctx);
        return fb.execute((inner) => {
          seen.push(inner);
          return Promise.reject(new Error('x'));
        }, ctx);
      }),
    ).resolves.toBe('fb');
    expect(seen[1]).toBe(seen[0]);
    const caller = new AbortController();
    const reason = new Error('gone');
    await expect(
      timeout.execute(
        (ctx) => {
          caller.abort(reason);
          return fb.execute(async () => 'late', ctx);
        },
        { signal: caller.signal },
      ),
    ).rejects.toBe(reason);
  });

  it('requires a fallback and validates the hooks', () => {
    expect(() => new Fallback(undefined as never)).toThrow('Fallback: fallback is required');
    expect(() => new Fallback({} as never)).toThrow('Fallback: fallback is required');
    expect(() => new Fallback({ fallback: 1, shouldHandle: 1 as never })).toThrow('shouldHandle');
    expect(() => new Fallback({ fallback: 1, onFallback: 'x' as never })).toThrow('onFallback');
  });
});
