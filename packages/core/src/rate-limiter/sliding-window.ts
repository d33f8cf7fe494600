import { type Algorithm, KeyState, MIN_DELAY_MS, TOKEN_EPSILON } from './key-state.js';
import type { WaitQueue } from './wait-queue.js';

/**
 * The sliding window in its two-window approximation (as used by Cloudflare
 * and most Redis limiters): time is cut into fixed windows of `interval` ms;
 * a key counts the tokens taken in the current window and the previous one,
 * and estimates the tokens taken in the last `interval` ms as
 * `prev * (1 - elapsed / interval) + curr`, assuming the previous window's
 * calls were spread evenly. A take is allowed when the estimate plus the
 * tokens stays within `limit`.
 *
 * Error bound: no fixed window ever holds more than `limit` tokens, so any
 * `interval`-long span (which overlaps at most two windows) holds fewer than
 * `2 * limit`; that worst case needs the previous window's calls bunched at
 * its very end. With evenly spread traffic the estimate is exact, and in
 * practice the error is a small fraction of a percent. Memory is three numbers
 * per key, whatever the limit (an exact log would keep `limit` timestamps).
 *
 * Not an `internal/rolling-counter.ts` (the breaker's time window and the
 * retry budget), on purpose: the estimate needs the previous window's count
 * weighted by how far the current one has run, where a rolling counter drops
 * whole buckets and counts ones, not token weights; and a counter per key is
 * an object and two arrays, about 200 B more per key (measured on Node 20:
 * ~88 B for a key's state as it is, ~290 B with a two-bucket counter beside
 * it), while these three numbers live in the key's state, whose shape every
 * algorithm shares.
 */
export class SlidingWindow implements Algorithm {
  /** Tokens allowed per window. */
  readonly limit: number;
  readonly #interval: number;
  readonly #origin: number;
  readonly #scratch = new KeyState();

  /**
   * @param limit - tokens per window
   * @param interval - window length in ms
   * @param origin - clock time at which window 0 starts
   */
  constructor(limit: number, interval: number, origin: number) {
    this.limit = limit;
    this.#interval = interval;
    this.#origin = origin;
  }

  /** Moves `state` to the window of `now`; returns how many ms into it `now` is. */
  #roll(state: KeyState, now: number): number {
    const interval = this.#interval;
    const elapsed = now - this.#origin;
    const index = Math.floor(elapsed / interval);
    if (index > state.level) {
      state.prev = index - state.level === 1 ? state.curr : 0;
      state.curr = 0;
      state.level = index;
    }
    return elapsed - state.level * interval;
  }

  #fits(state: KeyState, tokens: number, into: number): boolean {
    const previousShare = state.prev * ((this.#interval - into) / this.#interval);
    return previousShare + state.curr + tokens <= this.limit + TOKEN_EPSILON;
  }

  take(state: KeyState, tokens: number, now: number): boolean {
    if (!this.#fits(state, tokens, this.#roll(state, now))) return false;
    state.curr += tokens;
    return true;
  }

  commit(state: KeyState, tokens: number, now: number): void {
    this.#roll(state, now);
    state.curr += tokens;
  }

  delay(state: KeyState, tokens: number, now: number): number {
    const into = this.#roll(state, now);
    if (this.#fits(state, tokens, into)) return 0;
    const interval = this.#interval;
    const room = this.limit - tokens - state.curr;
    // Within this window once the previous one's share has decayed to the
    // room left, else in the next window once this one's share has.
    const at =
      room >= 0
        ? ((state.prev - room) * interval) / state.prev
        : interval + ((state.curr - (this.limit - tokens)) * interval) / state.curr;
    return Math.max(at - into, MIN_DELAY_MS);
  }

  queueDelay(state: KeyState, queue: WaitQueue, tokens: number, now: number): number {
    // Replays the queue on a copy: each waiter takes as soon as it can, in order.
    const copy = this.#scratch;
    copy.level = state.level;
    copy.prev = state.prev;
    copy.curr = state.curr;
    let at = now;
    for (const waiter of queue.list) {
      at += this.delay(copy, waiter.tokens, at);
      this.commit(copy, waiter.tokens, at);
    }
    return at + this.delay(copy, tokens, at) - now;
  }

  available(state: KeyState, now: number): number {
    const into = this.#roll(state, now);
    return this.limit - state.prev * ((this.#interval - into) / this.#interval) - state.curr;
  }

  resetMs(state: KeyState, now: number): number {
    const into = this.#roll(state, now);
    if (state.curr > 0) return 2 * this.#interval - into;
    return state.prev > 0 ? this.#interval - into : 0;
  }

  isFresh(state: KeyState, at: number): boolean {
    const index = Math.floor((at - this.#origin) / this.#interval);
    if (index > state.level + 1) return true;
    if (index === state.level + 1) return state.curr === 0;
    return state.prev === 0 && state.curr === 0;
  }
}
