import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../../test/support.js';
import { MaxAttemptsReachedError } from '../errors/errors.js';
import { FakeClock } from '../testing/fake-clock.js';
import { Retry } from './retry.js';

const boom = new Error('boom');

describe('Retry.on', () => {
  it("reports 'retry' after onRetry and 'giveUp' with what the caller gets", async () => {
    const order: string[] = [];
    const retry = new Retry({ maxAttempts: 3, initialDelay: 0, onRetry: (attempt) => order.push(`hook ${attempt}`) });
    const seen: unknown[] = [];
    retry.on('retry', (e) => {
      order.push(`event ${e.attempt}`);
      seen.push(e);
    });
    retry.on('giveUp', (e) => seen.push(e));
    const failure = await retry.execute(() => Promise.reject(boom)).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(MaxAttemptsReachedError);
    expect(order).toEqual(['hook 1', 'event 1', 'hook 2', 'event 2']);
    expect(seen).toEqual([
      { attempt: 1, error: boom, delayMs: 0 },
      { attempt: 2, error: boom, delayMs: 0 },
      { attempts: 3, error: failure },
    ]);
  });

  it("reports a non-retryable error as 'giveUp', a success and an abort as nothing", async () => {
    class Fatal extends Error {}
    const retry = new Retry<number>({ nonRetryableErrors: [Fatal], initialDelay: 0, retryOnResult: (n) => n < 0 });
    const seen: unknown[] = [];
    retry.on('giveUp', (e) => seen.push(e));
    retry.on('retry', (e) => seen.push(e));
    const fatal = new Fatal('no');
    await expect(retry.execute(() => Promise.reject(fatal))).rejects.toBe(fatal);
    let n = -2;
    await expect(retry.execute(() => n++)).resolves.toBe(0);
    const controller = new AbortController();
    await expect(
      retry.execute(
        () => {
          controller.abort('stop');
          throw boom;
        },
        { signal: controller.signal },
      ),
    ).rejects.toBe('stop');
    expect(seen).toEqual([
      { attempts: 1, error: fatal },
      { attempt: 1, result: -2, delayMs: 0 },
      { attempt: 2, result: -1, delayMs: 0 },
    ]);
  });

  it('a throwing listener is logged and the retry goes on', async () => {
    const logger = recordingLogger();
    const retry = new Retry({ initialDelay: 0, logger });
    retry.on('retry', () => {
      throw new Error('listener');
    });
    let calls = 0;
    await expect(retry.execute(() => (++calls < 2 ? Promise.reject(boom) : 'ok'))).resolves.toBe('ok');
    expect(logger.records.some((r) => r.level === 'error' && r.msg === 'listener for "retry" threw')).toBe(true);
  });
});

describe('Retry.update', () => {
  it('validates first and keeps the old settings on a bad value', async () => {
    const retry = new Retry({ maxAttempts: 2, initialDelay: 0 });
    expect(() => retry.update({ maxAttempts: 0 })).toThrow(/Retry: maxAttempts must be an integer/);
    expect(() => retry.update({ backoff: 'fibonacci' as never })).toThrow(/backoff must be one of/);
    expect(() => retry.update({ maxAtempts: 4 } as never)).toThrow(/unknown option "maxAtempts"/);
    expect(() => retry.update({ clock: new FakeClock() })).toThrow(/clock cannot be changed/);
    let calls = 0;
    await expect(retry.execute(() => Promise.reject(boom).finally(() => calls++))).rejects.toBeInstanceOf(
      MaxAttemptsReachedError,
    );
    expect(calls).toBe(2);
    expect(retry.maxAttempts).toBe(2);
  });

  it('changes limits, delays, classifiers and hooks for the next decisions', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ maxAttempts: 2, initialDelay: 0, clock });
    const hooked: number[] = [];
    retry.update({
      maxAttempts: 4,
      backoff: 'constant',
      initialDelay: 50,
      onRetry: (_a, _e, delay) => hooked.push(delay),
    });
    expect(retry.maxAttempts).toBe(4);
    let calls = 0;
    const pending = retry.execute(() => Promise.reject(boom).finally(() => calls++)).catch((e: unknown) => e);
    for (let i = 0; i < 4; i++) await clock.advance(50);
    expect(await pending).toBeInstanceOf(MaxAttemptsReachedError);
    expect(calls).toBe(4);
    expect(hooked).toEqual([50, 50, 50]);
    class Fatal extends Error {}
    retry.update({ nonRetryableErrors: [Fatal], metrics: undefined });
    calls = 0;
    await expect(retry.execute(() => Promise.reject(new Fatal()).finally(() => calls++))).rejects.toBeInstanceOf(Fatal);
    expect(calls).toBe(1);
  });

  it('a call between attempts makes its next decision with the new maxAttempts', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ maxAttempts: 10, initialDelay: 100, backoff: 'constant', clock });
    let calls = 0;
    const pending = retry.execute(() => Promise.reject(boom).finally(() => calls++)).catch((e: unknown) => e);
    await clock.advance(0);
    expect(calls).toBe(1);
    retry.update({ maxAttempts: 2 });
    await clock.runAll();
    const error = (await pending) as MaxAttemptsReachedError;
    expect(error.attempts).toBe(2);
  });
});
