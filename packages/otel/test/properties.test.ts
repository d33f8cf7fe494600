import { isMaxAttemptsReachedError, pipeline } from '@resilience/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricNames, OTelRecorder, resilienceTracer, SpanNames } from '../src/index.js';
import { collect, meters, pointValue } from './metrics.js';
import { parentOf, tracing } from './tracing.js';

const MAX_ATTEMPTS = 3;

describe('spans and metrics of concurrent calls, in any interleaving', () => {
  it('keeps each call in its own trace, parents every span right, ends every span, and counts every attempt', async () => {
    const { provider, exporter } = tracing();
    const tracer = resilienceTracer(provider);
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        // Per call, the outcome of each attempt it may make: true succeeds.
        fc.array(fc.array(fc.boolean(), { minLength: MAX_ATTEMPTS, maxLength: MAX_ATTEMPTS }), {
          minLength: 1,
          maxLength: 6,
        }),
        async (s, plans) => {
          exporter.reset();
          const { provider: meterProvider, reader } = meters();
          const metrics = new OTelRecorder(meterProvider.getMeter('property'));
          const policy = pipeline<string>()
            .retry({ name: 'dep', maxAttempts: MAX_ATTEMPTS, initialDelay: 0, tracer, metrics })
            .circuitBreaker({ name: 'dep', readyToTrip: () => false, tracer, metrics })
            .build();

          const calls = plans.map((plan, i) =>
            tracer.startActiveSpan(`call ${i}`, async (span) => {
              try {
                return await policy.execute(async ({ attempt }) => {
                  tracer.startSpan('work', { attributes: { call: i, attempt } }).end();
                  const ok = await s.schedule(Promise.resolve(plan[attempt - 1]), `call ${i} attempt ${attempt}`);
                  if (!ok) throw new Error(`call ${i} attempt ${attempt} failed`);
                  return `call ${i} ok`;
                });
              } finally {
                span.end();
              }
            }),
          );
          const settled = await s.waitFor(Promise.allSettled(calls));

          const spans = exporter.getFinishedSpans();
          const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
          let attemptsMade = 0;
          let succeeded = 0;
          plans.forEach((plan, i) => {
            const made = plan.indexOf(true) === -1 ? MAX_ATTEMPTS : plan.indexOf(true) + 1;
            attemptsMade += made;
            const outcome = settled[i];
            if (plan.includes(true)) {
              succeeded++;
              expect(outcome).toEqual({ status: 'fulfilled', value: `call ${i} ok` });
            } else {
              expect(outcome?.status === 'rejected' && isMaxAttemptsReachedError(outcome.reason)).toBe(true);
            }
            const caller = spans.find((span) => span.name === `call ${i}`);
            const callerId = caller?.spanContext().spanId;
            const attempts = spans.filter(
              (span) => span.name === SpanNames.RetryAttempt && parentOf(span) === callerId,
            );
            expect(attempts).toHaveLength(made);
            // Each work span sits under a breaker span, under an attempt of its own call, in its own trace.
            const works = spans.filter((span) => span.name === 'work' && span.attributes.call === i);
            expect(works).toHaveLength(made);
            for (const work of works) {
              const breaker = byId.get(parentOf(work) ?? '');
              const attempt = byId.get(parentOf(breaker!) ?? '');
              expect(breaker?.name).toBe(SpanNames.CircuitBreaker);
              expect(attempt?.attributes['resilience.retry.attempt']).toBe(work.attributes.attempt);
              expect(parentOf(attempt!)).toBe(callerId);
              expect(work.spanContext().traceId).toBe(caller?.spanContext().traceId);
            }
          });
          expect(spans.every((span) => span.ended)).toBe(true);

          const m = await collect(reader);
          const attemptsMetric = m.get(MetricNames.RetryAttempts);
          const callsMetric = m.get(MetricNames.CircuitBreakerCalls);
          const count = (metric: typeof attemptsMetric, outcome: string): number =>
            pointValue(metric, { 'resilience.name': 'dep', 'resilience.outcome': outcome }) ?? 0;
          expect(count(attemptsMetric, 'success')).toBe(succeeded);
          expect(count(attemptsMetric, 'failure')).toBe(attemptsMade - succeeded);
          expect(count(callsMetric, 'success')).toBe(succeeded);
          expect(count(callsMetric, 'failure')).toBe(attemptsMade - succeeded);
          metrics.dispose();
        },
      ),
      { numRuns: 60 },
    );
  });
});
