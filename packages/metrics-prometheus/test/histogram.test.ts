import { Histogram, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DurationHistogram } from '../src/histogram.js';
import { PrometheusRecorder } from '../src/index.js';

const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LABELS = ['name', 'pattern', 'outcome'] as const;
// Bounds themselves, between them, 0, beyond the last and a spread of small values.
const VALUES = [
  0,
  0.005,
  0.0050001,
  0.01,
  0.3,
  1,
  2.5,
  9.99,
  10,
  10.01,
  1e6,
  ...Array.from({ length: 50 }, (_, i) => i / 97),
];

function pair(): { ours: Registry; theirs: Registry; histogram: DurationHistogram; reference: Histogram<string> } {
  const ours = new Registry();
  const theirs = new Registry();
  const histogram = new DurationHistogram(
    ours as Registry<RegistryContentType>,
    'd_seconds',
    'Durations.',
    LABELS,
    BOUNDS,
  );
  const reference = new Histogram({
    name: 'd_seconds',
    help: 'Durations.',
    labelNames: [...LABELS],
    buckets: BOUNDS,
    registers: [theirs],
  });
  return { ours, theirs, histogram, reference };
}

describe('DurationHistogram', () => {
  it("renders exactly as prom-client's Histogram does, in both formats and as JSON", async () => {
    const { ours, theirs, histogram, reference } = pair();
    const a = { name: 'payments', pattern: 'circuit_breaker', outcome: 'success' };
    const b = { name: 'payments', pattern: 'circuit_breaker', outcome: 'failure' };
    const seriesA = histogram.labels(a);
    for (const value of VALUES) {
      seriesA.observe(value);
      reference.labels(a).observe(value);
    }
    histogram.observe(b, 0.2);
    reference.observe(b, 0.2);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // The same JSON, less prom-client's empty exemplar slots.
    const withoutExemplars = (json: unknown): unknown =>
      JSON.parse(JSON.stringify(json, (key, value) => (key === 'exemplar' ? undefined : value)));
    expect(withoutExemplars(await ours.getMetricsAsJSON())).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
    ours.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
    theirs.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('returns the same series for the same labels, whatever their order', () => {
    const { histogram } = pair();
    const one = histogram.labels({ name: 'x', pattern: 'retry', outcome: 'success' });
    const two = histogram.labels({ outcome: 'success', pattern: 'retry', name: 'x' });
    expect(two).toBe(one);
  });

  it('resets every series to 0 and keeps them, so a recorder holding one goes on counting', async () => {
    const { ours, histogram } = pair();
    const series = histogram.labels({ name: 'x', pattern: 'retry', outcome: 'success' });
    series.observe(0.3);
    ours.resetMetrics();
    expect(await ours.metrics()).toContain('d_seconds_count{name="x",pattern="retry",outcome="success"} 0');
    series.observe(0.3);
    expect(await ours.metrics()).toContain('d_seconds_count{name="x",pattern="retry",outcome="success"} 1');
  });

  it('refuses a value that is not a finite number and a label set without every label', () => {
    const { histogram } = pair();
    const series = histogram.labels({ name: 'x', pattern: 'retry', outcome: 'success' });
    expect(() => series.observe(Number.NaN)).toThrow('Value is not a valid number: NaN');
    expect(() => series.observe(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => histogram.labels({ name: 'x', pattern: 'retry' } as never)).toThrow(
      'd_seconds: label outcome must be a string',
    );
  });

  it('is registered once: a second one of the same name is refused by the registry', () => {
    const { ours } = pair();
    expect(
      () => new DurationHistogram(ours as Registry<RegistryContentType>, 'd_seconds', 'Durations.', LABELS, BOUNDS),
    ).toThrow('A metric with the name d_seconds has already been registered.');
  });
});

describe('PrometheusRecorder durations', () => {
  it('observe into a prom-client Histogram registered by hand with the same definition', async () => {
    const registry = new Registry();
    const own = new Histogram({
      name: 'resilience_call_duration_seconds',
      help: 'Duration of calls through a pattern, in seconds, by pattern and outcome.',
      labelNames: ['name', 'pattern', 'outcome'],
      buckets: BOUNDS,
      registers: [registry],
    });
    const metrics = new PrometheusRecorder({ registry });
    metrics.recordCallDuration('b', 'circuit_breaker', 'success', 0.02);
    metrics.recordCallDuration('b', 'circuit_breaker', 'success', 0.04);
    expect(registry.getSingleMetric('resilience_call_duration_seconds')).toBe(own);
    expect(await registry.metrics()).toContain(
      'resilience_call_duration_seconds_count{name="b",pattern="circuit_breaker",outcome="success"} 2',
    );
  });

  it('share one histogram between two recorders on a registry', async () => {
    const registry = new Registry();
    new PrometheusRecorder({ registry }).recordCallDuration('b', 'circuit_breaker', 'success', 0.02);
    new PrometheusRecorder({ registry }).recordCallDuration('b', 'circuit_breaker', 'success', 0.04);
    expect(await registry.metrics()).toContain(
      'resilience_call_duration_seconds_sum{name="b",pattern="circuit_breaker",outcome="success"} 0.06',
    );
  });
});
