/**
 * The limit algorithms of an adaptive bulkhead, after Netflix's
 * concurrency-limits. Each gets one sample per finished call and answers the
 * new limit, always within `[minLimit, maxLimit]`.
 */

/** One finished call, as the limit algorithms see it. */
export interface LimitSample {
  /** How long the call took, in ms. */
  readonly rtt: number;
  /** How many calls were running when it started (itself included). */
  readonly inflight: number;
  /** Whether it failed in a way that signals overload (see `isDrop`). */
  readonly dropped: boolean;
}

/** A limit algorithm: its estimated limit (possibly fractional) and how a sample moves it. */
export interface LimitAlgorithm {
  /** The current estimate. */
  readonly estimate: number;
  /** Takes one sample; returns the new estimate. */
  update(sample: LimitSample): number;
}

/** Clamps `value` into `[min, max]`; `NaN` becomes `min`. */
export function clampLimit(value: number, min: number, max: number): number {
  if (!(value >= min)) return min;
  return value > max ? max : value;
}

/**
 * Additive increase, multiplicative decrease, as TCP's congestion control:
 * a drop, or a call slower than `latencyThreshold`, multiplies the limit by
 * `backoffRatio`; a success while at least half the limit is in use adds 1.
 * It reads one signal, "did this call fail or exceed the threshold", so it
 * reacts at once to a drop and needs no latency baseline, but it only sees
 * trouble once calls fail or pass the threshold.
 */
export class AimdLimit implements LimitAlgorithm {
  /** The current estimate. */
  estimate: number;
  readonly #min: number;
  readonly #max: number;
  readonly #backoffRatio: number;
  readonly #latencyThreshold: number;

  /**
   * @param initial - the starting limit
   * @param min - the lowest limit
   * @param max - the highest limit
   * @param backoffRatio - the factor a drop multiplies the limit by
   * @param latencyThreshold - a call slower than this counts as a drop (ms)
   */
  constructor(initial: number, min: number, max: number, backoffRatio: number, latencyThreshold: number) {
    this.estimate = initial;
    this.#min = min;
    this.#max = max;
    this.#backoffRatio = backoffRatio;
    this.#latencyThreshold = latencyThreshold;
  }

  update(sample: LimitSample): number {
    let next = this.estimate;
    if (sample.dropped || sample.rtt > this.#latencyThreshold) next = next * this.#backoffRatio;
    else if (sample.inflight * 2 >= next) next = next + 1;
    this.estimate = clampLimit(next, this.#min, this.#max);
    return this.estimate;
  }
}

/** How many samples the long-term average of Gradient2 starts with as a plain mean. */
const WARMUP_SAMPLES = 10;
/** The headroom Gradient2 adds on top of `limit × gradient` (Netflix's default queue size). */
const QUEUE_SIZE = 4;

/**
 * Netflix's Gradient2: compares the latency of the latest call (short term)
 * with an exponential average over about `longWindow` calls (long term). When
 * the short-term latency rises above `tolerance` times the long-term one,
 * requests are queueing somewhere and the limit shrinks in proportion
 * (`gradient = clamp(tolerance × long / short, 0.5, 1)`, new limit
 * `limit × gradient + 4`, smoothed by `smoothing`); otherwise it grows by 4
 * per sample (smoothed). It reads latency alone, so it reacts before anything
 * fails, within a few calls; the long-term average decays quickly after a
 * spike so the limit recovers. It does not grow while less than half the
 * limit is in use (the caller, not the dependency, is the bottleneck). A
 * failure gives it no sample (a fast failure would look like a healthy dependency).
 */
export class GradientLimit implements LimitAlgorithm {
  /** The current estimate. */
  estimate: number;
  readonly #min: number;
  readonly #max: number;
  readonly #tolerance: number;
  readonly #smoothing: number;
  readonly #factor: number;
  #longRtt = 0;
  #samples = 0;

  /**
   * @param initial - the starting limit
   * @param min - the lowest limit
   * @param max - the highest limit
   * @param tolerance - how much slower than the long-term latency is still no queueing (>= 1)
   * @param smoothing - how much of each new estimate is taken (0–1]
   * @param longWindow - the number of calls the long-term average spans
   */
  constructor(initial: number, min: number, max: number, tolerance: number, smoothing: number, longWindow: number) {
    this.estimate = initial;
    this.#min = min;
    this.#max = max;
    this.#tolerance = tolerance;
    this.#smoothing = smoothing;
    this.#factor = 2 / (longWindow + 1);
  }

  update(sample: LimitSample): number {
    if (sample.dropped) return this.estimate;
    const rtt = sample.rtt > 0 ? sample.rtt : 0;
    const longRtt = this.#average(rtt);
    // After a spike the long-term average lags far above the latest latency: let it decay quickly.
    if (rtt > 0 && longRtt / rtt > 2) this.#longRtt = longRtt * 0.95;
    const limit = this.estimate;
    if (sample.inflight < limit / 2) return limit; // The caller, not the dependency, is the bottleneck.
    const ratio = rtt > 0 ? (this.#tolerance * longRtt) / rtt : 1;
    const gradient = ratio < 0.5 ? 0.5 : ratio > 1 || Number.isNaN(ratio) ? 1 : ratio;
    const target = limit * gradient + QUEUE_SIZE;
    this.estimate = clampLimit(limit * (1 - this.#smoothing) + target * this.#smoothing, this.#min, this.#max);
    return this.estimate;
  }

  #average(rtt: number): number {
    if (this.#samples < WARMUP_SAMPLES) {
      this.#samples++;
      this.#longRtt += (rtt - this.#longRtt) / this.#samples;
    } else {
      this.#longRtt = this.#longRtt * (1 - this.#factor) + rtt * this.#factor;
    }
    return this.#longRtt;
  }
}
