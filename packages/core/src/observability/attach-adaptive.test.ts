import { describe, expect, it } from 'vitest';
import { listRecorder } from '../../test/recorders.js';
import { inMemoryTracing, recordingLogger } from '../../test/support.js';
import { PolicyRegistry } from '../registry/registry.js';
import { FakeClock } from '../testing/fake-clock.js';

describe('PolicyRegistry.attach and the adaptive kinds', () => {
  it('reaches adaptive bulkheads, adaptive throttles, hedging and chaos, created before and after', async () => {
    const clock = new FakeClock();
    const policies = new PolicyRegistry({ clock });
    const bulkhead = policies.adaptiveBulkhead('db', { maxLimit: 50 });
    const throttle = policies.adaptiveThrottle('db', { k: 1.5 });
    const tracing = inMemoryTracing();
    const metrics = listRecorder();
    const logger = recordingLogger();
    const sub = policies.attach({ metrics, tracer: tracing.provider.getTracer('t'), logger });
    const hedging = policies.hedging('db', { delay: 20 });
    const chaos = policies.chaos('db', { rate: 1, enabled: true, result: 'chaos' });

    expect(await bulkhead.execute(() => 1)).toBe(1);
    expect(await throttle.execute(() => 2)).toBe(2);
    expect(await hedging.execute(() => 3)).toBe(3);
    expect(await chaos.execute(() => 'real')).toBe('chaos');
    const spans = tracing.exporter.getFinishedSpans().map((s) => s.name);
    expect(spans).toEqual([
      'resilience.adaptive_bulkhead',
      'resilience.adaptive_throttle',
      'resilience.hedging.attempt',
      'resilience.hedging',
      'resilience.chaos',
    ]);
    expect(metrics.lines.some((l) => l.startsWith('bulkhead db'))).toBe(true);

    sub.dispose();
    tracing.exporter.reset();
    await bulkhead.execute(() => 1);
    await throttle.execute(() => 2);
    await hedging.execute(() => 3);
    await chaos.execute(() => 'real');
    expect(tracing.exporter.getFinishedSpans()).toEqual([]);
  });
});
