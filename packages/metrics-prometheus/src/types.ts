import type { PolicyRegistry } from '@resilience/core';
import type { Registry, RegistryContentType } from 'prom-client';

/** Options of {@link PrometheusRecorder}. */
export interface PrometheusRecorderOptions {
  /**
   * The prom-client registry the metrics are registered in. A second recorder
   * on the same registry (with the same prefix and buckets) shares the metrics
   * of the first.
   * @default prom-client's global `register`
   */
  readonly registry?: Registry<RegistryContentType> | undefined;
  /**
   * Put before every metric name; must make a valid Prometheus metric name
   * (letters, digits, `_` and `:`, not starting with a digit). The Grafana
   * dashboard and the alerting rules of this package expect the default.
   * @default "resilience_"
   */
  readonly prefix?: string | undefined;
  /**
   * Upper bounds, in seconds, of the buckets of
   * `<prefix>call_duration_seconds`: finite numbers >= 0 in increasing order.
   * @default prom-client's default buckets, 5 ms to 10 s
   * (`[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]`)
   */
  readonly buckets?: readonly number[] | undefined;
  /**
   * A `PolicyRegistry` of `@resilience/core` whose every policy reports to
   * this recorder: those it holds now and those created in it later (through
   * `policies.attach({ metrics })`). A policy keeps reporting to its own
   * recorder (from its config or the registry's options) as well, and a
   * policy this recorder already reaches counts once. `dispose()` the
   * recorder to stop. The word `registry` is prom-client's registry here.
   * @default none: only patterns given this recorder as `metrics` report to it
   */
  readonly policies?: Pick<PolicyRegistry, 'attach'> | undefined;
}
