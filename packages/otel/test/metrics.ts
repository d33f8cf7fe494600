import type { Attributes } from '@opentelemetry/api';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  type MetricData,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

/** A metric reader that collects only when asked: the SDK's pull path, with no timer. */
export class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** A real MeterProvider with a manual reader. */
export function meters(): { provider: MeterProvider; reader: ManualReader } {
  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  return { provider, reader };
}

/** Collects once and returns every metric by name. */
export async function collect(reader: ManualReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new AggregateError(errors, 'collection failed');
  return byName(resourceMetrics);
}

function byName(resourceMetrics: ResourceMetrics): Map<string, MetricData> {
  const found = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics)
    for (const metric of scope.metrics) found.set(metric.descriptor.name, metric);
  return found;
}

/** The value of the point whose attributes equal `attributes`, or undefined. */
export function pointValue<T = number>(metric: MetricData | undefined, attributes: Attributes): T | undefined {
  const points = (metric?.dataPoints ?? []) as DataPoint<T>[];
  const key = JSON.stringify(sorted(attributes));
  return points.find((p) => JSON.stringify(sorted(p.attributes)) === key)?.value;
}

/** Every point as `[attributes, value]`, attributes sorted by key. */
export function points<T = number>(metric: MetricData | undefined): [Attributes, T][] {
  return ((metric?.dataPoints ?? []) as DataPoint<T>[]).map((p) => [sorted(p.attributes), p.value]);
}

function sorted(attributes: Attributes): Attributes {
  return Object.fromEntries(Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b)));
}

export type { Histogram };
