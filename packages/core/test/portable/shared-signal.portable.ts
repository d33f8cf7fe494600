// What differs most between runtimes: abort signals shared by many calls, and
// the platform timers of the default clock (real time, bounded to milliseconds).
import { Bulkhead, Retry, systemClock, Timeout, TimeoutError } from '@resilience/core';
import { describe, expect, flush, it, rejects, track } from './harness.ts';

describe('one caller signal shared by many calls', () => {
  it('10,000 queued calls on one signal all leave at once with its reason when it aborts', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 20_000 });
    let release!: () => void;
    const running = bulkhead.execute(
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    const controller = new AbortController();
    const calls = Array.from({ length: 10_000 }, () =>
      track(bulkhead.execute(() => 'ran', { signal: controller.signal })),
    );
    await flush();
    expect(bulkhead.queued).toBe(10_000);
    const reason = new Error('shared abort');
    controller.abort(reason);
    const results = await Promise.all(calls.map((c) => c.result));
    expect(results.every((r) => r.error === reason)).toBe(true);
    expect(bulkhead.queued).toBe(0);
    release();
    await running;
  });

  it('100,000 calls through a retry on one signal succeed without a listener warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    const proc = (globalThis as { process?: { on?: unknown; off?: unknown } }).process;
    const listen = typeof proc?.on === 'function' && typeof proc.off === 'function';
    if (listen) (proc.on as (e: string, f: typeof onWarning) => void).call(proc, 'warning', onWarning);
    try {
      const retry = new Retry<number>({ maxAttempts: 2, initialDelay: 0 });
      const { signal } = new AbortController();
      const calls: Promise<number>[] = [];
      for (let i = 0; i < 100_000; i++) calls.push(retry.execute(() => i, { signal }));
      const values = await Promise.all(calls);
      expect(values.length).toBe(100_000);
      expect(values[99_999]).toBe(99_999);
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(warnings.filter((name) => name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      if (listen) (proc.off as (e: string, f: typeof onWarning) => void).call(proc, 'warning', onWarning);
    }
  });
});

describe('the default clock (real platform timers)', () => {
  it('a Timeout fires on real time and its timer does not outlive the test', async () => {
    const timeout = new Timeout({ clock: systemClock, defaultTimeout: 20 });
    await rejects(
      timeout.execute(() => new Promise<never>(() => {})),
      TimeoutError,
    );
    expect(await timeout.execute(() => 'in time')).toBe('in time');
  });

  it('a Retry waits its backoff on real time', async () => {
    const retry = new Retry<string>({ maxAttempts: 2, initialDelay: 5, jitter: false });
    let n = 0;
    expect(
      await retry.execute(() => {
        n++;
        if (n === 1) throw new Error('first');
        return 'second';
      }),
    ).toBe('second');
    expect(n).toBe(2);
  });
});
