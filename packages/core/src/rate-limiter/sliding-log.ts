import { type Algorithm, KeyState, MIN_DELAY_MS, TOKEN_EPSILON } from './key-state.js';
import type { WaitQueue } from './wait-queue.js';

/** How many whole log entries `tokens` take (a fraction rounds up). */
function entries(tokens: number): number {
  return Math.ceil(tokens - TOKEN_EPSILON);
}

/** The ring a key's first take allocates (it doubles as the key takes more, up to `limit`). */
const FIRST_RING = 8;

/**
 * The exact sliding log: a key remembers the time of each token taken in the
 * last `interval` ms, in a ring (a `Float64Array`, allocated on the key's
 * first take with room for a few entries, doubled when full, never beyond
 * `limit` entries, and reused), and a take is allowed when the tokens of the
 * last `interval` ms plus the new ones stay within `limit`. A key's memory
 * follows the tokens it actually took (at most 8 × `limit` bytes), so many
 * keys that each take little stay cheap. No approximation: any
 * `interval`-long span holds at most `limit` tokens. Tokens are counted in
 * whole units (a fractional take rounds up).
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
    const size = log.length;
    if (size > this.limit || count > size) {
      // A ring made for another limit (a state carried over from another configuration): start empty.
      state.prev = 0;
      state.curr = 0;
      return 0;
    }
    const cutoff = now - this.#interval;
    let head = state.prev;
    while (count > 0 && (log[head] as number) <= cutoff) {
      head = head + 1 === size ? 0 : head + 1;
      count--;
    }
    state.prev = head;
    state.curr = count;
    return count;
  }

  /** The time of the `i`-th oldest entry (0-based) of a ring holding at least `i + 1` entries. */
  #entry(state: KeyState, i: number): number {
    const log = state.log as Float64Array;
    return log[(state.prev + i) % log.length] as number;
  }

  /** Makes room for `needed` entries (<= limit) in `state`'s ring, keeping its `count` entries in order. */
  #reserve(state: KeyState, count: number, needed: number): Float64Array {
    const log = state.log;
    if (log !== null && log.length >= needed && log.length <= this.limit) return log;
    let size = log === null || log.length > this.limit ? FIRST_RING : log.length * 2;
    if (size < needed) size = needed;
    if (size > this.limit) size = this.limit;
    const ring = new Float64Array(size);
    if (log !== null && log.length <= this.limit) {
      for (let i = 0; i < count; i++) ring[i] = log[(state.prev + i) % log.length] as number;
    }
    state.log = ring;
    state.prev = 0;
    return ring;
  }

  take(state: KeyState, tokens: number, now: number): boolean {
    const n = entries(tokens);
    const count = this.#expire(state, now);
    if (count + n > this.limit) return false;
    let log = state.log;
    if (log === null || log.length < count + n || log.length > this.limit) log = this.#reserve(state, count, count + n);
    const size = log.length;
    let slot = (state.prev + count) % size;
    for (let i = 0; i < n; i++) {
      log[slot] = now;
      slot = slot + 1 === size ? 0 : slot + 1;
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
    return Math.max(this.#entry(state, over - 1) + this.#interval - now, MIN_DELAY_MS);
  }

  queueDelay(state: KeyState, queue: WaitQueue, tokens: number, now: number): number {
    // Replays the queue on a copy: each waiter takes as soon as it can, in order.
    const copy = this.#scratch;
    const count = this.#expire(state, now);
    copy.prev = 0;
    copy.curr = 0;
    if (count > 0) {
      const ring = this.#reserve(copy, 0, count);
      for (let i = 0; i < count; i++) ring[i] = this.#entry(state, i);
      copy.curr = count;
    }
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
    return this.#entry(state, count - 1) + this.#interval - now;
  }

  isFresh(state: KeyState, at: number): boolean {
    const log = state.log;
    const count = state.curr;
    if (log === null || count === 0 || log.length > this.limit || count > log.length) return true;
    return this.#entry(state, count - 1) + this.#interval <= at;
  }
}
