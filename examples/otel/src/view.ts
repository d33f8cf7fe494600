// Prints finished spans as an indented tree and collected metrics as lines.
import type { Attributes } from '@opentelemetry/api';
import type { DataPoint, Histogram, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

const STATUS = ['', ' OK', ' ERROR'];

function label(span: ReadableSpan): string {
  const attempt = span.attributes['resilience.retry.attempt'];
  const state = span.attributes['resilience.circuit_breaker.state'];
  const detail = attempt !== undefined ? ` #${attempt}` : state !== undefined ? ` [${state}]` : '';
  const error = span.status.message ? ` (${span.status.message})` : '';
  const ms = (span.duration[0] * 1e3 + span.duration[1] / 1e6).toFixed(1);
  return `${span.name}${detail}${STATUS[span.status.code]}${error}  ${ms} ms`;
}

/** The spans of each trace as a tree, children in start order. */
export function spanTree(spans: readonly ReadableSpan[]): string[] {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const children = new Map<string | undefined, ReadableSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent !== undefined && ids.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number): void => {
    const kids = [...(children.get(parent) ?? [])].sort(
      (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1],
    );
    for (const span of kids) {
      lines.push(`${'  '.repeat(depth)}${label(span)}`);
      walk(span.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines;
}

function attributes(a: Attributes): string {
  return Object.entries(a)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
}

/** Every metric point, one line each: `name{attributes} value` (histograms: count and sum). */
export async function metricLines(reader: MetricReader): Promise<string[]> {
  const { resourceMetrics } = await reader.collect();
  const lines: string[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints as DataPoint<number | Histogram>[]) {
        const value =
          typeof point.value === 'number'
            ? String(point.value)
            : `count=${point.value.count} sum=${(point.value.sum ?? 0).toFixed(4)}${metric.descriptor.unit}`;
        lines.push(`${metric.descriptor.name}{${attributes(point.attributes)}} ${value}`);
      }
    }
  }
  return lines.sort();
}
