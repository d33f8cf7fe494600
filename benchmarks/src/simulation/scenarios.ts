/**
 * The three comparisons of docs/adaptive.md, each a deterministic run on a
 * `FakeClock` against a modelled {@link Dependency}:
 * 1. fixed `Bulkhead` vs `AdaptiveBulkhead` while the load ramps past the
 *    dependency's capacity and back;
 * 2. `CircuitBreaker` vs `AdaptiveThrottle` in a partial outage (50 %, then
 *    95 % of requests fail, then the dependency recovers);
 * 3. no hedging vs `Hedging` against a dependency with a long latency tail.
 */
import {
  AdaptiveBulkhead,
  AdaptiveThrottle,
  Bulkhead,
  CircuitBreaker,
  Hedging,
  isBulkheadFullError,
  isCircuitOpenError,
  type Policy,
  pipeline,
} from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { type CallRecord, Dependency, exponential, type Phase, quantile, runLoad, seededRandom } from './model.js';

/** How long the runs are: `short` for the test (seconds of computing), `full` for the docs. */
export type SimulationMode = 'short' | 'full';

const SEED = 20_261_206;

/** One row of a per-phase table. */
export interface PhaseRow {
  /** The policy. */
  policy: string;
  /** The phase. */
  phase: string;
  /** Calls started in the phase. */
  calls: number;
  /** Requests that reached the dependency from those calls (hedges included). */
  sent: number;
  /** Successful calls per second. */
  goodput: number;
  /** The share of calls that succeeded. */
  successRate: number;
  /** The share of calls the policy rejected at once. */
  rejectedRate: number;
  /** p50 latency of the successful calls, ms. */
  p50: number;
  /** p99 latency of the successful calls, ms. */
  p99: number;
}

/** Summarises the calls that started in each phase. */
function perPhase(
  policy: string,
  phases: readonly Phase[],
  records: readonly CallRecord[],
  origin: number,
): PhaseRow[] {
  const rows: PhaseRow[] = [];
  let start = origin;
  for (const phase of phases) {
    const end = start + phase.ms;
    const calls = records.filter((r) => r.start >= start && r.start < end);
    const ok = calls.filter((r) => r.outcome === 'ok');
    const rejected = calls.filter((r) => r.outcome === 'rejected').length;
    rows.push({
      policy,
      phase: phase.label,
      calls: calls.length,
      sent: calls.length - rejected,
      goodput: ok.length / (phase.ms / 1000),
      successRate: calls.length === 0 ? 0 : ok.length / calls.length,
      rejectedRate: calls.length === 0 ? 0 : rejected / calls.length,
      p50: quantile(
        ok.map((r) => r.latency),
        0.5,
      ),
      p99: quantile(
        ok.map((r) => r.latency),
        0.99,
      ),
    });
    start = end;
  }
  return rows;
}

/** Per-second series of one run, for the plot. */
export interface Series {
  /** The policy. */
  policy: string;
  /** Successful calls per second, one value per second. */
  goodput: number[];
  /** p99 latency of the successful calls started in each second (NaN when none). */
  p99: number[];
}

function perSecond(policy: string, records: readonly CallRecord[], origin: number, seconds: number): Series {
  const goodput: number[] = [];
  const p99: number[] = [];
  for (let s = 0; s < seconds; s++) {
    const ok = records.filter(
      (r) => r.outcome === 'ok' && r.start >= origin + s * 1000 && r.start < origin + (s + 1) * 1000,
    );
    goodput.push(ok.length);
    p99.push(
      quantile(
        ok.map((r) => r.latency),
        0.99,
      ),
    );
  }
  return { policy, goodput, p99 };
}

const isRejection = (err: unknown): boolean => isBulkheadFullError(err) || isCircuitOpenError(err);

// ---------------------------------------------------------------------------
// 1. Fixed vs adaptive bulkhead

/** The dependency of the bulkhead comparison: 20 servers, 20 ms + exp(10 ms) each, about 667 requests/s. */
export const BULKHEAD_DEPENDENCY = { capacity: 20, baseMs: 20, tailMeanMs: 10, clientTimeoutMs: 500 } as const;
const CAPACITY_RPS =
  (BULKHEAD_DEPENDENCY.capacity * 1000) / (BULKHEAD_DEPENDENCY.baseMs + BULKHEAD_DEPENDENCY.tailMeanMs);

