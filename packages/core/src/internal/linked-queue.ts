/**
 * An entry of a {@link LinkedQueue}: the handle `push` returns, which
 * {@link LinkedQueue.remove} takes to unlink the entry in O(1).
 */
export class LinkedQueueNode<T> {
  /** The queued value. */
  readonly value: T;
  /** The entry queued before this one (towards the head), or `null`. */
  prev: LinkedQueueNode<T> | null = null;
  /** The entry queued after this one (towards the tail), or `null`. */
  next: LinkedQueueNode<T> | null = null;
  /** The queue holding this entry, or `null` once it was shifted or removed. */
  owner: LinkedQueue<T> | null = null;

  /** @param value - the value to queue */
  constructor(value: T) {
    this.value = value;
  }
}

/**
 * A FIFO queue on a doubly linked list: `push`, `shift` and `remove` of any
 * entry by its node are all O(1), with no `Array#shift`/`splice` scans. Used
 * for waiters that may leave the middle of the queue at any time (an aborted
 * bulkhead or rate-limit waiter, a cancelled deadline).
 *
 * Removing a node twice, or a node that was already shifted, is a no-op that
 * returns `false`, so a waiter can call `remove` from its abort handler without
 * checking whether it was served first.
 *
 * @example
 * ```ts
 * const queue = new LinkedQueue<Waiter>();
 * const node = queue.push(waiter);
 * signal.addEventListener('abort', () => queue.remove(node), { once: true });
 * const next = queue.shift(); // the oldest waiter, or undefined
 * ```
 */
export class LinkedQueue<T> {
  #head: LinkedQueueNode<T> | null = null;
  #tail: LinkedQueueNode<T> | null = null;
  #size = 0;

  /** How many entries are queued. */
  get size(): number {
    return this.#size;
  }

  /** The oldest entry's node (the next to be shifted), or `undefined` when empty. */
  peekNode(): LinkedQueueNode<T> | undefined {
    return this.#head ?? undefined;
  }

  /** The oldest value, or `undefined` when empty. */
  peek(): T | undefined {
    return this.#head?.value;
  }

  /** Queues `value` at the tail; returns its node, the handle for {@link LinkedQueue.remove}. */
  push(value: T): LinkedQueueNode<T> {
    const node = new LinkedQueueNode(value);
    node.owner = this;
    const tail = this.#tail;
    if (tail === null) {
      this.#head = node;
    } else {
      tail.next = node;
      node.prev = tail;
    }
    this.#tail = node;
    this.#size++;
    return node;
  }

  /** Removes and returns the oldest value, or `undefined` when empty. */
  shift(): T | undefined {
    const head = this.#head;
    if (head === null) return undefined;
    this.#unlink(head);
    return head.value;
  }

  /** Unlinks `node` wherever it is; `false` when it is not (or no longer) in this queue. */
  remove(node: LinkedQueueNode<T>): boolean {
    if (node.owner !== this) return false;
    this.#unlink(node);
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    for (let node = this.#head; node !== null; ) {
      const next = node.next;
      node.prev = null;
      node.next = null;
      node.owner = null;
      node = next;
    }
    this.#head = null;
    this.#tail = null;
    this.#size = 0;
  }

  /** The values from the oldest to the newest. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let node = this.#head; node !== null; node = node.next) yield node.value;
  }

  #unlink(node: LinkedQueueNode<T>): void {
    const { prev, next } = node;
    if (prev === null) this.#head = next;
    else prev.next = next;
    if (next === null) this.#tail = prev;
    else next.prev = prev;
    node.prev = null;
    node.next = null;
    node.owner = null;
    this.#size--;
  }
}
