// A traced call through a retry + circuit breaker pipeline. The upstream
// fails twice, so the trace shows three attempts, each with its breaker span
// and the upstream's own span beneath (carried over HTTP by W3C headers).
// Log lines carry the trace ids; the metrics recorder counts what happened.
// Run with `pnpm start`; set OTEL_EXPORTER_OTLP_ENDPOINT to also send the spans to a collector.
import { pipeline, retryable } from '@resilience/core';
import { injectHttpHeaders } from '@resilience/otel';
import { setupTelemetry } from './telemetry.js';
import { startUpstream } from './upstream.js';
import { metricLines, spanTree } from './view.js';

const telemetry = setupTelemetry();
const { tracer, recorder, logger } = telemetry;
const upstream = await startUpstream(tracer, 2);

interface Price {
  sku: string;
  price: number;
}

const getPrice = pipeline<Price>()
  .retry({ name: 'pricing', maxAttempts: 4, initialDelay: 20, tracer, metrics: recorder, logger })
  .circuitBreaker({
    name: 'pricing',
    readyToTrip: (c) => c.consecutiveFailures >= 5,
    tracer,
    metrics: recorder,
    logger,
  })
  .timeout({ name: 'pricing', defaultTimeout: 5_000, tracer, metrics: recorder, logger })
  .build();

try {
  const price = await tracer.startActiveSpan('GET /checkout', async (span) => {
    try {
      return await getPrice.execute(async ({ signal, attempt }) => {
        const res = await fetch(upstream.url, { signal, headers: injectHttpHeaders({ accept: 'application/json' }) });
        if (res.status >= 500) throw retryable(new Error(`upstream answered ${res.status}`));
        telemetry.pino.info({ attempt }, 'price received');
        return (await res.json()) as Price;
      });
    } finally {
      span.end();
    }
  });
  console.log(`\nresult: ${price.sku} costs ${price.price}\n`);
  console.log(
    `trace ${
      telemetry.spans
        .getFinishedSpans()
        .find((s) => s.name === 'GET /checkout')
        ?.spanContext().traceId
    }:`,
  );
  for (const line of spanTree(telemetry.spans.getFinishedSpans())) console.log(`  ${line}`);
  console.log('\nmetrics:');
  for (const line of await metricLines(telemetry.metrics)) console.log(`  ${line}`);
} finally {
  upstream.close();
  await telemetry.shutdown();
}
