/**
 * Prometheus metrics for `@resilience/core` on prom-client: a
 * `MetricsRecorder` with the documented metric names, and a handler that
 * serves `/metrics` for Express and `node:http`. The package also ships a
 * Grafana dashboard (`dashboards/resilience.json`) and alerting rules
 * (`rules/resilience.rules.yml`).
 *
 * @packageDocumentation
 */
export { type MetricsHandler, metricsHandler } from './handler.js';
export { PrometheusRecorder } from './recorder.js';
export type { PrometheusRecorderOptions } from './types.js';
