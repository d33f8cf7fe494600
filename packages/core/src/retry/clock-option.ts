import { type Clock, systemClock } from '../clock/clock.js';

/**
 * Returns `value` when it looks like a {@link Clock}, `systemClock` when it is
 * `undefined`; throws a `TypeError` naming the owner otherwise.
 */
export function clockOption(owner: string, value: unknown): Clock {
  if (value === undefined) return systemClock;
  const clock = value as Partial<Clock> | null;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw new TypeError(`${owner}: clock must be an object with now(), setTimeout() and clearTimeout()`);
  }
  return clock as Clock;
}