/** The result of the bulkhead comparison. */
export interface BulkheadResult {
  /** Rows per policy and phase. */
  rows: PhaseRow[];
  /** Per-second series per policy. */
  series: Series[];
  /** The phases (offered load as a multiple of capacity in the label). */
  phases: Phase[];
}

/** Fixed `Bulkhead`s vs `AdaptiveBulkhead` (gradient and AIMD) as the load passes capacity and comes back. */
export async function compareBulkheads(mode: SimulationMode): Promise<BulkheadResult> {
  const phaseMs = mode === 'short' ? 2_000 : 10_000;
  const phases: Phase[] = [0.5, 0.9, 1.2, 1.6, 2, 1.2, 0.5].map((factor) => ({
    label: `${factor}× (${Math.round(factor * CAPACITY_RPS)}/s)`,
    rps: factor * CAPACITY_RPS,
    ms: phaseMs,
  }));
  const policies: [string, (clock: FakeClock) => Policy<unknown>][] = [
    ['Bulkhead(25)', (clock) => new Bulkhead({ maxConcurrent: 25, clock })],
    ['Bulkhead(200)', (clock) => new Bulkhead({ maxConcurrent: 200, clock })],
    ['AdaptiveBulkhead gradient', (clock) => new AdaptiveBulkhead({ algorithm: 'gradient', clock })],
    [
      'AdaptiveBulkhead aimd (latencyThreshold 100)',
      (clock) => new AdaptiveBulkhead({ algorithm: 'aimd', latencyThreshold: 100, clock }),
    ],
  ];
  const rows: PhaseRow[] = [];
  const series: Series[] = [];
  for (const [name, make] of policies) {
    const clock = new FakeClock();
    const dependency = new Dependency(clock, seededRandom(SEED + 1), {
      capacity: BULKHEAD_DEPENDENCY.capacity,
      serviceMs: (random) => BULKHEAD_DEPENDENCY.baseMs + exponential(random, BULKHEAD_DEPENDENCY.tailMeanMs),
    });
    // The client's timeout sits inside the bulkhead: a call that times out frees its slot, while the
    // dependency, which never hears of it, still serves the request.
    const policy = pipeline()
      .use(make(clock))
      .timeout({ defaultTimeout: BULKHEAD_DEPENDENCY.clientTimeoutMs, clock })
      .build();
    const records = await runLoad(
      clock,
      seededRandom(SEED),
      phases,
      () => policy.execute(() => dependency.request()),
      isRejection,
    );
    rows.push(...perPhase(name, phases, records, 0));
    series.push(perSecond(name, records, 0, (phases.length * phaseMs) / 1000));
  }
  return { rows, series, phases };
}

// ---------------------------------------------------------------------------
// 2. Circuit breaker vs adaptive throttle in a partial outage

/** One policy's outcome in the outage. */
export interface OutageResult {
  /** Rows per policy and phase. */
  rows: PhaseRow[];
  /** Per policy: ms from the dependency's recovery until a full second of calls succeeds at >= 95 %. */
  recovery: { policy: string; ms: number }[];
}

