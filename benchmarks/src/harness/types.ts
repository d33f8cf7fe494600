import type { Summary } from './stats.js';

/**
 * One operation to measure. An async operation is awaited once per call by the
 * harness; a sync one is called and its result kept alive.
 */
export interface Op {
  /** The call to measure. */
  readonly run: () => unknown;
  /** `true` when `run` returns a plain value that the harness must not await. @default false */
  readonly sync?: boolean;
  /** Calls made by one `run` (1000 when one run launches 1,000 calls in flight). @default 1 */
  readonly callsPerRun?: number;
}

/** What a subject's setup yields: something to measure, or why there is nothing yet. */
export type Prepared =
  | { readonly kind: 'op'; readonly op: Op }
  | { readonly kind: 'instance'; readonly create: () => unknown; readonly dispose?: (instance: unknown) => void }
  | { readonly kind: 'server'; readonly listen: () => Promise<{ port: number; close: () => Promise<void> }> }
  | { readonly kind: 'unavailable'; readonly reason: string };

/** How long and how often to measure. */
export interface MeasureOptions {
  /** Time spent warming up subject and baseline before any round. @default 300 */
  readonly warmupMs: number;
  /** Number of timed rounds of each of subject and baseline (they alternate). @default 10 */
  readonly rounds: number;
  /** Target duration of one timed round of the subject. @default 200 */
  readonly roundMs: number;
  /** Number of GC-free batches wanted for bytes/op. @default 8 */
  readonly byteBatches: number;
  /** Instances created per round when measuring heap per instance. @default 5000 */
  readonly instances: number;
  /** Seconds of autocannon load per HTTP variant and round. @default 2 */
  readonly httpSeconds: number;
  /** Interleaved rounds of load per HTTP variant. @default 5 */
  readonly httpRounds: number;
}

/** Bytes allocated per call, from heapUsed deltas over batches during which no GC ran. */
export interface BytesResult {
  /** Median bytes per call of the subject. */
  readonly subject: number;
  /** Median bytes per call of the baseline. */
  readonly baseline: number;
  /** `subject - baseline`. */
  readonly overhead: number;
  /** How many GC-free batches the medians come from. */
  readonly batches: number;
}

/** Timing of one subject against the baseline measured in the same process. */
export interface LatencyResult {
  readonly kind: 'latency';
  /** Calls per timed round. */
  readonly iterations: number;
  /** ns per call of the subject, over the rounds. */
  readonly subjectNs: Summary;
  /** ns per call of the baseline, over the rounds. */
  readonly baselineNs: Summary;
  /** Per-round `subject - baseline` in ns per call. */
  readonly overheadNs: Summary;
  /** Bytes per call; `null` when no GC-free batch could be observed. */
  readonly bytes: BytesResult | null;
}

/** Heap retained per created instance. */
export interface InstanceResult {
  readonly kind: 'instance';
  /** Instances created per round. */
  readonly instances: number;
  /** Bytes retained per instance over the rounds. */
  readonly bytesPerInstance: Summary;
}

/** Load test of one HTTP server variant with autocannon. */
export interface HttpResult {
  readonly kind: 'http';
  /** Requests answered per second, one value per round. */
  readonly requestsPerSecond: Summary;
  /** The median over rounds of requests answered per second: what ratios use. */
  readonly meanRequestsPerSecond: number;
  /** Mean latency in ms (median over rounds). */
  readonly latencyMeanMs: number;
  /** 99th percentile latency in ms (median over rounds). */
  readonly latencyP99Ms: number;
  /** Total requests answered. */
  readonly requests: number;
  /** Answers that were not 2xx (a limiter that rejected, or errors). */
  readonly non2xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
}

/** What one child process reports. */
export type SubjectResult = LatencyResult | InstanceResult | HttpResult;

/** Outcome of running one subject in its own child process. */
export type SubjectOutcome =
  | { readonly status: 'ok'; readonly result: SubjectResult }
  | { readonly status: 'unavailable'; readonly reason: string }
  | { readonly status: 'failed'; readonly reason: string };

/** Message a child sends to its parent (over IPC). */
export type ChildMessage = SubjectOutcome | { readonly status: 'listening'; readonly port: number };
