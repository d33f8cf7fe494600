import { describeValue } from '@resilience/core/validate';
import type { RateLimitDecision, StandardHeadersVersion } from './types.js';

/** The settings the rate-limit headers describe. */
export interface RateLimitHeaderSettings {
  /** Which IETF draft to follow, or `false` for no standard headers. */
  readonly standard: StandardHeadersVersion | false;
  /** Whether to write `X-RateLimit-*` too. */
  readonly legacy: boolean;
  /** The quota policy's name (draft-8). */
  readonly policyName: string;
  /** The limiter's bucket size. */
  readonly burst: number;
  /** Tokens per interval. */
  readonly rate: number;
  /** The interval in milliseconds. */
  readonly interval: number;
}

/** The largest integer a structured field (RFC 8941 sf-integer, 15 digits) can carry. */
export const MAX_HEADER_INTEGER = 999_999_999_999_999;

/**
 * `value` as a header integer: rounded down, within 0 and
 * {@link MAX_HEADER_INTEGER} (`NaN` gives 0), so a huge value (a limiter's
 * `resetMs` of 1e308) is never written `1e+305`, nor a tiny one `1e-7`,
 * which no client parses as an integer.
 */
export function headerInteger(value: number): number {
  return value > MAX_HEADER_INTEGER ? MAX_HEADER_INTEGER : value >= 1 ? Math.floor(value) : 0;
}

/** `value` as a structured-field string (RFC 9651): quoted, with `\` and `"` escaped. */
export function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const OWNER = 'RateLimitHeaders';

/** Throws a `TypeError` naming the field and the value for settings that would write broken headers, or none. */
function checkSettings(settings: RateLimitHeaderSettings): void {
  if (settings === null || typeof settings !== 'object') {
    throw new TypeError(`${OWNER}: settings must be an object, got ${describeValue(settings)}`);
  }
  const { standard, legacy, policyName } = settings;
  if (standard !== 'draft-7' && standard !== 'draft-8' && standard !== false) {
    throw new TypeError(
      `${OWNER}: standard must be one of "draft-7", "draft-8", false, got ${describeValue(standard)}`,
    );
  }
  if (typeof legacy !== 'boolean') {
    throw new TypeError(`${OWNER}: legacy must be a boolean, got ${describeValue(legacy)}`);
  }
  if (typeof policyName !== 'string' || !/^[\x20-\x7e]*$/.test(policyName)) {
    throw new TypeError(`${OWNER}: policyName must be a string of printable ASCII, got ${describeValue(policyName)}`);
  }
  if (standard === false && !legacy) return;
  for (const field of ['rate', 'burst', 'interval'] as const) {
    const value: unknown = settings[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new TypeError(`${OWNER}: ${field} must be a finite number > 0, got ${describeValue(value)}`);
    }
  }
}

/**
 * Writes the standard rate-limit headers of a decision, through whatever
 * sets a header in the framework at hand. The policy part is computed once:
 * a token bucket of `burst` tokens refilled at `rate` per `interval` is
 * advertised as a quota of `burst` over the time it takes to refill the
 * whole bucket (whole seconds, rounded up, at least 1), which states both
 * the burst and the long-run rate.
 *
 * @example
 * ```ts
 * const headers = new RateLimitHeaders({ standard: 'draft-7', legacy: false, policyName: 'default', burst: 10, rate: 10, interval: 1000 });
 * headers.write(res, limiter.consume(key, 1), (res, name, value) => res.setHeader(name, value));
 * ```
 */
export class RateLimitHeaders {
  readonly #standard: StandardHeadersVersion | false;
  readonly #legacy: boolean;
  readonly #name: string;
  /** The whole `RateLimit-Policy` value, fixed for the limiter. */
  readonly policy: string;
  /**
   * The first header {@link RateLimitHeaders.write} sets (`RateLimit`, or
   * `X-RateLimit-Limit` with legacy headers only), `undefined` when none: an
   * adapter can tell from it whether a response already carries them.
   */
  readonly firstHeader: string | undefined;

  /**
   * @param settings - header choice and the limiter's settings
   * @throws TypeError naming the field and the value when `settings` is not an object, `standard` is not
   *   `'draft-7'`, `'draft-8'` or `false`, `legacy` is not a boolean, `policyName` is not printable ASCII (a
   *   newline would make every response fail as it is written), or, when any header is written, `rate`, `burst` or
   *   `interval` is not a finite number > 0
   */
  constructor(settings: RateLimitHeaderSettings) {
    checkSettings(settings);
    this.#standard = settings.standard;
    this.#legacy = settings.legacy;
    this.#name = sfString(settings.policyName);
    const quota = headerInteger(Math.floor(settings.burst));
    const windowSeconds = headerInteger(
      Math.max(1, Math.ceil((settings.burst * settings.interval) / settings.rate / 1000)),
    );
    this.policy =
      settings.standard === 'draft-8' ? `${this.#name};q=${quota};w=${windowSeconds}` : `${quota};w=${windowSeconds}`;
    this.firstHeader = settings.standard !== false ? 'RateLimit' : settings.legacy ? 'X-RateLimit-Limit' : undefined;
  }

  /** Whether any header is written at all. */
  get enabled(): boolean {
    return this.#standard !== false || this.#legacy;
  }

  /**
   * Sets the headers of `decision` on `target` with `set` (a function
   * hoisted by the adapter, so no closure is made per request).
   *
   * @param target - the response (or context) the headers go on
   * @param decision - the limiter's decision
   * @param set - sets one header on `target`
   */
  write<T>(target: T, decision: RateLimitDecision, set: (target: T, name: string, value: string) => void): void {
    const limit = headerInteger(Math.floor(decision.limit));
    const remaining = headerInteger(Math.floor(decision.remaining));
    const resetSeconds = headerInteger(Math.ceil(decision.resetMs / 1000));
    if (this.#standard === 'draft-7') {
      set(target, 'RateLimit', `limit=${limit}, remaining=${remaining}, reset=${resetSeconds}`);
      set(target, 'RateLimit-Policy', this.policy);
    } else if (this.#standard === 'draft-8') {
      set(target, 'RateLimit', `${this.#name};r=${remaining};t=${resetSeconds}`);
      set(target, 'RateLimit-Policy', this.policy);
    }
    if (this.#legacy) {
      set(target, 'X-RateLimit-Limit', String(limit));
      set(target, 'X-RateLimit-Remaining', String(remaining));
      set(
        target,
        'X-RateLimit-Reset',
        String(headerInteger(Math.ceil((Date.now() + Math.max(0, decision.resetMs)) / 1000))),
      );
    }
  }
}
