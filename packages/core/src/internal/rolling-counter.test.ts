import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RollingCounter } from './rolling-counter.js';

describe('RollingCounter', () => {
  it('drops a whole bucket once time moves past it', () => {
    const counter = new RollingCounter(2, 3, 100);
    counter.roll(0);
    counter.add(0);
    counter.roll(150);
    counter.add(0);
    counter.add(1);
    expect([counter.total(0), counter.total(1)]).toEqual([2, 1]);
    counter.roll(300); // bucket 0 leaves: buckets 1..3 remain
    expect([counter.total(0), counter.total(1)]).toEqual([1, 1]);
    counter.roll(10_000);
    expect([counter.total(0), counter.total(1)]).toEqual([0, 0]);
  });

  it('counts into the newest bucket when the clock steps back', () => {
    const counter = new RollingCounter(1, 2, 100);
    counter.roll(500);
    counter.roll(100);
    counter.add(0);
    counter.roll(599);
    expect(counter.total(0)).toBe(1);
    counter.roll(700); // bucket 5 is gone, and with it the count
    expect(counter.total(0)).toBe(0);
  });

  it('agrees with a log of every count, whatever the times (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.record({ advance: fc.integer({ min: -40, max: 200 }), channel: fc.integer({ min: 0, max: 1 }) }), {
          maxLength: 80,
        }),
        (buckets, bucketMs, steps) => {
          const counter = new RollingCounter(2, buckets, bucketMs);
          const log: { bucket: number; channel: number }[] = [];
          let now = 1_000;
          let head = Number.NEGATIVE_INFINITY;
          for (const { advance, channel } of steps) {
            now += advance;
            counter.roll(now);
            head = Math.max(head, Math.floor(now / bucketMs));
            counter.add(channel);
            log.push({ bucket: head, channel });
            for (const c of [0, 1]) {
              const expected = log.filter((e) => e.channel === c && e.bucket > head - buckets).length;
              expect(counter.total(c)).toBe(expected);
            }
          }
        },
      ),
    );
  });
});
