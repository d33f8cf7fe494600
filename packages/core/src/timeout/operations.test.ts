import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../errors/errors.js';
import { FakeClock } from '../testing/fake-clock.js';
import { Timeout } from './timeout.js';

const never = (): Promise<never> => new Promise(() => {});

describe('Timeout.on and update', () => {
  it("reports 'timeout' after onTimeout, for every call that runs out of time", async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    const timeout = new Timeout({ defaultTimeout: 100, clock, onTimeout: (ms) => order.push(`hook ${ms}`) });
    timeout.on('timeout', ({ timeoutMs }) => order.push(`event ${timeoutMs}`));
    const a = timeout.execute(never).catch((e: unknown) => e);
    const b = timeout.execute(never, { timeout: 50 }).catch((e: unknown) => e);
    await clock.advance(100);
    expect(await a).toBeInstanceOf(TimeoutError);
    expect(await b).toBeInstanceOf(TimeoutError);
    expect(order).toEqual(['hook 50', 'event 50', 'hook 100', 'event 100']);
  });

  it('a new defaultTimeout applies to later calls; a call in flight keeps its deadline', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ defaultTimeout: 1_000, clock });
    const seen: number[] = [];
    timeout.on('timeout', ({ timeoutMs }) => seen.push(timeoutMs));
    const early = timeout.execute(never).catch((e: unknown) => e);
    expect(() => timeout.update({ defaultTimeout: 0 })).toThrow(
      /Timeout: defaultTimeout must be a finite number \(or Infinity\) > 0, got 0/,
    );
    timeout.update({ defaultTimeout: 100 });
    expect(timeout.defaultTimeout).toBe(100);
    const late = timeout.execute(never).catch((e: unknown) => e);
    await clock.advance(100);
    expect(await late).toBeInstanceOf(TimeoutError);
    expect(seen).toEqual([100]);
    await clock.advance(900);
    expect(await early).toBeInstanceOf(TimeoutError);
    expect(seen).toEqual([100, 1_000]);
    expect(clock.pendingTimers).toBe(0);
  });
});
