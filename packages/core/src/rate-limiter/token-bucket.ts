import { type Algorithm, type KeyState, MIN_DELAY_MS, TOKEN_EPSILON } from './key-state.js';
import type { WaitQueue } from './wait-queue.js';

/**
 * The token bucket, in the form of the generic cell rate algorithm: a key's
 * whole state is one number, the time at which its bucket is full again.
 *
 * Times are scaled by `rate` (`(now - origin) * rate`) so that a token costs
 * exactly `interval` units: with whole-millisecond times and whole `rate`,
 * `interval` and `burst` the arithmetic is exact (no drift, no lost fractions).
 * A key at level `F` at scaled time `t` owes `max(F - t, 0)` units and has
 * `burst - owed / interval` tokens; refill is computed lazily, no timers.
 */
export class TokenBucket implements Algorithm {
  /** The bucket size. */
  readonly limit: number;
  readonly #rate: number;
  readonly #interval: number;
  readonly #origin: number;
  readonly #capacity: number;
  readonly #capacityEps: number;

  /**
   * @param rate - tokens per interval
   * @param interval - ms
   * @param burst - bucket size
   * @param origin - clock time taken as 0, to keep the scaled numbers small
   */
  constructor(rate: number, interval: number, burst: number, origin: number) {
    this.limit = burst;
    this.#rate = rate;
    this.#interval = interval;
    this.#origin = origin;
    this.#capacity = burst * interval;
    this.#capacityEps = (burst + TOKEN_EPSILON) * interval;
  }

  take(state: KeyState, tokens: number, now: number): boolean {
    const t = (now - this.#origin) * this.#rate;
    const level = state.level;
    const next = (level > t ? level : t) + tokens * this.#interval;
    if (next - t > this.#capacityEps) return false;
    state.level = next;
    return true;
  }

  delay(state: KeyState, tokens: number, now: number): number {
    const t = (now - this.#origin) * this.#rate;
    const next = (state.level > t ? state.level : t) + tokens * this.#interval;
    if (next - t <= this.#capacityEps) return 0;
    return Math.max((next - t - this.#capacity) / this.#rate, MIN_DELAY_MS);
  }

  queueDelay(state: KeyState, queue: WaitQueue, tokens: number, now: number): number {
    // Queued callers take in order, each as soon as its tokens exist: together
    // they wait exactly as long as one caller taking all their tokens would.
    return this.delay(state, queue.tokens + tokens, now);
  }

  available(state: KeyState, now: number): number {
    const t = (now - this.#origin) * this.#rate;
    const owed = state.level > t ? state.level - t : 0;
    return (this.#capacity - owed) / this.#interval;
  }

  resetMs(state: KeyState, now: number): number {
    const t = (now - this.#origin) * this.#rate;
    return state.level > t ? (state.level - t) / this.#rate : 0;
  }

  isFresh(state: KeyState, at: number): boolean {
    return state.level <= (at - this.#origin) * this.#rate;
  }
}
