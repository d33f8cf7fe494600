import { AdaptiveBulkhead } from '../adaptive-bulkhead/adaptive-bulkhead.js';
import { AdaptiveThrottle } from '../adaptive-throttle/adaptive-throttle.js';
import { Bulkhead } from '../bulkhead/bulkhead.js';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import type { HealthReport, HealthStatus, PolicyHealth, RegisteredPolicy } from './types.js';

const rank: Readonly<Record<HealthStatus, number>> = { ok: 0, degraded: 1, down: 2 };

/** The status of an engaged protection: `'down'` for a critical policy, else `'degraded'`. */
function engaged(critical: boolean): HealthStatus {
  return critical ? 'down' : 'degraded';
}

/** The health report of `policies` by the rules of `PolicyRegistry.health()`. */
export function healthOf<P extends RegisteredPolicy>(
  policies: readonly P[],
  isCritical: (policy: P) => boolean,
): HealthReport {
  const report: PolicyHealth[] = [];
  let status: HealthStatus = 'ok';
  for (const entry of policies) {
    const { name, policy } = entry;
    let health: PolicyHealth;
    if (policy instanceof CircuitBreaker) {
      const critical = isCritical(entry);
      const state = policy.state;
      const own: HealthStatus = state === 'closed' ? 'ok' : state === 'half-open' ? 'degraded' : engaged(critical);
      health = { kind: 'circuitBreaker', name, status: own, critical, state };
    } else if (policy instanceof Bulkhead) {
      const critical = isCritical(entry);
      const { active, queued, maxConcurrent, maxQueue } = policy;
      const full = active >= maxConcurrent && queued >= maxQueue;
      health = {
        kind: 'bulkhead',
        name,
        status: full ? engaged(critical) : 'ok',
        critical,
        active,
        queued,
        maxConcurrent,
        maxQueue,
      };
    } else if (policy instanceof AdaptiveBulkhead) {
      const critical = isCritical(entry);
      const { active, queued, limit, maxQueue } = policy;
      const full = active >= limit && queued >= maxQueue;
      health = {
        kind: 'adaptiveBulkhead',
        name,
        status: full ? engaged(critical) : 'ok',
        critical,
        active,
        queued,
        limit,
        maxQueue,
      };
    } else if (policy instanceof AdaptiveThrottle) {
      const critical = isCritical(entry);
      const { rejectionProbability, requests, accepts } = policy;
      health = {
        kind: 'adaptiveThrottle',
        name,
        status: rejectionProbability > 0 ? engaged(critical) : 'ok',
        critical,
        rejectionProbability,
        requests,
        accepts,
      };
    } else {
      continue;
    }
    report.push(health);
    if (rank[health.status] > rank[status]) status = health.status;
  }
  return { status, policies: report };
}
