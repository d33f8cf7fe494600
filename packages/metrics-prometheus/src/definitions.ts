import { Counter, Gauge, type Registry, type RegistryContentType } from 'prom-client';
import { collectAttached } from './collect.js';
import { DurationHistogram } from './histogram.js';

/** The kinds of prom-client metric the recorder uses. */
type MetricType = 'counter' | 'gauge' | 'histogram';

/** What a metric must be for the recorder to use it: its name without the prefix, type, help and labels. */
interface Definition<L extends string> {
  readonly suffix: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labelNames: readonly L[];
}

/** The metric names of API.md ("Telemetry names"), after the prefix. */
const definitions = {
  breakerState: {
    suffix: 'circuit_breaker_state',
    type: 'gauge',
    help: 'Circuit breaker state: 1 for the current state (closed, open or half-open), 0 for the other two.',
    labelNames: ['name', 'state'],
  },
  breakerCalls: {
    suffix: 'circuit_breaker_calls_total',
    type: 'counter',
    help: 'Calls through a circuit breaker, by outcome (success, failure, ignored, rejected, cancelled).',
    labelNames: ['name', 'outcome'],
  },
  retryAttempts: {
    suffix: 'retry_attempts_total',
    type: 'counter',
    help: 'Retry attempts, by outcome (success or failure).',
    labelNames: ['name', 'outcome'],
  },
  rateLimitRejections: {
    suffix: 'rate_limit_rejections_total',
    type: 'counter',
    help: 'Calls refused by a rate limiter.',
    labelNames: ['name'],
  },
  bulkheadActive: {
    suffix: 'bulkhead_active',
    type: 'gauge',
    help: 'Calls running in a bulkhead.',
    labelNames: ['name'],
  },
  bulkheadQueued: {
    suffix: 'bulkhead_queued',
    type: 'gauge',
    help: 'Calls waiting for a bulkhead slot.',
    labelNames: ['name'],
  },
  adaptiveBulkheadLimit: {
    suffix: 'adaptive_bulkhead_limit',
    type: 'gauge',
    help: "An adaptive bulkhead's current concurrency limit.",
    labelNames: ['name'],
  },
  timeouts: {
    suffix: 'timeouts_total',
    type: 'counter',
    help: 'Calls stopped by a timeout.',
    labelNames: ['name'],
  },
  callDuration: {
    suffix: 'call_duration_seconds',
    type: 'histogram',
    help: 'Duration of calls through a pattern, in seconds, by pattern and outcome.',
    labelNames: ['name', 'pattern', 'outcome'],
  },
} as const satisfies Record<string, Definition<string>>;

/** Where one series of durations goes. */
export interface DurationSink {
  /** Counts one duration, in seconds. */
  observe(value: number): void;
}

/** The metrics one recorder writes to, created in or taken from its registry. */
export interface RecorderMetrics {
  /** `<prefix>circuit_breaker_state{name,state}` */
  readonly breakerState: Gauge<'name' | 'state'>;
  /** `<prefix>circuit_breaker_calls_total{name,outcome}` */
  readonly breakerCalls: Counter<'name' | 'outcome'>;
  /** `<prefix>retry_attempts_total{name,outcome}` */
  readonly retryAttempts: Counter<'name' | 'outcome'>;
  /** `<prefix>rate_limit_rejections_total{name}` */
  readonly rateLimitRejections: Counter<'name'>;
  /** `<prefix>bulkhead_active{name}` */
  readonly bulkheadActive: Gauge<'name'>;
  /** `<prefix>bulkhead_queued{name}` */
  readonly bulkheadQueued: Gauge<'name'>;
  /** `<prefix>adaptive_bulkhead_limit{name}` */
  readonly adaptiveBulkheadLimit: Gauge<'name'>;
  /** `<prefix>timeouts_total{name}` */
  readonly timeouts: Counter<'name'>;
  /**
   * `<prefix>call_duration_seconds{name,pattern,outcome}`: a {@link DurationHistogram}, or a prom-client
   * `Histogram` of the same definition that was registered first.
   */
  readonly callDuration: { labels(labels: Record<'name' | 'pattern' | 'outcome', string>): DurationSink };
}

/** The parts of a registered prom-client metric that make up its definition. */
interface RegisteredShape {
  readonly type?: unknown;
  readonly help?: unknown;
  readonly labelNames?: unknown;
  readonly upperBounds?: unknown;
}

function list(values: readonly unknown[]): string {
  return `[${values.map(String).join(', ')}]`;
}

