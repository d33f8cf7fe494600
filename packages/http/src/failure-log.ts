import type { Logger } from '@resilience/core';
import { ignoreRejection } from './sync.js';
import type { LimiterFailMode } from './types.js';

const WINDOW_MS = 1000;

/**
 * Logs rate-limiter failures at most once a second. The failures in between are
 * counted: the next record carries their number (`failures`, this one
 * included), and when they stop, one last record reports the ones left a
 * second after the previous record, so no failure goes unreported.
 */
export class FailureLog {
  readonly #logger: Logger;
  readonly #mode: LimiterFailMode;
  #lastAt = Number.NEGATIVE_INFINITY;
  #suppressed = 0;
  #lastSuppressed: unknown;
  #flush: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param logger - where records go (`logger.error`)
   * @param mode - the fail mode, named in every record
   */
  constructor(logger: Logger, mode: LimiterFailMode) {
    this.#logger = logger;
    this.#mode = mode;
  }

  /** Reports one failure of the limiter. */
  report(err: unknown): void {
    const now = Date.now();
    if (now - this.#lastAt < WINDOW_MS) {
      this.#suppressed++;
      this.#lastSuppressed = err;
      if (this.#flush === undefined) {
        this.#flush = setTimeout(() => this.#flushSuppressed(), this.#lastAt + WINDOW_MS - now);
        this.#flush.unref?.();
      }
      return;
    }
    this.#write(err, this.#suppressed + 1, now);
  }

  #flushSuppressed(): void {
    this.#flush = undefined;
    if (this.#suppressed > 0) this.#write(this.#lastSuppressed, this.#suppressed, Date.now());
  }

  #write(err: unknown, failures: number, now: number): void {
    if (this.#flush !== undefined) {
      clearTimeout(this.#flush);
      this.#flush = undefined;
    }
    this.#lastAt = now;
    this.#suppressed = 0;
    this.#lastSuppressed = undefined;
    const action = this.#mode === 'open' ? 'letting requests through' : 'answering 503';
    try {
      // An `async` logger's rejection must not become an unhandled rejection (it would end the process).
      ignoreRejection(this.#logger.error(`rate limiter failed; ${action}`, { err, failures, failMode: this.#mode }));
    } catch {
      // A broken logger must not break the request.
    }
  }
}
