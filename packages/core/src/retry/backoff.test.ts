import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BackoffPolicy,
  type BackoffSettings,
  clampDelay,
  computeDelay,
  equalJitter,
  fullJitter,
  jitterStrategy,
} from './backoff.js';

function settings(overrides: Partial<BackoffSettings> = {}): BackoffSettings {
  return {
    backoff: 'exponential',
    initialDelay: 100,
    maxDelay: 30_000,
    multiplier: 2,
    jitter: undefined,
    random: () => 0.5,
    ...overrides,
  };
}

function table(s: BackoffSettings, retries: number): number[] {
  const delays: number[] = [];
  let previous = 0;
  for (let retry = 1; retry <= retries; retry++) {
    previous = computeDelay(s, retry, previous);
    delays.push(previous);
  }
  return delays;
}

describe('backoff tables', () => {
  it('exponential grows by the multiplier and stops at maxDelay', () => {
    expect(table(settings({ maxDelay: 1000 }), 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(table(settings({ multiplier: 3 }), 4)).toEqual([100, 300, 900, 2700]);
  });

  it('linear adds initialDelay each retry', () => {
    expect(table(settings({ backoff: 'linear', maxDelay: 350 }), 5)).toEqual([100, 200, 300, 350, 350]);
  });

  it('constant waits initialDelay every time', () => {
    expect(table(settings({ backoff: 'constant' }), 4)).toEqual([100, 100, 100, 100]);
  });

  it('decorrelated jitter draws between initialDelay and three times the previous delay', () => {
    const low = table(settings({ backoff: 'decorrelated-jitter', random: () => 0 }), 3);
    expect(low).toEqual([100, 100, 100]);
    const high = table(settings({ backoff: 'decorrelated-jitter', random: () => 1, maxDelay: 2000 }), 5);
    expect(high).toEqual([300, 900, 2000, 2000, 2000]);
    const mid = table(settings({ backoff: 'decorrelated-jitter', random: () => 0.5 }), 2);
    expect(mid).toEqual([200, 350]);
  });

  it('jitter is not applied on top of decorrelated jitter', () => {
    const s = settings({ backoff: 'decorrelated-jitter', jitter: () => 7, random: () => 0 });
    expect(computeDelay(s, 1, 0)).toBe(100);
  });

  it('full jitter scales by random, equal jitter keeps half', () => {
    expect(table(settings({ jitter: fullJitter, random: () => 0.25 }), 3)).toEqual([25, 50, 100]);
    expect(table(settings({ jitter: equalJitter, random: () => 0 }), 3)).toEqual([50, 100, 200]);
    expect(table(settings({ jitter: equalJitter, random: () => 0.5 }), 2)).toEqual([75, 150]);
  });

  it('a custom jitter gets the delay, retry number and random, and is clamped', () => {
    const seen: unknown[] = [];
    const s = settings({
      maxDelay: 500,
      jitter: (delay, retry, random) => {
        seen.push([delay, retry, random()]);
        return retry === 1 ? -5 : retry === 2 ? Number.NaN : 1e9;
      },
    });
    expect(table(s, 3)).toEqual([0, 0, 500]);
    expect(seen).toEqual([
      [100, 1, 0.5],
      [200, 2, 0.5],
      [400, 3, 0.5],
    ]);
  });

  it('an initialDelay of 0 never yields NaN', () => {
    expect(computeDelay(settings({ initialDelay: 0 }), 5000, 0)).toBe(0);
    expect(computeDelay(settings({ initialDelay: 0, backoff: 'decorrelated-jitter' }), 5000, 0)).toBe(0);
  });
});

describe('jitterStrategy', () => {
  it('maps the option to a strategy', () => {
    expect(jitterStrategy(false)).toBeUndefined();
    expect(jitterStrategy(true)).toBe(fullJitter);
    expect(jitterStrategy('full')).toBe(fullJitter);
    expect(jitterStrategy('equal')).toBe(equalJitter);
    const own = (d: number): number => d;
    expect(jitterStrategy(own)).toBe(own);
  });
});

describe('clampDelay', () => {
  it('keeps delays in [0, max]', () => {
    expect(clampDelay(-1, 10)).toBe(0);
    expect(clampDelay(Number.NaN, 10)).toBe(0);
    expect(clampDelay(Number.POSITIVE_INFINITY, 10)).toBe(10);
    expect(clampDelay(5, 10)).toBe(5);
  });
});

describe('delays, property', () => {
  const policies: BackoffPolicy[] = ['exponential', 'linear', 'constant', 'decorrelated-jitter'];
  it('stay finite and within [0, maxDelay] for 10,000 retries', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...policies),
        fc.constantFrom<BackoffSettings['jitter']>(undefined, fullJitter, equalJitter),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 2_147_483_647, noNaN: true }),
        fc.double({ min: 1, max: 1e3, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (backoff, jitter, initialDelay, maxDelay, multiplier, r) => {
          const s = settings({ backoff, jitter, initialDelay, maxDelay, multiplier, random: () => r });
          let previous = 0;
          for (let retry = 1; retry <= 10_000; retry++) {
            previous = computeDelay(s, retry, previous);
            if (!Number.isFinite(previous) || previous < 0 || previous > maxDelay) return false;
          }
          return true;
        },
      ),
      { numRuns: 60 },
    );
  });
});
