/** What the origin map needs from a breaker: its state (reading it applies a due open → half-open move). */
export interface StatefulBreaker {
  /** `'closed' | 'open' | 'half-open'`. */
  readonly state: string;
  /** The core breaker's snapshot: how long an open breaker stays open. */
  toJSON?(): { readonly openRemainingMs?: number | undefined };
}

/** An open breaker set aside until its open time ends. */
interface Parked<B> {
  readonly at: number;
  readonly seq: number;
  readonly origin: string;
  readonly breaker: B;
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
  /**
   * Open breakers taken out of the recency order, so that eviction does not
   * walk past them on every new origin (thousands of dead origins made each
   * call cost a scan of all of them); `#due` orders them by the end of their
   * open time, when they may be forgotten.
   */
  readonly #parked = new Map<string, B>();
  /** A min-heap on `at` (then `seq`); entries whose breaker left `#parked` are skipped when they come up. */
  readonly #due: Parked<B>[] = [];
  #seq = 0;
  readonly #now: () => number;
  /** Requests in flight per origin (only origins with some). */
  readonly #busy = new Map<string, number>();

  /**
   * @param max - the bound (an integer >= 1, checked by the caller)
   * @param create - makes the breaker of a new origin
   * @param now - the breakers' clock, in ms (the same one, or open times end at the wrong moment)
   */
  constructor(max: number, create: (origin: string) => B, now: () => number) {
    this.max = max;
    this.#create = create;
    this.#now = now;
  }

  /** How many origins have a breaker. */
  get size(): number {
    return this.#map.size + this.#parked.size;
  }

  /** The breaker of `origin`, if it has one (does not touch its recency). */
  peek(origin: string): B | undefined {
    return this.#map.get(origin) ?? this.#parked.get(origin);
  }

  /** The origins with a breaker: the open ones set aside, then the others least recently used first. */
  origins(): string[] {
    return [...this.#parked.keys(), ...this.#map.keys()];
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
    breaker = this.#parked.get(origin);
    if (breaker === undefined) breaker = this.#create(origin);
    else if (breaker.state === 'open')
      return breaker; // still set aside: it refuses calls, its recency is moot
    else this.#parked.delete(origin);
    this.#newest = origin;
    map.set(origin, breaker);
    if (this.size > this.max) this.#evict(origin);
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
    let excess = this.size - this.max;
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
      } else {
        map.delete(origin);
        this.#park(origin, breaker);
      }
    }
    if (halfOpen !== undefined) {
      for (const origin of halfOpen) {
        map.delete(origin);
        if (--excess === 0) return;
      }
    }
    // Set-aside breakers whose open time has ended may go now, the earliest first.
    const due = this.#due;
    const now = this.#now();
    while (due.length > 0 && due[0]!.at <= now) {
      const entry = popMin(due);
      if (this.#parked.get(entry.origin) !== entry.breaker) continue; // used again since: not parked any more
      if (entry.breaker.state === 'open' || this.#busy.has(entry.origin)) {
        this.#park(entry.origin, entry.breaker, now); // still open (a longer open time) or busy: later
        continue;
      }
      this.#parked.delete(entry.origin);
      if (--excess === 0) return;
    }
  }

  /** Sets an open breaker aside until its open time ends. */
  #park(origin: string, breaker: B, now = this.#now()): void {
    const remaining = breaker.toJSON?.().openRemainingMs;
    const wait = typeof remaining === 'number' && remaining > 0 ? remaining : 1;
    this.#parked.set(origin, breaker);
    pushHeap(this.#due, { at: now + wait, seq: this.#seq++, origin, breaker });
  }
}

function before<B>(a: Parked<B>, b: Parked<B>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function pushHeap<B>(heap: Parked<B>[], entry: Parked<B>): void {
  let i = heap.length;
  heap.push(entry);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(entry, heap[parent]!)) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = entry;
}

function popMin<B>(heap: Parked<B>[]): Parked<B> {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length === 0) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
    if (!before(heap[child]!, last)) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
  return top;
}
