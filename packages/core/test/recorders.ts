import type { MetricsRecorder } from '../src/observability/types.js';

/** A recorder that writes every record as a line. */
export function listRecorder(): MetricsRecorder & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    recordCircuitBreakerState: (name, state) => void lines.push(`state ${name} ${state}`),
    recordRetryAttempt: (name, attempt, success) => void lines.push(`retry ${name} ${attempt} ${success}`),
    recordRateLimitHit: (name) => void lines.push(`limit ${name}`),
    recordBulkheadUtilization: (name, active, queued) => void lines.push(`bulkhead ${name} ${active} ${queued}`),
    recordTimeout: (name) => void lines.push(`timeout ${name}`),
    recordCircuitBreakerCall: (name, outcome) => void lines.push(`call ${name} ${outcome}`),
  };
}
