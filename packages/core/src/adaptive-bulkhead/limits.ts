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
  /** Whether a `Timeout` gave up on it: a drop whose latency (a lower bound) still counts. */
  readonly timedOut?: boolean | undefined;
  /** The clock time it finished at, in ms. */
  readonly at: number;
}

/** A limit algorithm: its estimated limit (possibly fractional) and how a sample moves it. */
export interface LimitAlgorithm {
  /** The current estimate. */
  readonly estimate: number;
  /** Takes one sample; returns the new estimate. */
  update(sample: LimitSample): number;
  /**
   * Takes over from `previous` after an `update()` of the bulkhead: its
   * learning when it is the same kind of algorithm (the estimate, clamped into
   * this one's bounds), else a fresh start from `limit`.
   */
  resume(previous: LimitAlgorithm | undefined, limit: number): void;
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

  resume(previous: LimitAlgorithm | undefined, limit: number): void {
    this.estimate = previous instanceof AimdLimit ? clampLimit(previous.estimate, this.#min, this.#max) : limit;
  }
}

/** The headroom the gradient adds on top of `limit × gradient` (Netflix's default queue size). */
const QUEUE_SIZE = 4;

/**
 * A gradient limit in the manner of Netflix's Gradient and Gradient2: it
 * compares the latency of each call with a baseline, and when the latency
 * rises above `tolerance` times the baseline, requests are queueing somewhere
 * and the limit shrinks in proportion (`gradient = clamp(tolerance ×
 * baseline / rtt, 0.5, 1)`, new limit `limit × gradient + 4`, smoothed by
 * `smoothing`); otherwise it grows by 4 per sample (smoothed). It reads
 * latency alone, so it reacts before anything fails, within a few calls.
 *
 * The baseline is the lowest latency seen (Gradient's no-load latency), which
 * may rise by `baselineDrift` per second of clock time (compounded), so a
 * dependency that really got slower for good is followed. Gradient2's
 * long-term average over a number of calls is not used: at a high call rate
 * it takes a queueing latency for the new normal within a second (the
 * simulation in docs/adaptive.md shows the limit climbing to `maxLimit`).
 * Latencies are compared with 1 ms of slack, so a 0 ms call does not pin the
 * baseline at 0. It does not grow while less than half the limit is in use
 * (the caller, not the dependency, is the bottleneck). A failure gives it no
 * sample (a fast failure would look like a healthy dependency), except a
 * timeout, whose latency is at least the time it waited.
 */
export class GradientLimit implements LimitAlgorithm {
  /** The current estimate. */
  estimate: number;
  readonly #min: number;
  readonly #max: number;
  readonly #tolerance: number;
  readonly #smoothing: number;
  readonly #drift: number;
  /** The baseline latency in ms plus 1 ms of slack; `NaN` before the first sample. */
  #baseline = Number.NaN;
  #baselineAt = 0;

  /**
   * @param initial - the starting limit
   * @param min - the lowest limit
   * @param max - the highest limit
   * @param tolerance - how much slower than the baseline is still no queueing (>= 1)
   * @param smoothing - how much of each new estimate is taken (0–1]
   * @param baselineDrift - how much the baseline may rise per second (0.02: 2 %)
   */
  constructor(initial: number, min: number, max: number, tolerance: number, smoothing: number, baselineDrift: number) {
    this.estimate = initial;
    this.#min = min;
    this.#max = max;
    this.#tolerance = tolerance;
    this.#smoothing = smoothing;
    this.#drift = baselineDrift;
  }

  update(sample: LimitSample): number {
    if (sample.dropped && !sample.timedOut) return this.estimate;
    const rtt = (sample.rtt > 0 ? sample.rtt : 0) + 1;
    const baseline = this.#follow(rtt, sample.at);
    const limit = this.estimate;
    if (sample.inflight < limit / 2) return limit; // The caller, not the dependency, is the bottleneck.
    const ratio = (this.#tolerance * baseline) / rtt;
    const gradient = ratio < 0.5 ? 0.5 : ratio > 1 || Number.isNaN(ratio) ? 1 : ratio;
    const target = limit * gradient + QUEUE_SIZE;
    this.estimate = clampLimit(limit * (1 - this.#smoothing) + target * this.#smoothing, this.#min, this.#max);
    return this.estimate;
  }

  resume(previous: LimitAlgorithm | undefined, limit: number): void {
    if (!(previous instanceof GradientLimit)) {
      this.estimate = limit;
      return;
    }
    this.estimate = clampLimit(previous.estimate, this.#min, this.#max);
    this.#baseline = previous.#baseline;
    this.#baselineAt = previous.#baselineAt;
  }

  /** Moves the baseline: down to `rtt` at once, up by at most the drift since the last move. */
  #follow(rtt: number, at: number): number {
    let baseline = this.#baseline;
    const elapsed = (at - this.#baselineAt) / 1000;
    if (Number.isNaN(baseline) || rtt <= baseline) {
      baseline = rtt;
    } else if (elapsed > 0) {
      const risen = baseline * (1 + this.#drift) ** elapsed;
      baseline = risen < rtt ? risen : rtt;
    }
    // A clock that went back moves the mark back with it: the baseline drifts again from there, instead of
    // staying where it is until the clock catches up with the latest time it had seen.
    if (elapsed !== 0 || Number.isNaN(this.#baseline)) this.#baselineAt = Number.isFinite(at) ? at : this.#baselineAt;
    this.#baseline = Number.isFinite(baseline) ? baseline : this.#baseline;
    return this.#baseline;
  }
}
