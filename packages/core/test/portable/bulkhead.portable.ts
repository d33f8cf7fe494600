// Bulkhead on every runtime, against the built core, on a fake clock.
import { Bulkhead, BulkheadFullError, isBulkheadFullError } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { describe, expect, flush, it, rejects, track } from './harness.ts';

interface Gate {
  readonly promise: Promise<string>;
  open(value: string): void;
}

function gate(): Gate {
  let open!: (value: string) => void;
  const promise = new Promise<string>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('Bulkhead', () => {
  it('runs maxConcurrent at once, queues up to maxQueue in FIFO order, rejects the rest', async () => {
    const bulkhead = new Bulkhead({ clock: new FakeClock(), maxConcurrent: 2, maxQueue: 2 });
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const calls = gates.map((g, i) =>
      track(
        bulkhead.execute(() => {
          started.push(i);
          return g.promise;
        }),
      ),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    expect(bulkhead.active).toBe(2);
    expect(bulkhead.queued).toBe(2);
    const error = await rejects(
      bulkhead.execute(() => 'extra'),
      BulkheadFullError,
    );
    expect(isBulkheadFullError(error)).toBe(true);
    gates[1]?.open('b');
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates[0]?.open('a');
    await flush();
    expect(started).toEqual([0, 1, 2, 3]);
    gates[2]?.open('c');
    gates[3]?.open('d');
    const values = await Promise.all(calls.map(async (c) => (await c.result).value));
    expect(values).toEqual(['a', 'b', 'c', 'd']);
    expect(bulkhead.active).toBe(0);
    expect(bulkhead.queued).toBe(0);
  });

  it('rejects a waiter whose queueTimeout ran out with BulkheadFullError', async () => {
    const clock = new FakeClock();
    let rejected = 0;
    const bulkhead = new Bulkhead({
      clock,
      maxConcurrent: 1,
      maxQueue: 1,
      queueTimeout: 100,
      onRejected: () => rejected++,
    });
    const running = gate();
    const first = track(bulkhead.execute(() => running.promise));
    const waiting = track(bulkhead.execute(() => 'never'));
    await clock.advance(99);
    expect(waiting.settled()).toBe(false);
    await clock.advance(1);
    expect((await waiting.result).error).toBeInstanceOf(BulkheadFullError);
    expect(rejected).toBe(1);
    running.open('done');
    expect((await first.result).value).toBe('done');
    expect(clock.pendingTimers).toBe(0);
  });

  it('lets an aborted waiter leave the queue at once with the caller’s reason', async () => {
    const bulkhead = new Bulkhead({ clock: new FakeClock(), maxConcurrent: 1, maxQueue: 5 });
    const running = gate();
    const first = track(bulkhead.execute(() => running.promise));
    const controller = new AbortController();
    let called = false;
    const waiting = track(
      bulkhead.execute(
        () => {
          called = true;
        },
        { signal: controller.signal },
      ),
    );
    await flush();
    expect(bulkhead.queued).toBe(1);
    const reason = new Error('gone');
    controller.abort(reason);
    expect((await waiting.result).error).toBe(reason);
    expect(bulkhead.queued).toBe(0);
    running.open('x');
    await first.result;
    expect(called).toBe(false);
  });

  it('frees its slot when the work throws synchronously, passing the caller’s error', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const own = new Error('sync');
    for (let i = 0; i < 1_000; i++) {
      const error = await rejects(
        bulkhead.execute(() => {
          throw own;
        }),
      );
      expect(error).toBe(own);
    }
    expect(bulkhead.active).toBe(0);
  });

  it('rejects a bad config at construction, naming the field and the value', () => {
    expect(() => new Bulkhead({ maxConcurrent: 0 })).toThrow(/maxConcurrent.*0/);
    expect(() => new Bulkhead({ maxConcurrent: 1, maxQueue: -1 })).toThrow(/maxQueue.*-1/);
  });
});
