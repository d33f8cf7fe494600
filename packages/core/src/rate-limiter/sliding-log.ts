import { type Algorithm, KeyState, MIN_DELAY_MS, TOKEN_EPSILON } from './key-state.js';
import type { WaitQueue } from './wait-queue.js';

/** How many whole log entries `tokens` take (a fraction rounds up). */
function entries(tokens: number): number {
  return Math.ceil(tokens - TOKEN_EPSILON);
}

/**
 * The exact sliding log: a key remembers the time of each token taken in the
 * last `interval` ms, in a ring of `limit` slots (a `Float64Array` of 8 ×
 * `limit` bytes, allocated on the key's first take and reused), and a take is
 * allowed when the tokens of the last `interval` ms plus the new ones stay
 * within `limit`. No approximation: any `interval`-long span holds at most
 * `limit` tokens. Tokens are counted in whole units (a fractional take rounds up).
 *
 * In {@link KeyState}: `log` is the ring, `prev` the index of the oldest
 * entry and `curr` the number of entries.
 */
export class SlidingLog implements Algorithm {
  /** Tokens allowed per `interval`. */
  readonly limit: number;
  readonly #interval: number;
  readonly #scratch = new KeyState();

  /**
   * @param limit - tokens per interval (a whole number >= 1)
   * @param interval - the window, in ms
   */
  constructor(limit: number, interval: number) {
    this.limit = limit;
    this.#interval = interval;
  }

  /** Drops the entries that left the window at `now`; returns how many remain. */
  #expire(state: KeyState, now: number): number {
    const log = state.log;
    let count = state.curr;
    if (log === null || count === 0) return 0;
    const limit = this.limit;
    if (log.length !== limit) {
      // A ring made for another limit (a state carried over from another configuration): start empty.
      state.prev = 0;
      state.curr = 0;
      return 0;
    }
    const cutoff = now - this.#interval;
    let head = state.prev;
    while (count > 0 && (log[head] as number) <= cutoff) {
      head = head + 1 === limit ? 0 : head + 1;
      count--;
    }
    state.prev = head;
    state.curr = count;
    return count;
  }

  take(state: KeyState, tokens: number, now: number): boolean {
    const n = entries(tokens);
    const count = this.#expire(state, now);
    const limit = this.limit;
    if (count + n > limit) return false;
    let log = state.log;
    if (log === null || log.length !== limit) {
      log = new Float64Array(limit);
      state.log = log;
      state.prev = 0;
    }
    let slot = (state.prev + count) % limit;
    for (let i = 0; i < n; i++) {
      log[slot] = now;
      slot = slot + 1 === limit ? 0 : slot + 1;
    }
    state.curr = count + n;
    return true;
  }

  delay(state: KeyState, tokens: number, now: number): number {
    const n = entries(tokens);
    const count = this.#expire(state, now);
    const over = count + n - this.limit;
    if (over <= 0) return 0;
    // The `over`-th oldest entry must leave the window first.
    const at = (state.log as Float64Array)[(state.prev + over - 1) % this.limit] as number;
    return Math.max(at + this.#interval - now, MIN_DELAY_MS);
  }

  queueDelay(state: KeyState, queue: WaitQueue, tokens: number, now: number): number {
    // Replays the queue on a copy: each waiter takes as soon as it can, in order.
    const copy = this.#scratch;
    if (copy.log === null || copy.log.length !== this.limit) copy.log = new Float64Array(this.limit);
    if (state.log !== null && state.log.length === this.limit) copy.log.set(state.log);
    copy.prev = state.log === null ? 0 : state.prev;
    copy.curr = state.log === null ? 0 : state.curr;
    let at = now;
    for (const waiter of queue.list) {
      at += this.delay(copy, waiter.tokens, at);
      if (!this.take(copy, waiter.tokens, at)) at += MIN_DELAY_MS; // Rounding: the next instant.
    }
    return at + this.delay(copy, tokens, at) - now;
  }

  available(state: KeyState, now: number): number {
    return this.limit - this.#expire(state, now);
  }

  resetMs(state: KeyState, now: number): number {
    const count = this.#expire(state, now);
    if (count === 0) return 0;
    const newest = (state.log as Float64Array)[(state.prev + count - 1) % this.limit] as number;
    return newest + this.#interval - now;
  }

  isFresh(state: KeyState, at: number): boolean {
    const count = state.curr;
    if (state.log === null || count === 0 || state.log.length !== this.limit) return true;
    const newest = state.log[(state.prev + count - 1) % this.limit] as number;
    return newest + this.#interval <= at;
  }
}
