import { describe, expect, it } from 'vitest';
import { deferred, failOnUnhandledRejection, outcome, recordingLogger } from '../../test/support.js';
import { BulkheadFullError } from '../errors/errors.js';
import { FakeClock } from '../testing/index.js';
import { AdaptiveBulkhead } from './adaptive-bulkhead.js';

failOnUnhandledRejection();

/** One call of `ms` on `clock` that succeeds or fails. */
async function timedCall(bulkhead: AdaptiveBulkhead, clock: FakeClock, ms: number, fail = false): Promise<void> {
  const call = outcome(
    bulkhead.execute(async () => {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
      if (fail) throw new Error('fail');
    }),
  );
  await clock.advance(ms);
  await call;
}

describe('AdaptiveBulkhead.on', () => {
  it("reports 'rejected' after onRejected, with the reason, the limit and the load", async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    const bulkhead = new AdaptiveBulkhead({
      initialLimit: 1,
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
    const queued = outcome(bulkhead.execute(() => 1));
    await expect(bulkhead.execute(() => 2)).rejects.toBeInstanceOf(BulkheadFullError);
    await clock.advance(10);
    expect((await queued).error).toBeInstanceOf(BulkheadFullError);
    gate.resolve();
    await running;
    expect(order).toEqual(['hook full', 'event full', 'hook queue-timeout', 'event queue-timeout']);
    expect(seen).toEqual([
      { reason: 'full', limit: 1, active: 1, queued: 1 },
      { reason: 'queue-timeout', limit: 1, active: 1, queued: 1 },
    ]);
  });

  it("reports 'limitChange' after onLimitChange, and stops after dispose()", async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    const bulkhead = new AdaptiveBulkhead({
      algorithm: 'aimd',
      initialLimit: 10,
      clock,
      onLimitChange: (limit, previous) => order.push(`hook ${previous}->${limit}`),
    });
    const sub = bulkhead.on('limitChange', ({ limit, previous }) => order.push(`event ${previous}->${limit}`));
    await timedCall(bulkhead, clock, 5, true);
    sub.dispose();
    sub.dispose(); // twice is harmless
    await timedCall(bulkhead, clock, 5, true);
    expect(order).toEqual(['hook 10->9', 'event 10->9', 'hook 9->8']);
  });

  it('a listener that throws or rejects is logged and changes nothing', async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const bulkhead = new AdaptiveBulkhead({ initialLimit: 1, clock, logger });
    bulkhead.on('rejected', () => {
      throw new Error('listener broke');
    });
    bulkhead.on('rejected', () => Promise.reject(new Error('async listener broke')));
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    for (let i = 0; i < 1000; i++) {
      await expect(bulkhead.execute(() => 1)).rejects.toBeInstanceOf(BulkheadFullError);
    }
    gate.resolve();
    await running;
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.records.filter((r) => r.msg === 'listener for "rejected" threw')).toHaveLength(2000);
    expect(bulkhead.active).toBe(0);
  });

  it('refuses an unknown event and a listener that is not a function', () => {
    const bulkhead = new AdaptiveBulkhead();
    expect(() => bulkhead.on('limitChanged' as never, () => undefined)).toThrow(
      'AdaptiveBulkhead: event must be one of "rejected", "limitChange", got "limitChanged"',
    );
    expect(() => bulkhead.on('rejected', 'x' as never)).toThrow(/listener for "rejected" must be a function/);
  });
});

