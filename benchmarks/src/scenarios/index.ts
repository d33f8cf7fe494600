import { breakerHeap } from './breaker-heap.js';
import { bulkheadUncontended } from './bulkhead.js';
import { breakerClosed, breakerThroughput } from './circuit-breaker.js';
import { breakerClassified, retryClassified } from './classify.js';
import { withNewestTargets } from './competitors.js';
import { composed, composedThroughput } from './composed.js';
import { expressMiddleware, expressRateLimit } from './express.js';
import { fetchLoopback } from './fetch.js';
import { growthBreakerInFlight, growthBulkheadQueue, growthLimiterKeys, growthRetryBudget } from './growth.js';
import { grpcUnary } from './grpc.js';
import { breakerMetrics } from './metrics.js';
import { recordedBreakerScenario, tracedBreakerScenario } from './otel.js';
import { memoryPerInstance, patternThroughput } from './patterns.js';
import { rateLimitedCall, rateLimitManyKeys, rateLimitOneKey } from './rate-limit.js';
import { retryFirstAttempt } from './retry.js';
import { timeoutInTime } from './timeout.js';
import type { ScenarioDef } from './types.js';
import { fastifyRateLimit, honoRateLimit } from './web-frameworks.js';

export type { GrowthDef, ScenarioDef, ScenarioKind, SubjectDef, TargetDef } from './types.js';

/** Every scenario, in report order (a Node 22 row of ours gets the targets of its Node 20 row). */
export const scenarios: readonly ScenarioDef[] = [
  breakerClosed,
  retryFirstAttempt,
  timeoutInTime,
  bulkheadUncontended,
  composed,
  composedThroughput,
  rateLimitOneKey,
  rateLimitManyKeys,
  rateLimitedCall,
  breakerHeap,
  memoryPerInstance,
  breakerThroughput,
  patternThroughput,
  growthBreakerInFlight,
  growthLimiterKeys,
  growthBulkheadQueue,
  growthRetryBudget,
  expressRateLimit,
  expressMiddleware,
  breakerMetrics,
  tracedBreakerScenario,
  recordedBreakerScenario,
  grpcUnary,
  fastifyRateLimit,
  honoRateLimit,
  fetchLoopback,
  breakerClassified,
  retryClassified,
].map((s) => ({ ...s, targets: withNewestTargets(s.subjects, s.targets) }));

/** Looks a scenario and subject up by id. */
export function findSubject(
  scenarioId: string,
  subjectId: string,
): { scenario: ScenarioDef; subject: ScenarioDef['subjects'][number] } {
  const scenario = scenarios.find((s) => s.id === scenarioId);
  const subject = scenario?.subjects.find((s) => s.id === subjectId);
  if (scenario === undefined || subject === undefined) {
    throw new Error(`benchmarks: unknown scenario/subject ${scenarioId}/${subjectId}`);
  }
  return { scenario, subject };
}

/** Whether scenario `id` is selected by `pattern`: an exact id, or a prefix ending in `*` (`growth-*`). */
export function matches(pattern: string, id: string): boolean {
  return pattern.endsWith('*') ? id.startsWith(pattern.slice(0, -1)) : pattern === id;
}

/** The scenarios `--only=<id|prefix*,…>` selects, in report order. */
export function selectScenarios(patterns: readonly string[], from: readonly ScenarioDef[] = scenarios): ScenarioDef[] {
  return from.filter((s) => patterns.some((pattern) => matches(pattern, s.id)));
}
