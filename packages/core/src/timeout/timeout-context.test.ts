import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ExecutionContext } from '../context.js';
import { TimeoutError } from '../errors/errors.js';
import { contextAbortReason, isAbortedContext, neverAbortedSignal, rootContext } from '../internal/context.js';
import { Retry } from '../retry/retry.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from './timeout.js';
import { abortTimeoutContext, TimeoutContext } from './timeout-context.js';

describe('TimeoutContext: abort state without a signal', () => {
  it('reports no abort until the caller aborts, then the caller reason', () => {
    const caller = new AbortController();
    const ctx = new TimeoutContext(caller.signal, 1, 100);
    expect([ctx.aborted, ctx.abortReason]).toEqual([false, undefined]);
    const reason = new Error('caller');
    caller.abort(reason);
    expect([ctx.aborted, ctx.abortReason]).toEqual([true, reason]);
    expect([isAbortedContext(ctx), contextAbortReason(ctx)]).toEqual([true, reason]);
  });

  it('reports the TimeoutError once aborted with it, and the created signal agrees', () => {
    const ctx = new TimeoutContext(neverAbortedSignal, 1, 100);
    const error = new TimeoutError({ timeoutMs: 100 });
    abortTimeoutContext(ctx, error);
    expect([ctx.aborted, ctx.abortReason]).toEqual([true, error]);
    expect(ctx.signal.reason).toBe(error);
  });

  it('aborts a created signal, and the first reason wins', () => {
    const ctx = new TimeoutContext(neverAbortedSignal, 1, 100);
    const signal = ctx.signal;
    expect([ctx.aborted, ctx.abortReason]).toEqual([false, undefined]);
    const error = new TimeoutError({ timeoutMs: 100 });
    abortTimeoutContext(ctx, error);
    abortTimeoutContext(ctx, new Error('later'));
    expect(signal.aborted).toBe(true);
    expect([ctx.aborted, ctx.abortReason, signal.reason]).toEqual([true, error, error]);
  });

  it('is a plain context: JSON gives attempt and deadline, and nothing of the Timeout is reachable', () => {
    const ctx = new TimeoutContext(new AbortController().signal, 2, 100);
    void ctx.signal;
    expect(JSON.parse(JSON.stringify(ctx))).toEqual({ attempt: 2, deadline: 100 });
    expect(Object.keys(ctx).sort()).toEqual(['attempt', 'deadline']);
    const reachable = new Set<string>();
    for (
      let proto: object | null = ctx;
      proto !== null && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto)
    ) {
      for (const key of Reflect.ownKeys(proto)) reachable.add(String(key));
    }
    expect([...reachable].sort()).toEqual(['abortReason', 'aborted', 'attempt', 'constructor', 'deadline', 'signal']);
  });

  it('reads an ordinary context through its signal', () => {
    const reason = new Error('x');
    const ctx: ExecutionContext = { signal: AbortSignal.abort(reason), attempt: 1 };
    expect([isAbortedContext(ctx), contextAbortReason(ctx)]).toEqual([true, reason]);
    expect([isAbortedContext(rootContext), contextAbortReason(rootContext)]).toEqual([false, undefined]);
  });
});

describe('Timeout around Retry', () => {
  it('hands its own context through a Retry, so no signal is created for work that ignores it', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 100 });
    const retry = new Retry({ clock });
    const caller = new AbortController();
    let outer: ExecutionContext | undefined;
    let inner: ExecutionContext | undefined;
    let listeners = -1;
    await timeout.execute(
      (ctx) => {
        outer = ctx;
        return retry.execute(async (c) => {
          inner = c;
          listeners = getEventListeners(caller.signal, 'abort').length;
          return 1;
        }, ctx);
      },
      { signal: caller.signal },
    );
    expect(inner).toBe(outer);
    expect(listeners).toBe(0);
  });

  it('a Retry inside a Timeout whose caller aborted rejects with the reason without running the work', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 100 });
    const retry = new Retry({ clock });
    const caller = new AbortController();
    const reason = new Error('gone');
    let ran = false;
    const done = timeout.execute(
      async (ctx) => {
        caller.abort(reason);
        return retry.execute(async () => {
          ran = true;
        }, ctx);
      },
      { signal: caller.signal },
    );
    await expect(done).rejects.toBe(reason);
    expect(ran).toBe(false);
  });

  it("a Retry inside a Timeout gives up at once when its next delay cannot end before the Timeout's deadline", async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 150 });
    const retry = new Retry({ clock, initialDelay: 100, maxAttempts: 5 });
    const attempts: number[] = [];
    const done = timeout
      .execute((ctx) =>
        retry.execute(() => {
          attempts.push(clock.now());
          return Promise.reject(new Error('down'));
        }, ctx),
      )
      .catch((err: unknown) => ({ err, at: clock.now() }));
    await clock.advance(150);
    const { err, at } = (await done) as { err: Error; at: number };
    // attempts at 0 and 100; a 200 ms delay from 100 would end after the deadline (150)
    expect(attempts).toEqual([0, 100]);
    expect(err.name).toBe('MaxAttemptsReachedError');
    expect(err.message).toBe('Gave up after 2 attempts: a 200 ms delay would not end before the deadline');
    expect(at).toBe(100);
    await clock.advance(0);
  });
});
