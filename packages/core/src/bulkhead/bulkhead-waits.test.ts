import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { deferred, outcome, recordingSystemClock } from '../../test/support.js';
import {
  captureWarnings,
  countingClock,
  isHeld,
  listenersAfterTurn,
  realDelay,
  THIRTY_DAYS,
} from '../../test/waits-support.js';
import { systemClock } from '../clock/clock.js';
import { BulkheadFullError } from '../errors/errors.js';
import { isBulkheadFullError } from '../errors/guards.js';
import { FakeClock } from '../testing/index.js';
import { Bulkhead } from './bulkhead.js';

describe('Bulkhead: queued work that throws synchronously', () => {
  it('hands 100,000 slots over in a loop: every waiter settles with its own error and the bulkhead admits again', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: Number.POSITIVE_INFINITY });
    const first = deferred<string>();
    const running = bulkhead.execute(() => first.promise);
    const count = 100_000;
    const queued: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const error = new Error(`not connected ${i}`);
      queued.push(
        bulkhead
          .execute(() => {
            throw error;
          })
          .then(
            () => 'resolved',
            (err: unknown) => (err === error ? 'own error' : err),
          ),
      );
    }
    expect(bulkhead.queued).toBe(count);
    first.resolve('ok');
    await expect(running).resolves.toBe('ok');
    const outcomes = await Promise.all(queued);
    expect(outcomes.filter((o) => o !== 'own error')).toEqual([]);
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
    await expect(bulkhead.execute(async () => 'again')).resolves.toBe('again');
    expect(bulkhead.active).toBe(0);
  });

  it('keeps the slot count right when sync throwers and async work alternate in the queue', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 2, maxQueue: Number.POSITIVE_INFINITY });
    const blockers = [deferred<void>(), deferred<void>()];
    const held = blockers.map((b) => bulkhead.execute(() => b.promise));
    const later = deferred<string>();
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      calls.push(
        bulkhead
          .execute(() => {
            throw new Error('sync');
          })
          .catch(() => 'sync'),
      );
    }
    calls.push(bulkhead.execute(() => later.promise));
    for (let i = 0; i < 1000; i++) calls.push(bulkhead.execute(() => 'value'));
    for (const b of blockers) b.resolve();
    await Promise.all(held);
    // the async call holds one slot; everything behind it runs through the other
    await realDelay(0);
    expect(bulkhead.active).toBe(1);
    later.resolve('late');
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === 'sync')).toHaveLength(1000);
    expect(results.filter((r) => r === 'value')).toHaveLength(1000);
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
  });
});

describe('Bulkhead: a queue timeout beyond one platform timer', () => {
  it('waits 30 days on the fake clock, never early, re-arming in a few capped steps', async () => {
    const fake = new FakeClock();
    const clock = countingClock(fake);
    const bulkhead = new Bulkhead({ clock, maxConcurrent: 1, maxQueue: 1, queueTimeout: THIRTY_DAYS });
    const slot = deferred<void>();
    const running = bulkhead.execute(() => slot.promise);
    let outcome: unknown = 'pending';
    const waiting = bulkhead
      .execute(() => 'ran')
      .then(
        (v) => v,
        (err: unknown) => err,
      );
    void waiting.then((o) => {
      outcome = o;
    });
    await fake.advance(THIRTY_DAYS - 1);
    expect(outcome).toBe('pending');
    expect(bulkhead.queued).toBe(1);
    await fake.advance(1);
    expect(isBulkheadFullError(await waiting)).toBe(true);
    expect(clock.delays.every((ms) => ms >= 0 && ms <= 2 ** 31 - 1)).toBe(true);
    expect(clock.delays.length).toBeLessThanOrEqual(3);
    slot.resolve();
    await running;
  });

  it('does not spin or warn on the system clock, and clears its timer when the queue empties', async () => {
    const clock = countingClock(systemClock);
    const warnings = captureWarnings();
    const bulkhead = new Bulkhead({ clock, maxConcurrent: 1, maxQueue: 1, queueTimeout: THIRTY_DAYS });
    const slot = deferred<void>();
    const running = bulkhead.execute(() => slot.promise);
    const waiting = bulkhead.execute(async () => 'served');
    await realDelay(30);
    expect(clock.delays).toEqual([2 ** 31 - 1]);
    expect(isHeld(clock.handles[0])).toBe(true);
    slot.resolve();
    await expect(waiting).resolves.toBe('served');
    await running;
    expect((await warnings.stop()).map((w) => w.name)).toEqual([]);
  });
});

describe('Bulkhead: process lifetime', () => {
  it('holds its queue timer while a call waits and clears it once none does', async () => {
    const { clock, handles } = recordingSystemClock();
    const cleared = vi.spyOn(clock, 'clearTimeout');
    const bulkhead = new Bulkhead({ clock, maxConcurrent: 1, maxQueue: 5, queueTimeout: 60_000 });
    const slot = deferred<void>();
    const running = bulkhead.execute(() => slot.promise);
    const waiting = bulkhead.execute(async () => 1);
    expect(handles).toHaveLength(1);
    expect(handles[0]?.hasRef()).toBe(true);
    slot.resolve();
    await Promise.all([running, waiting]);
    expect(cleared).toHaveBeenCalledWith(handles[0]);
  });
});

