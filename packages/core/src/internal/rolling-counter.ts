/**
 * Counts over the last `buckets × bucketMs` ms of clock time, in rolling
 * buckets, for a few independent channels at once (calls, failures, slow
 * calls; or calls and retries), with running totals so that a read costs
 * O(1). When time moves past a bucket, the whole bucket drops out. A clock
 * that steps back counts into the newest bucket. The circuit breaker's time
 * window and the retry budget are both one of these (internal).
 */
export class RollingCounter {
  readonly #buckets: number;
  readonly #bucketMs: number;
  // Plain arrays of small integers (no typed array: each costs its own buffer object, and a rolling count is
  // small): `channels × buckets` counts, channel-major, and the running total of each channel.
  readonly #counts: number[];
  readonly #totals: number[];
  /** The bucket number (time / bucketMs) of the newest bucket; -Infinity before anything was counted. */
  #head = Number.NEGATIVE_INFINITY;
  /** Whether any bucket holds a count (nothing to drop otherwise). */
  #empty = true;

  /**
   * @param channels - how many independent counts each bucket holds
   * @param buckets - how many buckets the window has
   * @param bucketMs - the length of one bucket in ms
   */
  constructor(channels: number, buckets: number, bucketMs: number) {
    this.#buckets = buckets;
    this.#bucketMs = bucketMs;
    this.#counts = new Array<number>(channels * buckets).fill(0);
    this.#totals = new Array<number>(channels).fill(0);
  }

  /** The total of `channel` over the window, as of the latest {@link RollingCounter.roll}. */
  total(channel: number): number {
    return this.#totals[channel] as number;
  }

  /** Moves the window to clock time `now`, dropping the buckets that time moved past. */
  roll(now: number): void {
    const bucket = Math.floor(now / this.#bucketMs);
    const head = this.#head;
    if (!(bucket > head)) return; // the same bucket, or a clock that stepped back
    this.#head = bucket;
    if (this.#empty) return;
    const n = this.#buckets;
    const counts = this.#counts;
    const totals = this.#totals;
    const steps = Math.min(bucket - head, n);
    for (let i = 1; i <= steps; i++) {
      const index = (((head + i) % n) + n) % n;
      for (let channel = 0, at = index; channel < totals.length; channel++, at += n) {
        totals[channel] = (totals[channel] as number) - (counts[at] as number);
        counts[at] = 0;
      }
    }
  }

  /** Adds one to `channel` in the newest bucket (call {@link RollingCounter.roll} first). */
  add(channel: number): void {
    const n = this.#buckets;
    const head = this.#head;
    const index = head === Number.NEGATIVE_INFINITY ? 0 : ((head % n) + n) % n;
    const at = channel * n + index;
    this.#counts[at] = (this.#counts[at] as number) + 1;
    this.#totals[channel] = (this.#totals[channel] as number) + 1;
    this.#empty = false;
  }

  /** Forgets every count. */
  reset(): void {
    this.#counts.fill(0);
    this.#totals.fill(0);
    this.#head = Number.NEGATIVE_INFINITY;
    this.#empty = true;
  }
}
