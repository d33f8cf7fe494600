import type { Phase } from './timeline.js';
import { emptyTally, OUTCOMES, type Outcome, type Tally } from './traffic.js';

/** A stretch of time the breaker spent in one state, in seconds from the start of the run. */
export interface BreakerSegment {
  readonly startS: number;
  readonly endS: number;
  readonly state: string;
}

/** The latency percentiles of one second's answers, in ms (`null`: no answer that second). */
export interface Percentiles {
  readonly p50: Array<number | null>;
  readonly p90: Array<number | null>;
  readonly p99: Array<number | null>;
}

/** What the HTML report draws: everything per second of the run. */
export interface SeriesData {
  /** Seconds in the run; every array below has this length. */
  readonly seconds: number;
  /** Answers that arrived in each second, by outcome. */
  readonly outcomes: Readonly<Record<Outcome, number[]>>;
  /** Latency percentiles of the answers that arrived in each second. */
  readonly latency: Percentiles;
  /** The most requests the bulkhead ran / held in its queue at once, per second (sampled). */
  readonly bulkhead: {
    readonly active: number[];
    readonly queued: number[];
    readonly maxConcurrent: number;
    readonly maxQueue: number;
  };
  /** The breaker's states over the run, in order, covering it whole. */
  readonly breaker: readonly BreakerSegment[];
  /** The phases, in seconds. */
  readonly phases: ReadonlyArray<{ name: string; story: string; startS: number; endS: number }>;
}

/**
 * The `q`-quantile (0..1) of ascending `sorted`, by the nearest-rank method
 * (the smallest value with at least `q` of the values at or below it).
 */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/**
 * Records the run second by second for the HTML report: each answer (its
 * outcome and latency) in the second it arrived, the bulkhead's load sampled
 * on every tick, and the breaker's transitions. Times are ms since the start
 * of the run; anything past the end counts in the last second.
 */
export class SeriesRecorder {
  readonly #seconds: number;
  readonly #tallies: Tally[];
  readonly #latencies: number[][];
  readonly #active: number[];
  readonly #queued: number[];
  readonly #transitions: Array<{ atMs: number; to: string }> = [];
  readonly #initialState: string;

  /**
   * @param durationMs - the length of the run
   * @param initialState - the breaker's state at the start
   */
  constructor(durationMs: number, initialState: string) {
    this.#seconds = Math.max(1, Math.ceil(durationMs / 1000));
    this.#tallies = Array.from({ length: this.#seconds }, emptyTally);
    this.#latencies = Array.from({ length: this.#seconds }, () => []);
    this.#active = new Array<number>(this.#seconds).fill(0);
    this.#queued = new Array<number>(this.#seconds).fill(0);
    this.#initialState = initialState;
  }

  #index(atMs: number): number {
    const i = Math.floor(atMs / 1000);
    return Number.isFinite(i) ? Math.min(this.#seconds - 1, Math.max(0, i)) : this.#seconds - 1;
  }

  /** One answer, arrived at `atMs`, `latencyMs` after it was sent. */
  answer(atMs: number, outcome: Outcome, latencyMs: number): void {
    const i = this.#index(atMs);
    (this.#tallies[i] as Tally)[outcome]++;
    (this.#latencies[i] as number[]).push(latencyMs);
  }

  /** A sample of the bulkhead's load. */
  load(atMs: number, active: number, queued: number): void {
    const i = this.#index(atMs);
    this.#active[i] = Math.max(this.#active[i] as number, active);
    this.#queued[i] = Math.max(this.#queued[i] as number, queued);
  }

  /** The breaker moved to `to` at `atMs`. */
  transition(atMs: number, to: string): void {
    this.#transitions.push({ atMs, to });
  }

  /** Everything recorded, ready to draw. */
  data(phases: readonly Phase[], maxConcurrent: number, maxQueue: number): SeriesData {
    const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, this.#tallies.map((t) => t[o])])) as Record<
      Outcome,
      number[]
    >;
    const sorted = this.#latencies.map((l) => [...l].sort((a, b) => a - b));
    const round = (v: number | null): number | null => (v === null ? null : Math.round(v * 10) / 10);
    const latency: Percentiles = {
      p50: sorted.map((l) => round(quantile(l, 0.5))),
      p90: sorted.map((l) => round(quantile(l, 0.9))),
      p99: sorted.map((l) => round(quantile(l, 0.99))),
    };
    const breaker: BreakerSegment[] = [];
    let state = this.#initialState;
    let start = 0;
    for (const t of this.#transitions) {
      const at = Math.min(this.#seconds, Math.max(start, t.atMs / 1000));
      if (at > start) breaker.push({ startS: start, endS: at, state });
      state = t.to;
      start = at;
    }
    if (start < this.#seconds) breaker.push({ startS: start, endS: this.#seconds, state });
    return {
      seconds: this.#seconds,
      outcomes,
      latency,
      bulkhead: { active: [...this.#active], queued: [...this.#queued], maxConcurrent, maxQueue },
      breaker,
      phases: phases.map((p) => ({ name: p.name, story: p.story, startS: p.startMs / 1000, endS: p.endMs / 1000 })),
    };
  }
}
