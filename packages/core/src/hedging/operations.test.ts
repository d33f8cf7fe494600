import { describe, expect, it } from 'vitest';
import { deferred, failOnUnhandledRejection, outcome, recordingLogger } from '../../test/support.js';
import type { ExecutionContext } from '../context.js';
import { FakeClock } from '../testing/index.js';
import { Hedging } from './hedging.js';

failOnUnhandledRejection();

describe('Hedging.on', () => {
  it("reports 'hedge' after onHedge, then 'success' with the winner and how many started", async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    const hedging = new Hedging<string>({ delay: 10, maxHedges: 2, clock, onHedge: (a) => order.push(`hook ${a}`) });
    hedging.on('hedge', ({ attempt }) => order.push(`hedge ${attempt}`));
    hedging.on('success', (e) => order.push(`success ${JSON.stringify(e)}`));
    hedging.on('failure', () => order.push('failure'));
    const gates = [deferred<string>(), deferred<string>(), deferred<string>()];
    const call = hedging.execute(({ attempt }) => (gates[attempt - 1] as (typeof gates)[0]).promise);
    await clock.advance(10);
    await clock.advance(10);
    gates[1]?.resolve('second');
    expect(await call).toBe('second');
    expect(order).toEqual(['hook 2', 'hedge 2', 'hook 3', 'hedge 3', 'success {"attempt":2,"attempts":3}']);
  });

  it("reports 'failure' with the caller's error when every attempt failed, and nothing when the caller aborted", async () => {
    const clock = new FakeClock();
    const seen: unknown[] = [];
    const hedging = new Hedging({ delay: 10, maxHedges: 1, hedgeOnFailure: true, clock });
    hedging.on('failure', (e) => seen.push(e));
    const last = new Error('second');
    const result = await outcome(
      hedging.execute(({ attempt }) => Promise.reject(attempt === 1 ? new Error('first') : last)),
    );
    expect(result.error).toBe(last);
    expect(seen).toEqual([{ error: last, attempts: 2 }]);
    const controller = new AbortController();
    const aborted = outcome(hedging.execute(() => new Promise(() => undefined), { signal: controller.signal }));
    controller.abort(new Error('caller left'));
    expect((await aborted).error).toEqual(new Error('caller left'));
    expect(seen).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a listener that throws is logged and changes nothing', async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const hedging = new Hedging({ delay: 10, clock, logger });
    hedging.on('success', () => {
      throw new Error('listener broke');
    });
    expect(await hedging.execute(() => 42)).toBe(42);
    expect(logger.records.filter((r) => r.msg === 'listener for "success" threw')).toHaveLength(1);
  });
});

describe('Hedging.update', () => {
  it('validates first: a bad value throws, naming it, and nothing changes', () => {
    const hedging = new Hedging({ delay: 10 });
    expect(() => hedging.update({ delay: -1 })).toThrow(/Hedging: delay must be/);
    expect(() => hedging.update({ maxHedges: 101 })).toThrow(/maxHedges must be/);
    // Valid alone, invalid together: the whole result is checked.
    expect(() => hedging.update({ delay: Number.POSITIVE_INFINITY })).toThrow(
      /delay must be finite unless hedgeOnFailure/,
    );
    expect(() => hedging.update({ delay: undefined } as never)).toThrow(/delay must be/);
    expect(() => hedging.update({ hedgingDelay: 5 } as never)).toThrow(/unknown option "hedgingDelay"/);
    expect([hedging.delay, hedging.maxHedges, hedging.hedgeOnFailure]).toEqual([10, 1, false]);
    hedging.update({ delay: Number.POSITIVE_INFINITY, hedgeOnFailure: true });
    expect([hedging.delay, hedging.hedgeOnFailure]).toEqual([Number.POSITIVE_INFINITY, true]);
  });

  it('new calls use the new settings; a running call finishes as it started, and its events still arrive', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging<number>({ delay: 10, maxHedges: 1, clock });
    const hedges: number[] = [];
    const wins: unknown[] = [];
    hedging.on('hedge', ({ attempt }) => hedges.push(attempt));
    hedging.on('success', (e) => wins.push(e));
    const attempts: ExecutionContext[] = [];
    const gate = deferred<number>();
    const old = hedging.execute((ctx) => {
      attempts.push(ctx);
      return gate.promise;
    });
    hedging.update({ delay: 100, maxHedges: 3 });
    await clock.advance(10); // the old call hedges after its own 10 ms, once
    expect(attempts).toHaveLength(2);
    await clock.advance(1_000);
    expect(attempts).toHaveLength(2);
    gate.resolve(1);
    expect(await old).toBe(1);
    const fresh: number[] = [];
    const late = deferred<number>();
    const call = hedging.execute(({ attempt }) => {
      fresh.push(attempt);
      return late.promise;
    });
    await clock.advance(99);
    expect(fresh).toEqual([1]);
    await clock.advance(1);
    expect(fresh).toEqual([1, 2]);
    await clock.advance(200);
    expect(fresh).toEqual([1, 2, 3, 4]);
    late.resolve(2);
    expect(await call).toBe(2);
    expect(hedges).toEqual([2, 2, 3, 4]);
    expect(wins).toEqual([
      { attempt: 1, attempts: 2 },
      { attempt: 1, attempts: 4 },
    ]);
    expect(clock.pendingTimers).toBe(0);
  });
});