/** `CircuitBreaker` vs `AdaptiveThrottle` (and no policy) while 50 %, then 95 % of requests fail, then none. */
export async function compareOutage(mode: SimulationMode): Promise<OutageResult> {
  const phaseMs = mode === 'short' ? 10_000 : 30_000;
  const rps = 200;
  const failure = [0, 0.5, 0.95, 0];
  const phases: Phase[] = ['healthy', '50 % fail', '95 % fail', 'recovered'].map((label) => ({
    label,
    rps,
    ms: phaseMs,
  }));
  const failureRate = (now: number): number => failure[Math.min(failure.length - 1, Math.floor(now / phaseMs))] ?? 0;
  const policies: [string, (clock: FakeClock) => Policy<unknown> | undefined][] = [
    ['no policy', () => undefined],
    ['CircuitBreaker (timeout 5 s)', (clock) => new CircuitBreaker({ timeout: 5_000, clock })],
    [
      'AdaptiveThrottle (k 2, window 10 s)',
      (clock) => new AdaptiveThrottle({ k: 2, window: 10_000, clock, random: seededRandom(SEED + 7) }),
    ],
    [
      'AdaptiveThrottle (k 2, window 2 s)',
      (clock) => new AdaptiveThrottle({ k: 2, window: 2_000, clock, random: seededRandom(SEED + 7) }),
    ],
  ];
  const rows: PhaseRow[] = [];
  const recovery: { policy: string; ms: number }[] = [];
  for (const [name, make] of policies) {
    const clock = new FakeClock();
    const dependency = new Dependency(clock, seededRandom(SEED + 2), {
      capacity: 10_000,
      serviceMs: (random) => 20 + exponential(random, 5),
      failureRate,
    });
    const policy = make(clock);
    const call = (): Promise<unknown> =>
      policy === undefined ? dependency.request() : policy.execute(() => dependency.request());
    const records = await runLoad(clock, seededRandom(SEED), phases, call, isRejection);
    rows.push(...perPhase(name, phases, records, 0));
    const recoveredAt = 3 * phaseMs;
    let ms = Number.NaN;
    for (let t = recoveredAt; t + 1000 <= 4 * phaseMs; t += 100) {
      const window = records.filter((r) => r.start >= t && r.start < t + 1000);
      const ok = window.filter((r) => r.outcome === 'ok').length;
      if (window.length > 0 && ok / window.length >= 0.95) {
        ms = t - recoveredAt;
        break;
      }
    }
    recovery.push({ policy: name, ms });
  }
  return { rows, recovery };
}

// ---------------------------------------------------------------------------
// 3. Hedging against a long latency tail

/** One policy's latency and load against the long-tailed dependency. */
export interface HedgingRow {
  /** The policy. */
  policy: string;
  /** Client calls. */
  calls: number;
  /** Requests the dependency received. */
  sent: number;
  /** Extra load: requests per call minus 1. */
  extraLoad: number;
  /** Latency quantiles of the calls, ms. */
  p50: number;
  /** p90 latency, ms. */
  p90: number;
  /** p99 latency, ms. */
  p99: number;
}

/** No hedging vs `Hedging` against a dependency where 5 % of requests take 300 ms + exp(200 ms). */
export async function compareHedging(mode: SimulationMode): Promise<HedgingRow[]> {
  const phases: Phase[] = [{ label: 'steady', rps: 100, ms: mode === 'short' ? 20_000 : 120_000 }];
  const policies: [string, (clock: FakeClock) => Policy<unknown> | undefined][] = [
    ['no hedging', () => undefined],
    ['Hedging(delay 20, maxHedges 1)', (clock) => new Hedging({ delay: 20, maxHedges: 1, clock })],
    ['Hedging(delay 20, maxHedges 2)', (clock) => new Hedging({ delay: 20, maxHedges: 2, clock })],
    ['Hedging(delay 50, maxHedges 1)', (clock) => new Hedging({ delay: 50, maxHedges: 1, clock })],
  ];
  const rows: HedgingRow[] = [];
  for (const [name, make] of policies) {
    const clock = new FakeClock();
    const dependency = new Dependency(clock, seededRandom(SEED + 3), {
      capacity: 10_000,
      serviceMs: (random) => (random() < 0.95 ? 8 + exponential(random, 2) : 300 + exponential(random, 200)),
    });
    const policy = make(clock);
    const call = (): Promise<unknown> =>
      policy === undefined ? dependency.request() : policy.execute(() => dependency.request());
    const records = await runLoad(clock, seededRandom(SEED), phases, call, isRejection);
    const latencies = records.map((r) => r.latency);
    rows.push({
      policy: name,
      calls: records.length,
      sent: dependency.received,
      extraLoad: dependency.received / records.length - 1,
      p50: quantile(latencies, 0.5),
      p90: quantile(latencies, 0.9),
      p99: quantile(latencies, 0.99),
    });
  }
  return rows;
}
