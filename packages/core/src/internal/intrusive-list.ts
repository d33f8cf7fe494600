/**
 * The links an element carries so that it can sit in an {@link IntrusiveList}:
 * the element is its own node, so linking it allocates nothing.
 *
 * Both links are `null` while the element is in no list (initialise them to
 * `null` in the constructor, so every instance has the same shape). The names
 * are prefixed with `list` so they do not clash with an element's own fields
 * (a rate-limit key state already has a `prev` counter).
 */
export interface ListNode<N> {
  /** The element before this one (towards the head), or `null` at the head or when in no list. */
  listPrev: N | null;
  /** The element after this one (towards the tail), or `null` at the tail or when in no list. */
  listNext: N | null;
}

/**
 * A doubly linked list threaded through its elements (an intrusive list):
 * every element is its own node and carries its `listPrev`/`listNext` links
 * ({@link ListNode}). `push`, `shift`, `remove`, `moveToBack`, `first`, `last`
 * and `size` are O(1) and allocate nothing. Used as a FIFO of waiters that may
 * leave from the middle at any time (bulkhead and rate-limit waiters), as the
 * Timeout's queue of deadlines and as the rate limiter's LRU order of keys.
 *
 * Rules, not checked on the hot path:
 * - An element is in at most one list at a time (it has one pair of links).
 * - `push` takes an element that is in no list.
 * - `unlink` and `moveToBack` take an element of this list.
 * - `has` and `remove` take an element of this list or of none: membership is
 *   read from the links (an element is linked when it has a predecessor or is
 *   the head), so there is no owner field to write on every push and unlink.
 *
 * Each class of element brings its own hidden class to the property accesses
 * here; V8 keeps them fast for up to four classes (they are: a bulkhead
 * waiter, a rate-limit waiter, a Timeout's pending call, a rate-limit key).
 *
 * @example
 * ```ts
 * class Waiter implements ListNode<Waiter> {
 *   listPrev: Waiter | null = null;
 *   listNext: Waiter | null = null;
 * }
 * const queue = new IntrusiveList<Waiter>();
 * queue.push(waiter);
 * signal.addEventListener('abort', () => queue.remove(waiter), { once: true });
 * const next = queue.shift(); // the oldest waiter, or null
 * ```
 */
export class IntrusiveList<N extends ListNode<N>> {
  #head: N | null = null;
  #tail: N | null = null;
  #size = 0;

  /** How many elements are in the list. */
  get size(): number {
    return this.#size;
  }

  /** The element at the head (the oldest, the next to be shifted), or `null` when empty. */
  get first(): N | null {
    return this.#head;
  }

  /** The element at the tail (the newest), or `null` when empty. */
  get last(): N | null {
    return this.#tail;
  }

  /** Whether `node` (an element of this list or of none) is in this list. */
  has(node: N): boolean {
    return node.listPrev !== null || this.#head === node;
  }

  /** Appends `node` (in no list) at the tail. */
  push(node: N): void {
    const tail = this.#tail;
    if (tail === null) this.#head = node;
    else tail.listNext = node;
    node.listPrev = tail;
    this.#tail = node;
    this.#size++;
  }

  /** Removes and returns the element at the head, or `null` when empty. */
  shift(): N | null {
    const head = this.#head;
    if (head === null) return null;
    const next = head.listNext;
    this.#head = next;
    if (next === null) this.#tail = null;
    else {
      next.listPrev = null;
      head.listNext = null;
    }
    this.#size--;
    return head;
  }

  /** Unlinks `node` when it is in this list; `false` (and no change) when it is in none. */
  remove(node: N): boolean {
    if (node.listPrev === null && this.#head !== node) return false;
    this.unlink(node);
    return true;
  }

  /** Unlinks `node`, which must be in this list, wherever it is. */
  unlink(node: N): void {
    const prev = node.listPrev;
    const next = node.listNext;
    if (prev === null) this.#head = next;
    else {
      prev.listNext = next;
      node.listPrev = null;
    }
    if (next === null) this.#tail = prev;
    else {
      next.listPrev = prev;
      node.listNext = null;
    }
    this.#size--;
  }

  /** Moves `node`, which must be in this list, to the tail (nothing to do when it is the tail already). */
  moveToBack(node: N): void {
    const next = node.listNext;
    if (next === null) return;
    const prev = node.listPrev;
    if (prev === null) this.#head = next;
    else prev.listNext = next;
    next.listPrev = prev;
    const tail = this.#tail as N;
    tail.listNext = node;
    node.listPrev = tail;
    node.listNext = null;
    this.#tail = node;
  }

  /** Unlinks every element. */
  clear(): void {
    for (let node = this.#head; node !== null; ) {
      const next = node.listNext;
      node.listPrev = null;
      node.listNext = null;
      node = next;
    }
    this.#head = null;
    this.#tail = null;
    this.#size = 0;
  }

  /** The elements from the head to the tail (do not unlink while iterating; walk `listNext` for that). */
  *[Symbol.iterator](): IterableIterator<N> {
    for (let node = this.#head; node !== null; node = node.listNext) yield node;
  }
}
