import { describe, expect, it } from 'vitest';
import { systemClock, unrefTimer } from './clock.js';

describe('systemClock', () => {
  it('reads monotonic time', () => {
    const a = systemClock.now();
    const b = systemClock.now();
    expect(b).toBeGreaterThanOrEqual(a);
  });

  it('schedules ordinary timers that fire and can be cleared', async () => {
    const fired = await new Promise<boolean>((resolve) => {
      const handle = systemClock.setTimeout(() => resolve(true), 1);
      expect((handle as NodeJS.Timeout).hasRef()).toBe(true);
    });
    expect(fired).toBe(true);
    let cleared = true;
    const handle = systemClock.setTimeout(() => {
      cleared = false;
    }, 1);
    systemClock.clearTimeout(handle);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(cleared).toBe(true);
  });
});

describe('unrefTimer', () => {
  it('calls unref where the handle has one and passes others through', () => {
    let called = 0;
    const handle = {
      unref() {
        called++;
      },
    };
    expect(unrefTimer(handle)).toBe(handle);
    expect(called).toBe(1);
    expect(unrefTimer(7)).toBe(7);
    expect(unrefTimer(null)).toBe(null);
    const noUnref = { id: 1 };
    expect(unrefTimer(noUnref)).toBe(noUnref);
  });
});
