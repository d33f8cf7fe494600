import { breakerHeap } from './breaker-heap.js';
import { bulkheadUncontended } from './bulkhead.js';
import { breakerClosed, breakerThroughput } from './circuit-breaker.js';
import { breakerClassified, retryClassified } from './classify.js';
import { composed } from './composed.js';
import { expressRateLimit } from './express.js';
import { fetchLoopback } from './fetch.js';
import { grpcUnary } from './grpc.js';
import { breakerMetrics } from './metrics.js';
import { recordedBreakerScenario, tracedBreakerScenario } from './otel.js';
import { rateLimitedCall, rateLimitManyKeys, rateLimitOneKey } from './rate-limit.js';
import { retryFirstAttempt } from './retry.js';
import { timeoutInTime } from './timeout.js';
import type { ScenarioDef } from './types.js';
import { fastifyRateLimit, honoRateLimit } from './web-frameworks.js';

export type { ScenarioDef, ScenarioKind, SubjectDef, TargetDef } from './types.js';

/** Every scenario, in report order. */
export const scenarios: readonly ScenarioDef[] = [
  breakerClosed,
  retryFirstAttempt,
  timeoutInTime,
  bulkheadUncontended,
  composed,
  rateLimitOneKey,
  rateLimitManyKeys,
  rateLimitedCall,
  breakerHeap,
  breakerThroughput,
  expressRateLimit,
  breakerMetrics,
  tracedBreakerScenario,
  recordedBreakerScenario,
  grpcUnary,
  fastifyRateLimit,
  honoRateLimit,
  fetchLoopback,
  breakerClassified,
  retryClassified,
];

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
