import type { Clock } from '../clock/clock.js';

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** Options of a {@link FakeClock}. */
export interface FakeClockOptions {
  /**
   * The time the clock starts at, in milliseconds.
   * @default 0
   */
  now?: number;
}

const yieldToEventLoop: () => Promise<void> =
  typeof globalThis.setImmediate === 'function'
    ? () => new Promise((resolve) => globalThis.setImmediate(resolve))
    : () => new Promise((resolve) => globalThis.setTimeout(resolve, 0));

/**
 * A {@link Clock} whose time moves only when a test says so. Pass it as the
 * `clock` option of any pattern, then call {@link FakeClock.advance}.
 *
 * Due timers fire in time order (timers due at the same time in the order they
 * were scheduled), and pending promise callbacks run between two timers, so a
 * `await sleep(10)` inside a retry loop behaves as it does with real time.
 *
 * @example
 * ```ts
 * const clock = new FakeClock();
 * const retry = new Retry({ clock, initialDelay: 100 });
 * const done = retry.execute(flaky);
 * await clock.advance(100); // the second attempt runs
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, FakeTimer>();

  /** @param options - the start time */
  constructor(options: FakeClockOptions = {}) {
    const start = options.now ?? 0;
    if (!Number.isFinite(start)) throw new RangeError(`FakeClock: now must be a finite number, got ${String(start)}`);
    this.#now = start;
  }

  /** The current fake time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at `now() + ms` (a negative or `NaN` delay counts as 0). */
  setTimeout(fn: () => void, ms: number): number {
    const id = this.#nextId++;
    const delay = ms > 0 ? ms : 0;
    this.#timers.set(id, { id, at: this.#now + delay, fn });
    return id;
  }

  /** Cancels a pending timer; unknown handles are ignored. */
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** How many timers are scheduled and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** The time of the earliest pending timer, or `undefined` when none is pending. */
  get nextTimerAt(): number | undefined {
    return this.#earliest()?.at;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way,
   * including timers scheduled by those timers, in order. Pending promise
   * callbacks settle before the first timer fires, between timers and at the end.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms)) {
      throw new RangeError(`FakeClock.advance: ms must be a finite number >= 0, got ${String(ms)}`);
    }
    const target = this.#now + ms;
    await yieldToEventLoop();
    for (let timer = this.#due(target); timer !== undefined; timer = this.#due(target)) {
      this.#timers.delete(timer.id);
      this.#now = timer.at;
      timer.fn();
      await yieldToEventLoop();
    }
    this.#now = target;
    await yieldToEventLoop();
  }

  /**
   * Fires every pending timer (and those they schedule), moving time to each.
   * Like {@link FakeClock.advance}, it first lets pending promise chains run,
   * so a timer that work already under way is about to arm (a retry's delay
   * after a rejection) is found too.
   */
  async runAll(limit = 10_000): Promise<void> {
    for (let fired = 0; ; fired++) {
      // Work that is already running (a rejected attempt about to schedule its
      // retry) gets to arm its timers before "none pending" is decided.
      await yieldToEventLoop();
      const next = this.#earliest();
      if (next === undefined) return;
      if (fired >= limit)
        throw new Error(`FakeClock.runAll: more than ${limit} timers fired; is a timer rescheduling itself?`);
      await this.advance(next.at - this.#now);
    }
  }

  #due(target: number): FakeTimer | undefined {
    const next = this.#earliest();
    return next !== undefined && next.at <= target ? next : undefined;
  }

  #earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const timer of this.#timers.values()) {
      if (best === undefined || timer.at < best.at) best = timer;
    }
    return best;
  }
}