/** How `existing` differs from what the recorder needs; empty when it is the same metric. */
function differences(existing: RegisteredShape, wanted: Definition<string>, buckets: readonly number[]): string[] {
  const found: string[] = [];
  if (existing.type !== wanted.type) found.push(`type ${String(existing.type)}, not ${wanted.type}`);
  if (existing.help !== wanted.help)
    found.push(`help ${JSON.stringify(existing.help)}, not ${JSON.stringify(wanted.help)}`);
  const labels = Array.isArray(existing.labelNames) ? (existing.labelNames as unknown[]) : [];
  const sameLabels =
    labels.length === wanted.labelNames.length && wanted.labelNames.every((label) => labels.includes(label));
  if (!sameLabels) found.push(`labels ${list(labels)}, not ${list(wanted.labelNames)}`);
  if (wanted.type === 'histogram' && existing.type === 'histogram') {
    const bounds = Array.isArray(existing.upperBounds) ? (existing.upperBounds as unknown[]) : [];
    const sameBuckets = bounds.length === buckets.length && buckets.every((b, i) => bounds[i] === b);
    if (!sameBuckets) found.push(`buckets ${list(bounds)}, not ${list(buckets)}`);
  }
  return found;
}

/**
 * The metric `prefix + definition.suffix` of `registry`: the one already
 * registered when its definition is the same, a new one otherwise. Throws an
 * `Error` naming the metric and every difference when one is registered with
 * another definition.
 */
function metric(
  registry: Registry<RegistryContentType>,
  prefix: string,
  definition: Definition<string>,
  buckets: readonly number[],
): unknown {
  const name = prefix + definition.suffix;
  const existing = registry.getSingleMetric(name) as RegisteredShape | undefined;
  if (existing !== undefined) {
    const found = differences(existing, definition, buckets);
    if (found.length > 0) {
      throw new Error(
        `PrometheusRecorder: metric ${name} is already registered in this registry with another definition (${found.join('; ')}); use another prefix or registry, or remove it first`,
      );
    }
    return existing;
  }
  const config = { name, help: definition.help, labelNames: [...definition.labelNames], registers: [registry] };
  switch (definition.type) {
    case 'counter':
      return new Counter({ ...config, collect: collectAttached });
    case 'gauge':
      return new Gauge({ ...config, collect: collectAttached });
    case 'histogram':
      return new DurationHistogram(
        registry,
        name,
        definition.help,
        [...definition.labelNames],
        Object.freeze([...buckets]),
      );
  }
}

/**
 * Checks every metric of the recorder against `registry` first, then creates
 * the missing ones, so that a conflict leaves the registry as it was.
 */
export function recorderMetrics(
  registry: Registry<RegistryContentType>,
  prefix: string,
  buckets: readonly number[],
): RecorderMetrics {
  const all = Object.values(definitions) as Definition<string>[];
  for (const definition of all) {
    const existing = registry.getSingleMetric(prefix + definition.suffix) as RegisteredShape | undefined;
    if (existing !== undefined && differences(existing, definition, buckets).length > 0) {
      metric(registry, prefix, definition, buckets); // throws the error naming the metric
    }
  }
  return {
    breakerState: metric(registry, prefix, definitions.breakerState, buckets) as RecorderMetrics['breakerState'],
    breakerCalls: metric(registry, prefix, definitions.breakerCalls, buckets) as RecorderMetrics['breakerCalls'],
    retryAttempts: metric(registry, prefix, definitions.retryAttempts, buckets) as RecorderMetrics['retryAttempts'],
    rateLimitRejections: metric(
      registry,
      prefix,
      definitions.rateLimitRejections,
      buckets,
    ) as RecorderMetrics['rateLimitRejections'],
    bulkheadActive: metric(registry, prefix, definitions.bulkheadActive, buckets) as RecorderMetrics['bulkheadActive'],
    bulkheadQueued: metric(registry, prefix, definitions.bulkheadQueued, buckets) as RecorderMetrics['bulkheadQueued'],
    adaptiveBulkheadLimit: metric(
      registry,
      prefix,
      definitions.adaptiveBulkheadLimit,
      buckets,
    ) as RecorderMetrics['adaptiveBulkheadLimit'],
    timeouts: metric(registry, prefix, definitions.timeouts, buckets) as RecorderMetrics['timeouts'],
    callDuration: metric(registry, prefix, definitions.callDuration, buckets) as RecorderMetrics['callDuration'],
  };
}

/** The metric names (without prefix) the recorder registers, in the order of API.md. */
export const METRIC_SUFFIXES: readonly string[] = Object.values(definitions).map((d) => d.suffix);
