/**
 * The pieces of the deterministic simulation: a seeded random source, a
 * modelled dependency (servers, a FIFO queue in front of them, service times,
 * failures that may change over time) and an open-loop load generator. Time
 * is a `FakeClock`'s, so a run is exactly repeatable and takes no real time
 * beyond the computing.
 */
import type { FakeClock } from '@resilience/core/testing';

/** A seeded random source (mulberry32) returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An exponentially distributed sample with the given mean. */
export function exponential(random: () => number, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

/** The error the modelled dependency fails with. */
export class DependencyError extends Error {
  /** @param message - what failed */
  constructor(message = 'dependency failed') {
    super(message);
    this.name = 'DependencyError';
  }
}

/** How the modelled dependency behaves. */
export interface DependencyOptions {
  /** How many requests it serves at once; the rest wait in its FIFO queue. */
  capacity: number;
  /** The service time of one request, in ms (drawn per request). */
  serviceMs: (random: () => number) => number;
  /** The probability that a request served at `now` fails. @default always 0 */
  failureRate?: (now: number) => number;
}

/**
 * A dependency with `capacity` servers and an unbounded queue in front of
 * them. Like most servers it does not notice that a client gave up: a queued
 * request is still served (wasted work), which is how a queue that grows past
 * the clients' timeouts turns overload into collapse.
 */
export class Dependency {
  /** Requests received. */
  received = 0;
  /** Requests served (successfully or not). */
  served = 0;
  readonly #clock: FakeClock;
  readonly #random: () => number;
  readonly #options: DependencyOptions;
  readonly #queue: (() => void)[] = [];
  #head = 0;
  #busy = 0;

  /**
   * @param clock - the simulation's clock
   * @param random - the dependency's random source
   * @param options - capacity, service time and failures
   */
  constructor(clock: FakeClock, random: () => number, options: DependencyOptions) {
    this.#clock = clock;
    this.#random = random;
    this.#options = options;
  }

  /** How many requests wait in its queue. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Sends a request; resolves when served, rejects with a {@link DependencyError} when it fails. */
  request(): Promise<void> {
    this.received++;
    return new Promise<void>((resolve, reject) => {
      this.#queue.push(() => this.#serve(resolve, reject));
      this.#pump();
    });
  }

  #serve(resolve: () => void, reject: (err: unknown) => void): void {
    this.#busy++;
    this.#clock.setTimeout(() => {
      this.#busy--;
      this.served++;
      const rate = this.#options.failureRate?.(this.#clock.now()) ?? 0;
      if (this.#random() < rate) reject(new DependencyError());
      else resolve();
      this.#pump();
    }, this.#options.serviceMs(this.#random));
  }

  #pump(): void {
    while (this.#busy < this.#options.capacity && this.#head < this.#queue.length) {
      const start = this.#queue[this.#head] as () => void;
      this.#queue[this.#head] = noop;
      this.#head++;
      if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      start();
    }
  }
}

function noop(): void {}

/** One phase of a load: `rps` requests per second for `ms` milliseconds. */
export interface Phase {
  /** A short label for the tables. */
  label: string;
  /** Offered load, requests per second. */
  rps: number;
  /** How long the phase lasts, in ms. */
  ms: number;
}

/** One client call as the simulation saw it. */
export interface CallRecord {
  /** When it started (clock ms). */
  start: number;
  /** How long it took to settle, in ms. */
  latency: number;
  /** `'ok'`, `'failed'` (the dependency's error or a timeout) or `'rejected'` (by the policy, at once). */
  outcome: 'ok' | 'failed' | 'rejected';
}

/**
 * Runs an open-loop load (Poisson arrivals at each phase's rate, whatever
 * the answers) through `call`, on the clock, until every call has settled.
 * Returns one record per call, in start order.
 */
export async function runLoad(
  clock: FakeClock,
  random: () => number,
  phases: readonly Phase[],
  call: () => Promise<unknown>,
  isRejection: (err: unknown) => boolean,
): Promise<CallRecord[]> {
  const records: CallRecord[] = [];
  const pending: Promise<void>[] = [];
  const origin = clock.now();
  const ends: number[] = [];
  let end = origin;
  for (const phase of phases) {
    end += phase.ms;
    ends.push(end);
  }
  const phaseEnd = end;
  let phaseIndex = 0;
  /** The next arrival after `now`: one timer at a time, so the clock never holds more than the calls in flight. */
  const scheduleNext = (now: number): void => {
    let at = now;
    for (;;) {
      while (phaseIndex < phases.length && at >= (ends[phaseIndex] as number)) phaseIndex++;
      const phase = phases[phaseIndex];
      if (phase === undefined) return;
      const next = at + exponential(random, 1000 / phase.rps);
      // An arrival drawn past its phase's end restarts the draw at that end, at the next phase's rate.
      if (next >= (ends[phaseIndex] as number)) {
        at = ends[phaseIndex] as number;
        continue;
      }
      clock.setTimeout(() => arrive(next), next - clock.now());
      return;
    }
  };
  const arrive = (start: number): void => {
    const record: CallRecord = { start, latency: 0, outcome: 'ok' };
    records.push(record);
    pending.push(
      call().then(
        () => {
          record.latency = clock.now() - start;
        },
        (err: unknown) => {
          record.latency = clock.now() - start;
          record.outcome = isRejection(err) ? 'rejected' : 'failed';
        },
      ),
    );
    scheduleNext(start);
  };
  scheduleNext(origin);
  await clock.advance(phaseEnd - origin);
  // Let what is still in flight finish (bounded: every call has a timeout or ends on its own).
  for (let i = 0; i < 1000 && clock.pendingTimers > 0; i++) await clock.advance(1000);
  await Promise.all(pending);
  return records;
}

/** The `q` quantile (0–1) of `values` (nearest rank); `NaN` when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}
