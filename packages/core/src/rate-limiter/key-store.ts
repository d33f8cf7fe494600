import { IntrusiveList } from '../internal/intrusive-list.js';
import { describeValue } from '../internal/validate.js';
import { type Algorithm, KeyState } from './key-state.js';

/** How many keys at the old end the idle sweep may drop per new key. */
const SWEEP_PER_INSERT = 2;
/** How many keys with waiters eviction steps over before evicting one anyway. */
const EVICTION_PROBES = 8;

/**
 * Refuses a key that is neither a string nor a number (numbers are kept as
 * they are, for callers that pass numeric ids): an object or a symbol would
 * be a fresh bucket on every call, so nothing would ever be limited.
 */
function checkKey(key: unknown): void {
  if (typeof key !== 'string' && typeof key !== 'number') {
    throw new TypeError(
      `RateLimiter: key must be a string (or omitted for the shared bucket), got ${describeValue(key)}`,
    );
  }
}

/**
 * The per-key states of a limiter: a `Map` for lookup (so `__proto__` or
 * `constructor` are ordinary keys) and a recency list through the states
 * themselves (an {@link IntrusiveList}, oldest first), bounded by `maxKeys`. A `Map`'s own insertion order is
 * not used as the LRU order: deleting from its front leaves holes that every
 * later iteration skips, which turns a flood of new keys quadratic.
 *
 * A lookup of the most recent key changes nothing (it is found at the young end
 * without a `Map` lookup); any other moves the key to the young end with a few
 * pointer writes (exact LRU, no allocation).
 *
 * Expiry: each new key first drops up to two keys at the old end whose state
 * has been back to that of a key never seen for `idleTtl` ms (forgetting them
 * changes no decision; the delay spares keys that come and go the cost of
 * being re-created), then, at the cap, evicts the least recently used key,
 * stepping over keys with queued waiters. No timer.
 */
export class KeyStore {
  /** The cap on keys. */
  readonly maxKeys: number;
  readonly #map = new Map<string, KeyState>();
  #algorithm: Algorithm;
  readonly #idleTtl: number;
  readonly #sweepLimit: number;
  /** The kept states, least recently used first. */
  readonly #lru = new IntrusiveList<KeyState>();

  /**
   * @param maxKeys - the cap on keys
   * @param idleTtl - how long a key must have been fresh before the sweep drops it (ms)
   * @param algorithm - tells which keys may be forgotten
   */
  constructor(maxKeys: number, idleTtl: number, algorithm: Algorithm) {
    this.maxKeys = maxKeys;
    this.#idleTtl = idleTtl;
    this.#sweepLimit = idleTtl === Number.POSITIVE_INFINITY ? 0 : SWEEP_PER_INSERT;
    this.#algorithm = algorithm;
  }

  /** How many keys are kept. */
  get size(): number {
    return this.#map.size;
  }

  /** The state of `key`, if it is kept (without touching recency). */
  peek(key: string): KeyState | undefined {
    const state = this.#map.get(key);
    if (state === undefined) checkKey(key);
    return state;
  }

  /**
   * The state of `key`, created when new; it becomes the most recently used.
   * A key that is neither a string nor a number is a `TypeError` (checked
   * only for a key not kept, so a known key costs nothing more).
   */
  get(key: string, now: number): KeyState {
    // The most recently used key (a hot key, a client sending a burst) is the
    // recency list's tail: answered without hashing the key, and already in place.
    const last = this.#lru.last;
    if (last !== null && last.key === key) return last;
    const state = this.#map.get(key);
    if (state === undefined) {
      checkKey(key);
      return this.#insert(key, now);
    }
    this.#lru.moveToBack(state);
    return state;
  }

  /** Drops every key whose state is back to that of a key never seen; returns how many. */
  prune(now: number): number {
    let dropped = 0;
    for (let state = this.#lru.first; state !== null; ) {
      const newer = state.listNext;
      if (state.waiters === null && this.#algorithm.isFresh(state, now)) {
        this.#drop(state);
        dropped++;
      }
      state = newer;
    }
    return dropped;
  }

  #insert(key: string, now: number): KeyState {
    const idleSince = now - this.#idleTtl;
    for (let swept = 0; swept < this.#sweepLimit; swept++) {
      const oldest = this.#lru.first;
      if (oldest === null || oldest.waiters !== null || !this.#algorithm.isFresh(oldest, idleSince)) break;
      this.#drop(oldest);
    }
    if (this.#map.size >= this.maxKeys) this.#evict();
    const state = new KeyState();
    state.key = key;
    this.#map.set(key, state);
    this.#lru.push(state);
    return state;
  }

  #evict(): void {
    const lru = this.#lru;
    for (let probes = 0; probes < EVICTION_PROBES; probes++) {
      const oldest = lru.first as KeyState;
      if (oldest.waiters === null) {
        this.#drop(oldest);
        return;
      }
      lru.moveToBack(oldest);
    }
    // Every probed key has waiters: the oldest goes anyway and keeps serving them on its own.
    this.#drop(lru.first as KeyState);
  }

  #drop(state: KeyState): void {
    this.#lru.unlink(state);
    this.#map.delete(state.key);
  }

  /** Every kept state (for a limiter's `update()`). */
  states(): IterableIterator<KeyState> {
    return this.#map.values();
  }

  /** Switches to `algorithm` (a limiter's `update()`, once every kept state has been carried over to it). */
  retune(algorithm: Algorithm): void {
    this.#algorithm = algorithm;
  }
}