describe('AdaptiveBulkhead.update', () => {
  it('validates the whole result first: a bad value throws, naming it, and nothing changes', () => {
    const bulkhead = new AdaptiveBulkhead({ minLimit: 2, maxLimit: 50, initialLimit: 10 });
    expect(() => bulkhead.update({ maxLimit: 1 })).toThrow(/AdaptiveBulkhead: maxLimit must be .*>= 2, got 1/);
    expect(() => bulkhead.update({ minLimit: 20 })).toThrow(/initialLimit must be .*, got 10/);
    expect(() => bulkhead.update({ smoothing: Number.NaN })).toThrow(/smoothing must be/);
    expect(() => bulkhead.update({ algorithm: 'vegas' as never })).toThrow(/algorithm must be one of/);
    expect(() => bulkhead.update({ maxLimt: 3 } as never)).toThrow(/unknown option "maxLimt"/);
    expect(() => bulkhead.update({ clock: new FakeClock() })).toThrow(/clock cannot be changed by update\(\)/);
    expect(() => bulkhead.update({ name: 'other' })).toThrow(/name cannot be changed/);
    expect(() => bulkhead.update(null as never)).toThrow(/update\(\) takes an object of options, got null/);
    expect([bulkhead.minLimit, bulkhead.maxLimit, bulkhead.limit, bulkhead.algorithm]).toEqual([2, 50, 10, 'gradient']);
  });

  it('clamps the limit into new bounds (a limitChange) and a higher limit starts queued calls, oldest first', async () => {
    const bulkhead = new AdaptiveBulkhead({ initialLimit: 2, maxQueue: 10 });
    const changes: string[] = [];
    bulkhead.on('limitChange', ({ limit, previous }) => changes.push(`${previous}->${limit}`));
    const gate = deferred();
    const started: number[] = [];
    const calls = [0, 1, 2, 3, 4].map((i) =>
      bulkhead.execute(async () => {
        started.push(i);
        await gate.promise;
        return i;
      }),
    );
    expect(started).toEqual([0, 1]);
    bulkhead.update({ minLimit: 4, initialLimit: 4 });
    expect(bulkhead.limit).toBe(4);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(bulkhead.queued).toBe(1);
    bulkhead.update({ minLimit: 1, maxLimit: 2, initialLimit: 2 });
    expect(bulkhead.limit).toBe(2);
    expect(bulkhead.active).toBe(4); // running calls finish as they started
    gate.resolve();
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3, 4]);
    expect(changes).toEqual(['2->4', '4->2']);
    expect(bulkhead.active).toBe(0);
  });

  it('keeps what the algorithm learnt and applies the new tuning from the next sample', async () => {
    const clock = new FakeClock();
    const bulkhead = new AdaptiveBulkhead({ algorithm: 'aimd', initialLimit: 20, clock });
    await timedCall(bulkhead, clock, 5, true);
    expect(bulkhead.limit).toBe(18); // 20 × 0.9
    bulkhead.update({ backoffRatio: 0.5 });
    expect(bulkhead.limit).toBe(18);
    await timedCall(bulkhead, clock, 5, true);
    expect(bulkhead.limit).toBe(9); // 18 × 0.5: the estimate went on from 18, not from initialLimit
    bulkhead.update({ algorithm: 'gradient' });
    expect(bulkhead.algorithm).toBe('gradient');
    expect(bulkhead.limit).toBe(9); // a new algorithm starts from the current limit
  });

  it('a queueTimeout bound on a queue that was unbounded applies to the calls already queued, from now', async () => {
    const clock = new FakeClock();
    const bulkhead = new AdaptiveBulkhead({ initialLimit: 1, maxQueue: 5, clock });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const queued = outcome(bulkhead.execute(() => 'late'));
    await clock.advance(1_000);
    bulkhead.update({ queueTimeout: 50 });
    await clock.advance(49);
    expect(bulkhead.queued).toBe(1);
    await clock.advance(1);
    expect((await queued).error).toBeInstanceOf(BulkheadFullError);
    bulkhead.update({ queueTimeout: undefined }); // back to the default: unbounded
    const again = outcome(bulkhead.execute(() => 'served'));
    await clock.advance(1_000_000);
    expect(bulkhead.queued).toBe(1);
    expect(clock.pendingTimers).toBe(0);
    gate.resolve();
    await running;
    expect((await again).value).toBe('served');
  });

  it('new hooks and logger apply at once; listeners stay', async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const seen: string[] = [];
    const bulkhead = new AdaptiveBulkhead({ initialLimit: 1, clock, onRejected: () => seen.push('old') });
    bulkhead.on('rejected', () => {
      throw new Error('listener');
    });
    bulkhead.update({ onRejected: () => seen.push('new'), logger });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    await expect(bulkhead.execute(() => 1)).rejects.toBeInstanceOf(BulkheadFullError);
    gate.resolve();
    await running;
    expect(seen).toEqual(['new']);
    expect(logger.records.some((r) => r.msg === 'listener for "rejected" threw')).toBe(true);
  });

  it('hostile: 5,000 queued synchronous throwers released by an update settle on a flat stack, each with its own error', async () => {
    const bulkhead = new AdaptiveBulkhead({ algorithm: 'aimd', initialLimit: 1, maxQueue: Number.POSITIVE_INFINITY });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const errors = Array.from({ length: 5_000 }, (_, i) => new Error(`sync ${i}`));
    const calls = errors.map((error) =>
      outcome(
        bulkhead.execute(() => {
          throw error;
        }),
      ),
    );
    bulkhead.update({ minLimit: 3, initialLimit: 3 });
    const settled = await Promise.all(calls);
    expect(settled.every((o, i) => o.error === errors[i])).toBe(true);
    expect([bulkhead.active, bulkhead.queued]).toEqual([1, 0]);
    gate.resolve();
    await running;
    expect(bulkhead.active).toBe(0);
  });

  it('hostile: an update from inside a listener applies once the event is delivered, and nothing is lost', async () => {
    const clock = new FakeClock();
    const bulkhead = new AdaptiveBulkhead({ initialLimit: 1, maxQueue: 0, clock });
    let updates = 0;
    bulkhead.on('rejected', () => {
      updates++;
      bulkhead.update({ maxQueue: updates }); // each rejection makes room for one more waiter
    });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const first = outcome(bulkhead.execute(() => 'a'));
    const second = outcome(bulkhead.execute(() => 'b'));
    expect((await first).error).toBeInstanceOf(BulkheadFullError);
    expect(bulkhead.queued).toBe(1);
    gate.resolve();
    await running;
    expect((await second).value).toBe('b');
    expect(updates).toBe(1);
  });

  it('a recorder given at construction is told the starting limit and load at once (a dashboard shows the limit before it first moves)', () => {
    const seen: string[] = [];
    const metrics = {
      recordAdaptiveBulkheadLimit: (name: string, limit: number) => void seen.push(`${name} limit ${limit}`),
      recordBulkheadUtilization: (name: string, active: number, queued: number) =>
        void seen.push(`${name} ${active}/${queued}`),
    } as never;
    const bulkhead = new AdaptiveBulkhead({ name: 'db', initialLimit: 7, metrics });
    expect(seen).toEqual(['db limit 7', 'db 0/0']);
    // update() builds (and validates) a throwaway bulkhead from the merged config: it must not report its
    // initialLimit over the live limit, nor report at all when the update is refused.
    bulkhead.update({ initialLimit: 3 });
    expect(() => bulkhead.update({ initialLimit: 3, maxLimit: 2 })).toThrow(RangeError);
    expect(seen).toEqual(['db limit 7', 'db 0/0']);
    expect(bulkhead.limit).toBe(7);
  });

  it('a new metrics recorder is told the current limit and load at once', async () => {
    const seen: string[] = [];
    const bulkhead = new AdaptiveBulkhead({ name: 'db', initialLimit: 7 });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    bulkhead.update({
      metrics: {
        recordAdaptiveBulkheadLimit: (name: string, limit: number) => void seen.push(`${name} limit ${limit}`),
        recordBulkheadUtilization: (name: string, active: number, queued: number) =>
          void seen.push(`${name} ${active}/${queued}`),
      } as never,
    });
    expect(seen).toEqual(['db limit 7', 'db 1/0']);
    gate.resolve();
    await running;
    expect(seen.at(-1)).toBe('db 0/0');
  });
});
