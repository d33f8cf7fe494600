import { describe, expect, it } from 'vitest';
import type { WindowSettings } from './config.js';
import { CountWindow, createWindow, ratesExceeded, TimeWindow } from './windows.js';

const totals = (w: { calls: number; failures: number; slowCalls: number }) => [w.calls, w.failures, w.slowCalls];

describe('CountWindow', () => {
  it('keeps the running totals of the last size outcomes', () => {
    const window = new CountWindow(3);
    window.record(0, true, false);
    window.record(0, true, true);
    expect(totals(window)).toEqual([2, 2, 1]);
    window.record(0, false, false);
    window.record(0, false, false);
    expect(totals(window)).toEqual([3, 1, 1]);
    window.record(0, false, false);
    expect(totals(window)).toEqual([3, 0, 0]);
    window.record(0, true, true);
    expect(totals(window)).toEqual([3, 1, 1]);
    window.reset();
    expect(totals(window)).toEqual([0, 0, 0]);
    window.record(0, true, false);
    expect(totals(window)).toEqual([1, 1, 0]);
  });
});

describe('TimeWindow', () => {
  it('drops buckets whole as time moves past them', () => {
    const window = new TimeWindow(4, 100);
    window.record(0, true, false);
    window.record(150, true, true);
    window.record(250, false, false);
    expect(totals(window)).toEqual([3, 2, 1]);
    window.record(399, false, false);
    expect(totals(window)).toEqual([4, 2, 1]);
    window.record(400, false, false);
    expect(totals(window)).toEqual([4, 1, 1]);
    window.record(650, false, true);
    expect(totals(window)).toEqual([3, 0, 1]);
    window.record(10_000, true, false);
    expect(totals(window)).toEqual([1, 1, 0]);
  });

  it('puts a record from a clock that went backwards in the newest bucket, and handles negative times', () => {
    const window = new TimeWindow(2, 10);
    window.record(-25, true, false);
    window.record(-40, false, false);
    expect(totals(window)).toEqual([2, 1, 0]);
    window.record(-15, false, false);
    expect(totals(window)).toEqual([3, 1, 0]);
    window.record(-5, false, false);
    expect(totals(window)).toEqual([2, 0, 0]);
    window.record(5, false, false);
    expect(totals(window)).toEqual([2, 0, 0]);
    window.reset();
    window.record(-1000, false, true);
    expect(totals(window)).toEqual([1, 0, 1]);
  });
});

describe('ratesExceeded', () => {
  const settings: WindowSettings = {
    kind: 'count',
    slots: 10,
    bucketMs: 0,
    minimumCalls: 4,
    failureRateThreshold: 0.3,
    slowCallRateThreshold: 0.5,
  };

  it('waits for minimumCalls, then compares both rates with their thresholds (inclusive)', () => {
    const window = createWindow(settings);
    expect(window).toBeInstanceOf(CountWindow);
    window.record(0, true, true);
    window.record(0, true, true);
    window.record(0, true, true);
    expect(ratesExceeded(window, settings)).toBe(false);
    for (let i = 0; i < 7; i++) window.record(0, false, false);
    expect(ratesExceeded(window, settings)).toBe(true); // 3/10 failures
    window.record(0, false, false);
    expect(ratesExceeded(window, settings)).toBe(false); // 2/10 failures, 2/10 slow
    for (let i = 0; i < 5; i++) window.record(0, false, true);
    expect(ratesExceeded(window, settings)).toBe(true); // 5/10 slow
  });

  it('creates a time window for kind time', () => {
    expect(createWindow({ ...settings, kind: 'time', bucketMs: 10 })).toBeInstanceOf(TimeWindow);
  });
});
