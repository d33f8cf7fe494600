import autocannon from 'autocannon';
import type { HttpResult, SubjectOutcome } from './types.js';

/** Load settings for one server variant. */
export interface HttpLoad {
  /** Seconds of measured load. */
  readonly seconds: number;
  /** Seconds of load before measuring (JIT warmup, connection setup). */
  readonly warmupSeconds: number;
  /** Concurrent connections. @default 10 */
  readonly connections?: number;
}

function run(url: string, seconds: number, connections: number): Promise<autocannon.Result> {
  return autocannon({ url, connections, duration: seconds, pipelining: 1 });
}

/** Warms then loads `http://127.0.0.1:<port>/` with autocannon and summarises the answer. */
export async function loadServer(port: number, load: HttpLoad): Promise<SubjectOutcome> {
  const url = `http://127.0.0.1:${port}/`;
  const connections = load.connections ?? 10;
  if (load.warmupSeconds > 0) await run(url, load.warmupSeconds, connections);
  const result = await run(url, load.seconds, connections);
  const http: HttpResult = {
    kind: 'http',
    requestsPerSecond: { median: result.requests.p50, min: result.requests.min, max: result.requests.max },
    meanRequestsPerSecond: result.requests.total / Math.max(result.duration, 1e-9),
    latencyMeanMs: result.latency.average,
    latencyP99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
  return { status: 'ok', result: http };
}
