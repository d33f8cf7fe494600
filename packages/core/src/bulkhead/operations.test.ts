import { describe, expect, it } from 'vitest';
import { deferred } from '../../test/support.js';
import { BulkheadFullError } from '../errors/errors.js';
import type { MetricsRecorder } from '../observability/types.js';
import { FakeClock } from '../testing/fake-clock.js';
import { Bulkhead } from './bulkhead.js';

describe('Bulkhead.on', () => {
  it("reports 'rejected' after onRejected with the reason and the load", async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    const bulkhead = new Bulkhead({
      maxConcurrent: 1,
      maxQueue: 1,
      queueTimeout: 10,
      clock,
      onRejected: (reason) => order.push(`hook ${reason}`),
    });
    const seen: unknown[] = [];
    bulkhead.on('rejected', (e) => {
      order.push(`event ${e.reason}`);
      seen.push(e);
    });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const queued = bulkhead.execute(() => 1).catch((e: unknown) => e);
    await expect(bulkhead.execute(() => 2)).rejects.toBeInstanceOf(BulkheadFullError);
    await clock.advance(10);
    expect(await queued).toBeInstanceOf(BulkheadFullError);
    gate.resolve();
    await running;
    expect(order).toEqual(['hook full', 'event full', 'hook queue-timeout', 'event queue-timeout']);
    expect(seen).toEqual([
      { reason: 'full', active: 1, queued: 1 },
      { reason: 'queue-timeout', active: 1, queued: 1 },
    ]);
  });
});

describe('Bulkhead.update', () => {
  it('validates first: a bad value throws, naming it, and nothing changes', () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 2 });
    expect(() => bulkhead.update({ maxConcurrent: 0 })).toThrow(
      /Bulkhead: maxConcurrent must be an integer >= 1, got 0/,
    );
    expect(() => bulkhead.update({ maxQueue: Number.NaN })).toThrow(/maxQueue must be/);
    expect(() => bulkhead.update({ maxConcurent: 3 } as never)).toThrow(/unknown option "maxConcurent"/);
    expect(bulkhead.maxConcurrent).toBe(2);
  });

  it('a larger maxConcurrent starts queued calls at once, oldest first', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 10 });
    const gate = deferred();
    const started: number[] = [];
    const calls = [0, 1, 2, 3].map((i) =>
      bulkhead.execute(async () => {
        started.push(i);
        await gate.promise;
        return i;
      }),
    );
    expect(started).toEqual([0]);
    expect(bulkhead.queued).toBe(3);
    bulkhead.update({ maxConcurrent: 3 });
    expect(started).toEqual([0, 1, 2]);
    expect(bulkhead.active).toBe(3);
    expect(bulkhead.queued).toBe(1);
    gate.resolve();
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3]);
    expect(bulkhead.active).toBe(0);
  });

  it('a smaller maxConcurrent lets running calls finish and starts nothing until active is below it', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 3, maxQueue: 10 });
    const gates = [deferred(), deferred(), deferred()];
    const running = gates.map((gate) => bulkhead.execute(() => gate.promise));
    let queuedStarted = false;
    const queued = bulkhead.execute(() => {
      queuedStarted = true;
    });
    bulkhead.update({ maxConcurrent: 1 });
    expect(bulkhead.active).toBe(3);
    gates[0]?.resolve();
    await running[0];
    expect(bulkhead.active).toBe(2);
    gates[1]?.resolve();
    await running[1];
    expect(bulkhead.active).toBe(1);
    expect(queuedStarted).toBe(false);
    gates[2]?.resolve();
    await running[2];
    await queued;
    expect(queuedStarted).toBe(true);
    expect(bulkhead.active).toBe(0);
  });

  it('a queue that was unbounded in time gets the new queueTimeout from the update on', async () => {
    const clock = new FakeClock();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 5, clock });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    await clock.advance(1_000);
    const queued = bulkhead.execute(() => 1).catch((e: unknown) => e);
    await clock.advance(1_000);
    bulkhead.update({ queueTimeout: 100 });
    await clock.advance(99);
    expect(bulkhead.queued).toBe(1);
    await clock.advance(1);
    expect(await queued).toBeInstanceOf(BulkheadFullError);
    gate.resolve();
    await running;
    expect(clock.pendingTimers).toBe(0);
  });

  it('a queue whose bound is lifted (queueTimeout back to Infinity) lets the calls already queued wait on', async () => {
    const clock = new FakeClock();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeout: 100, clock });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    let settled = false;
    const queued = bulkhead
      .execute(() => 'ran')
      .finally(() => {
        settled = true;
      });
    bulkhead.update({ queueTimeout: Number.POSITIVE_INFINITY });
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(10_000);
    expect(settled).toBe(false);
    expect(bulkhead.queued).toBe(1);
    gate.resolve();
    await running;
    await expect(queued).resolves.toBe('ran');
  });
});

describe('Bulkhead.update: hostile', () => {
  it('growing past thousands of queued calls whose work throws synchronously settles each once', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 10_000 });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const thrown = new Error('sync');
    const queued = Array.from({ length: 5_000 }, () =>
      bulkhead.execute(() => {
        throw thrown;
      }),
    );
    bulkhead.update({ maxConcurrent: 10_000 });
    const settled = await Promise.allSettled(queued);
    expect(settled.every((s) => s.status === 'rejected' && s.reason === thrown)).toBe(true);
    expect(bulkhead.queued).toBe(0);
    expect(bulkhead.active).toBe(1);
    gate.resolve();
    await running;
    expect(bulkhead.active).toBe(0);
  });
});

describe('Bulkhead: a metrics recorder', () => {
  it('sees the idle bulkhead from the start, and a recorder given by update() sees the load at once', async () => {
    const seen: string[] = [];
    const recorder = (tag: string): MetricsRecorder =>
      ({
        recordBulkheadUtilization: (_name: string, active: number, queued: number) =>
          seen.push(`${tag} ${active}/${queued}`),
      }) as Partial<MetricsRecorder> as MetricsRecorder;
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, metrics: recorder('a') });
    expect(seen).toEqual(['a 0/0']);
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const queued = bulkhead.execute(() => 'queued');
    seen.length = 0;
    bulkhead.update({ metrics: recorder('b') });
    // The bulkhead update() builds to validate the new settings reports nothing (no "b 0/0" over the live load).
    expect(seen).toEqual(['b 1/1']);
    bulkhead.update({ maxQueue: 2 });
    expect(seen).toEqual(['b 1/1']);
    gate.resolve();
    await running;
    await expect(queued).resolves.toBe('queued');
  });
});
