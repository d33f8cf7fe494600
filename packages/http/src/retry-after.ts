import { MAX_HEADER_INTEGER } from './rate-limit-headers.js';
/**
 * Milliseconds to a `Retry-After` value in seconds: whole seconds, rounded
 * up, at least 1 and at most {@link MAX_HEADER_INTEGER} (so always digits);
 * `undefined` when `ms` is unknown or not finite.
 *
 * @param ms - the wait in milliseconds
 * @example
 * ```ts
 * retryAfterSeconds(1200); // 2
 * ```
 */
export function retryAfterSeconds(ms: number | undefined): number | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  // Digits only: 1e308 ms would be written 1e+305, which is no delay-seconds.
  return Math.min(MAX_HEADER_INTEGER, Math.max(1, Math.ceil(ms / 1000)));
}

const DELAY_SECONDS = /^\s*(\d+)\s*$/;

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3) as milliseconds to wait
 * from `now`: either delay-seconds (`120`) or an HTTP date
 * (`Fri, 31 Dec 1999 23:59:59 GMT`; a date in the past gives 0). Anything
 * else (missing, negative, a fraction, garbage) gives `undefined`, never
 * `NaN`. The caller caps the result: a server may ask for days.
 *
 * @param value - the header's value (`null` or `undefined` when absent)
 * @param now - the current time in milliseconds since the epoch, for a date
 * @default now `Date.now()`
 * @example
 * ```ts
 * const waitMs = parseRetryAfter(response.headers.get('retry-after'));
 * if (waitMs !== undefined) await sleep(Math.min(waitMs, 30_000));
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const seconds = DELAY_SECONDS.exec(value);
  if (seconds !== null) {
    const ms = Number(seconds[1]) * 1000;
    return Number.isFinite(ms) ? ms : undefined;
  }
  // An HTTP date always names a weekday and a time, and ends in GMT; Date.parse would accept far looser text.
  if (!/^\s*[A-Za-z]{3},? .*\d{2}:\d{2}:\d{2} GMT\s*$/.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
