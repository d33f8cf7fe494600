/** What the origin map needs from a breaker: its state (reading it applies a due open → half-open move). */
export interface StatefulBreaker {
  /** `'closed' | 'open' | 'half-open'`. */
  readonly state: string;
}

/**
 * One circuit breaker per origin, at most `max` of them in the usual case,
 * least recently used first out. Eviction forgets closed breakers first,
 * then half-open ones, never one with requests in flight (their outcomes
 * would reach a forgotten breaker: a dead origin busy with slow failures
 * would never trip), and never an open one: its open time has not ended
 * (the core moves a breaker from open to half-open when that time has
 * passed and its state is read), and forgetting it would let traffic flood an
 * origin known to be down. When every other breaker is open or busy the map
 * holds more than `max` until their open times end or their requests settle.
 *
 * @typeParam B - the breaker type
 */
export class OriginBreakers<B extends StatefulBreaker> {
  /** The most breakers kept while some can be forgotten. */
  readonly max: number;
  readonly #create: (origin: string) => B;
  /** Insertion order is recency order: the first entry is the least recently used. */
  readonly #map = new Map<string, B>();
  /** The most recently used origin (the last entry of the map). */
  #newest: string | undefined = undefined;
  /** Requests in flight per origin (only origins with some). */
  readonly #busy = new Map<string, number>();

  /**
   * @param max - the bound (an integer >= 1, checked by the caller)
   * @param create - makes the breaker of a new origin
   */
  constructor(max: number, create: (origin: string) => B) {
    this.max = max;
    this.#create = create;
  }

  /** How many origins have a breaker. */
  get size(): number {
    return this.#map.size;
  }

  /** The breaker of `origin`, if it has one (does not touch its recency). */
  peek(origin: string): B | undefined {
    return this.#map.get(origin);
  }

  /** The origins with a breaker, least recently used first. */
  origins(): string[] {
    return [...this.#map.keys()];
  }

  /** The breaker of `origin`, made when it has none, marked most recently used. */
  get(origin: string): B {
    const map = this.#map;
    let breaker = map.get(origin);
    if (breaker !== undefined) {
      if (origin === this.#newest) return breaker; // already the most recent: no Map churn
      this.#newest = origin;
      map.delete(origin);
      map.set(origin, breaker);
      return breaker;
    }
    breaker = this.#create(origin);
    this.#newest = origin;
    map.set(origin, breaker);
    if (map.size > this.max) this.#evict(origin);
    return breaker;
  }

  /** Marks a request to `origin` in flight: its breaker is not forgotten until {@link OriginBreakers.leave}. */
  enter(origin: string): void {
    this.#busy.set(origin, (this.#busy.get(origin) ?? 0) + 1);
  }

  /** A request to `origin` that {@link OriginBreakers.enter} marked has settled. */
  leave(origin: string): void {
    const busy = this.#busy;
    const n = (busy.get(origin) ?? 1) - 1;
    if (n > 0) busy.set(origin, n);
    else busy.delete(origin);
  }

  /** Forgets breakers until `max` remain or only open or busy ones (and the newest, `keep`) are left. */
  #evict(keep: string): void {
    const map = this.#map;
    let excess = map.size - this.max;
    let halfOpen: string[] | undefined;
    for (const [origin, breaker] of map) {
      if (origin === keep || this.#busy.has(origin)) continue;
      const state = breaker.state;
      if (state === 'closed') {
        map.delete(origin);
        if (--excess === 0) return;
      } else if (state === 'half-open') {
        halfOpen ??= [];
        halfOpen.push(origin);
      }
    }
    if (halfOpen === undefined) return;
    for (const origin of halfOpen) {
      map.delete(origin);
      if (--excess === 0) return;
    }
  }
}