describe('Bulkhead: many calls on one caller signal', () => {
  it('queues 40,000 calls on one signal with one listener, and an abort empties the queue with no listener left', async () => {
    const warnings = captureWarnings();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: Number.POSITIVE_INFINITY });
    const slot = deferred<void>();
    const running = bulkhead.execute(() => slot.promise);
    const controller = new AbortController();
    const reason = new Error('client went away');
    const count = 40_000;
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      calls.push(bulkhead.execute(async () => 'ran', { signal: controller.signal }).catch((err: unknown) => err));
    }
    expect(bulkhead.queued).toBe(count);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(reason);
    expect(bulkhead.queued).toBe(0);
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o !== reason)).toEqual([]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    slot.resolve();
    await running;
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
    expect((await warnings.stop()).map((w) => w.name)).toEqual([]);
  });

  it('leaves no listener when waiters on one signal are all served', async () => {
    const warnings = captureWarnings();
    const bulkhead = new Bulkhead({ maxConcurrent: 3, maxQueue: Number.POSITIVE_INFINITY });
    const controller = new AbortController();
    const calls = Array.from({ length: 5000 }, (_, i) =>
      bulkhead.execute(async () => i, { signal: controller.signal }),
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const values = await Promise.all(calls);
    expect(values[4999]).toBe(4999);
    expect(await listenersAfterTurn(controller.signal)).toBe(0);
    expect((await warnings.stop()).map((w) => w.name)).toEqual([]);
  });
});

describe('Bulkhead: property, sync throwers and shared signals under any interleaving', () => {
  it('settles every call once with its own outcome, never exceeds maxConcurrent and ends empty with no listener', async () => {
    const kinds = ['sync-throw', 'sync-value', 'async-ok', 'async-fail'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        fc.array(
          fc.record({
            kind: fc.constantFrom(...kinds),
            signal: fc.integer({ min: 0, max: 2 }), // 0: none, 1 or 2: one of two shared signals
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
        async (s, maxConcurrent, plans, aborts) => {
          const bulkhead = new Bulkhead({ maxConcurrent, maxQueue: Number.POSITIVE_INFINITY });
          const controllers = [new AbortController(), new AbortController()];
          const reasons = [new Error('abort 1'), new Error('abort 2')];
          let running = 0;
          let peak = 0;
          const errors = plans.map((_, i) => new Error(`own ${i}`));
          const settled = plans.map(() => 0);
          const outcomes: unknown[] = plans.map(() => undefined);
          const calls = plans.map((plan, i) => {
            const work = (): unknown => {
              running++;
              peak = Math.max(peak, running);
              if (plan.kind === 'sync-throw' || plan.kind === 'sync-value') {
                running--;
                if (plan.kind === 'sync-throw') throw errors[i];
                return i;
              }
              return s.schedule(Promise.resolve(), `work ${i}`).then(() => {
                running--;
                if (plan.kind === 'async-fail') throw errors[i];
                return i;
              });
            };
            const signal = plan.signal === 0 ? undefined : controllers[plan.signal - 1]?.signal;
            const promise = bulkhead.execute(work, { signal });
            promise.then(
              (value) => {
                settled[i] = (settled[i] ?? 0) + 1;
                outcomes[i] = value;
              },
              (err: unknown) => {
                settled[i] = (settled[i] ?? 0) + 1;
                outcomes[i] = err;
              },
            );
            return promise;
          });
          for (const [k, abort] of aborts.entries()) {
            if (abort) s.schedule(Promise.resolve(), `abort ${k}`).then(() => controllers[k]?.abort(reasons[k]));
          }
          await s.waitIdle();
          await Promise.allSettled(calls);
          expect(settled.every((n) => n === 1)).toBe(true);
          expect(peak).toBeLessThanOrEqual(maxConcurrent);
          for (const [i, plan] of plans.entries()) {
            const outcome = outcomes[i];
            const reason = plan.signal === 0 ? undefined : reasons[plan.signal - 1];
            if (outcome === reason) continue; // left the queue on its signal's abort
            if (plan.kind === 'sync-throw' || plan.kind === 'async-fail') expect(outcome).toBe(errors[i]);
            else expect(outcome).toBe(i);
          }
          expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
          for (const controller of controllers) expect(await listenersAfterTurn(controller.signal)).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('Bulkhead queue timeout with a clock that answered NaN once (regression: the shared wait queue)', () => {
  it('times the waiters out instead of re-arming a 0 ms timer until the head leaves', async () => {
    const fake = new FakeClock();
    let nan = false;
    let armed = 0;
    const clock = {
      now: () => (nan ? Number.NaN : fake.now()),
      setTimeout: (fn: () => void, ms: number) => {
        armed++;
        return fake.setTimeout(fn, ms);
      },
      clearTimeout: (handle: unknown) => fake.clearTimeout(handle as never),
    };
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 10, queueTimeout: 50, clock });
    const running = deferred<string>();
    const held = bulkhead.execute(() => running.promise);
    nan = true;
    const first = outcome(bulkhead.execute(() => 'first'));
    nan = false;
    const second = outcome(bulkhead.execute(() => 'second'));
    for (let i = 0; i < 20; i++) await fake.advance(5);
    expect(armed).toBeLessThan(10);
    expect(bulkhead.queued).toBe(0);
    expect(await first).toMatchObject({ error: expect.any(BulkheadFullError) });
    expect(await second).toMatchObject({ error: expect.any(BulkheadFullError) });
    running.resolve('done');
    expect(await held).toBe('done');
  });
});
