import { type Algorithm, type KeyState, MIN_DELAY_MS, TOKEN_EPSILON } from './key-state.js';
import type { WaitQueue } from './wait-queue.js';

/**
 * The leaky bucket as a meter with no burst tolerance (the generic cell rate
 * algorithm with a zero limit): a take of `n` tokens is allowed only once the
 * previous takes have drained (`interval / rate` ms per token), and then
 * pushes the next admission `n × interval / rate` ms later. Admissions are
 * spaced evenly, never bunched: `wait()` callers are released one by one at
 * the rate, however many queue up at once. `limit` (the limiter's `burst`,
 * default 1) is only the largest single take.
 *
 * A key's state is one number, `level`: the scaled time at which the bucket
 * is empty again (times scaled by `rate`, so a token costs exactly `interval`).
 */
export class LeakyBucket implements Algorithm {
  /** The largest single take. */
  readonly limit: number;
  readonly #rate: number;
  readonly #interval: number;
  readonly #origin: number;
  readonly #eps: number;

  /**
   * @param rate - tokens per interval
   * @param interval - ms
   * @param limit - the largest single take
   * @param origin - clock time taken as 0
   */
  constructor(rate: number, interval: number, limit: number, origin: number) {
    this.limit = limit;
    this.#rate = rate;
    this.#interval = interval;
    this.#origin = origin;
    this.#eps = TOKEN_EPSILON * interval;
  }

  take(state: KeyState, tokens: number, now: number): boolean {
    const t = (now - this.#origin) * this.#rate;
    const level = state.level;
    if (level - t > this.#eps) return false;
    state.level = (level > t ? level : t) + tokens * this.#interval;
    return true;
  }

  delay(state: KeyState, _tokens: number, now: number): number {
    const t = (now - this.#origin) * this.#rate;
    const owed = state.level - t;
    return owed > this.#eps ? Math.max(owed / this.#rate, MIN_DELAY_MS) : 0;
  }

  queueDelay(state: KeyState, queue: WaitQueue, _tokens: number, now: number): number {
    // The queued callers are admitted one after the other; then it is this caller's turn.
    const t = (now - this.#origin) * this.#rate;
    const start = state.level > t ? state.level : t;
    return Math.max((start + queue.tokens * this.#interval - t) / this.#rate, MIN_DELAY_MS);
  }

  available(state: KeyState, now: number): number {
    return state.level - (now - this.#origin) * this.#rate > this.#eps ? 0 : this.limit;
  }

  resetMs(state: KeyState, now: number): number {
    const t = (now - this.#origin) * this.#rate;
    return state.level > t ? (state.level - t) / this.#rate : 0;
  }

  isFresh(state: KeyState, at: number): boolean {
    return state.level <= (at - this.#origin) * this.#rate;
  }
}
