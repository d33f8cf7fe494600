import { isThenable } from './hooks.js';
import type { Telemetry } from './telemetry.js';
import { describeValue } from './validate.js';

/**
 * What `on()` returns: call `dispose()` (or let `using` do it) to stop
 * listening. Disposing twice does nothing.
 */
export interface Subscription {
  /** Removes the listener; later events no longer reach it. */
  dispose(): void;
  /** The same as `dispose()`, so `using sub = breaker.on(…)` works. */
  [Symbol.dispose](): void;
}

/** A listener of one event: gets the event's payload; what it returns (even a rejected promise) is ignored. */
export type EventListener<P> = (payload: P) => unknown;

/** One subscription: its listener and when it was added (so that an emit skips listeners added during it). */
interface Entry {
  readonly listener: EventListener<never>;
  readonly seq: number;
}

/**
 * The listeners of one pattern instance, created on the first `on()` (a
 * pattern nobody listens to holds `undefined` and pays one field test per
 * event). Adding and removing a listener cost O(1), however many there are.
 * A listener added during an emit is first called by the next one; a listener
 * disposed during an emit is not called after its disposal. A listener that
 * throws or returns a rejected promise is logged through the pattern's logger
 * and never changes an outcome.
 */
export class EventHub<E extends object> {
  readonly #owner: string;
  /** Where listener failures are logged (replaced when `update()` changes the logger). */
  telemetry: Telemetry;
  readonly #listeners = new Map<keyof E, Set<Entry>>();
  #seq = 0;

  /**
   * @param owner - the pattern's class name, for error messages
   * @param telemetry - where listener failures are logged
   */
  constructor(owner: string, telemetry: Telemetry) {
    this.#owner = owner;
    this.telemetry = telemetry;
  }

  /** Adds `listener` for `event` (one of `events`); throws a `TypeError` for an unknown event or a non-function. */
  on<K extends keyof E>(events: readonly (keyof E)[], event: K, listener: EventListener<E[K]>): Subscription {
    if (!events.includes(event)) {
      const list = events.map((name) => `"${String(name)}"`).join(', ');
      throw new TypeError(`${this.#owner}: event must be one of ${list}, got ${describeValue(event)}`);
    }
    if (typeof listener !== 'function') {
      throw new TypeError(
        `${this.#owner}: listener for "${String(event)}" must be a function, got ${describeValue(listener)}`,
      );
    }
    const entry: Entry = { listener: listener as EventListener<never>, seq: ++this.#seq };
    let entries = this.#listeners.get(event);
    if (entries === undefined) {
      entries = new Set();
      this.#listeners.set(event, entries);
    }
    entries.add(entry);
    const set = entries;
    const dispose = (): void => {
      if (!set.delete(entry)) return;
      if (set.size === 0 && this.#listeners.get(event) === set) this.#listeners.delete(event);
    };
    return { dispose, [Symbol.dispose]: dispose };
  }

  /** Whether anyone listens to `event` (to skip building a payload nobody reads). */
  has(event: keyof E): boolean {
    return this.#listeners.has(event);
  }

  /** Calls every listener of `event` with `payload`, in the order they were added. */
  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const entries = this.#listeners.get(event);
    if (entries === undefined) return;
    const last = this.#seq;
    for (const entry of entries) {
      if (entry.seq > last) break;
      try {
        const returned = (entry.listener as EventListener<E[K]>)(payload);
        if (isThenable(returned)) returned.then(undefined, (err: unknown) => this.#failed(event, err));
      } catch (err) {
        this.#failed(event, err);
      }
    }
  }

  #failed(event: keyof E, err: unknown): void {
    this.telemetry.log('error', `listener for "${String(event)}" threw`, { err });
  }
}
