import type { ListNode } from '../internal/intrusive-list.js';
import type { WaitQueue } from './wait-queue.js';

/**
 * The state of one key. Every key has the same shape, whatever the algorithm,
 * so the `Map` of keys stays monomorphic and an update allocates nothing.
 */
export class KeyState implements ListNode<KeyState> {
  /** Token bucket: the scaled time at which the bucket is full again. Sliding window: the current window's index. */
  level = 0;
  /** Sliding window: tokens taken in the previous window. Sliding log: the index of the oldest entry. */
  prev = 0;
  /** Sliding window: tokens taken in the current window. Sliding log: the number of entries. */
  curr = 0;
  /** Sliding log: the ring of entry times (allocated on the key's first take), `null` for the other algorithms. */
  log: Float64Array | null = null;
  /** The callers of `wait` queued on this key, or `null` when none is. */
  waiters: WaitQueue | null = null;
  /** The key, for the key store (`''` for states it does not hold). */
  key = '';
  /** The next less recently used key (the key store's recency list, oldest first). */
  listPrev: KeyState | null = null;
  /** The next more recently used key (the key store's recency list, oldest first). */
  listNext: KeyState | null = null;

  /** Back to the state of a key never seen. */
  reset(): void {
    this.level = 0;
    this.prev = 0;
    this.curr = 0;
    this.waiters = null;
  }
}

/**
 * A counting algorithm working on {@link KeyState}s. `take` and `delay` agree:
 * `delay(s, n, now)` is 0 exactly when `take(s, n, now)` would succeed.
 */
export interface Algorithm {
  /** The most tokens a key can hold. */
  readonly limit: number;
  /** Takes `tokens` at `now` when they are there; `false` (and no change) otherwise. */
  take(state: KeyState, tokens: number, now: number): boolean;
  /** Milliseconds from `now` until `tokens` can be taken; 0 when they can now. */
  delay(state: KeyState, tokens: number, now: number): number;
  /** Milliseconds from `now` until the callers queued on `state` and then `tokens` more are served. */
  queueDelay(state: KeyState, queue: WaitQueue, tokens: number, now: number): number;
  /** Tokens (possibly fractional) that could be taken at `now`. */
  available(state: KeyState, now: number): number;
  /** Milliseconds until the key is back to its full limit if nothing more is taken. */
  resetMs(state: KeyState, now: number): number;
  /**
   * Whether the key was already indistinguishable from a key never seen at
   * time `at` (<= now), so forgetting it changes nothing. Does not change `state`.
   */
  isFresh(state: KeyState, at: number): boolean;
}

/** A tolerance, in tokens, for floating-point rounding in comparisons (a billionth of a token). */
export const TOKEN_EPSILON = 1e-9;

/** The smallest wake-up delay when rounding leaves a hair's breadth to wait. */
export const MIN_DELAY_MS = 1e-6;
