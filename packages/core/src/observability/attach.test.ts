import { describe, expect, it } from 'vitest';
import { listRecorder } from '../../test/recorders.js';
import { inMemoryTracing, recordingLogger } from '../../test/support.js';
import { compose } from '../compose/pipeline.js';
import { PolicyRegistry } from '../registry/registry.js';

const fail = (): never => {
  throw new Error('boom');
};

describe('PolicyRegistry.attach', () => {
  it('reaches the policies there before and those created after, and stops at dispose()', async () => {
    const policies = new PolicyRegistry();
    const before = policies.circuitBreaker('before');
    const metrics = listRecorder();
    const attachment = policies.attach({ metrics });
    // Attaching reports a breaker's current state at once (a new recorder learns it).
    expect(metrics.lines).toEqual(['state before closed']);
    const after = policies.circuitBreaker('after');
    expect(metrics.lines).toEqual(['state before closed', 'state after closed']);
    await before.execute(() => 1);
    await after.execute(() => 2);
    expect(metrics.lines.slice(2)).toEqual(['call before success', 'call after success']);
    attachment.dispose();
    attachment.dispose();
    await before.execute(() => 1);
    await after.execute(() => 2);
    policies.circuitBreaker('later');
    expect(metrics.lines).toHaveLength(4);
  });

  it('keeps the registry’s and the policy’s own recorders, and counts a recorder reaching a policy twice once', async () => {
    const shared = listRecorder();
    const own = listRecorder();
    const policies = new PolicyRegistry({ metrics: shared });
    const withOwn = policies.retry('own', { metrics: own, maxAttempts: 1 });
    const plain = policies.retry('plain', { maxAttempts: 1 });
    const extra = listRecorder();
    const first = policies.attach({ metrics: shared });
    const second = policies.attach({ metrics: extra });
    const third = policies.attach({ metrics: extra });
    await withOwn.execute(() => 1);
    await plain.execute(() => 1);
    expect(own.lines).toEqual(['retry own 1 true']);
    // Attached, shared now reaches withOwn too (whose config had replaced the registry's recorder); plain, which
    // has it from the registry and from the attachment, reports once.
    expect(shared.lines).toEqual(['retry own 1 true', 'retry plain 1 true']);
    expect(extra.lines).toEqual(['retry own 1 true', 'retry plain 1 true']);
    // Removing one of two attachments of extra keeps it; removing the other removes it; the own ones stay.
    second.dispose();
    await plain.execute(() => 1);
    expect(extra.lines).toHaveLength(3);
    third.dispose();
    first.dispose();
    await plain.execute(() => 1);
    await withOwn.execute(() => 1);
    expect(extra.lines).toHaveLength(3);
    expect(shared.lines).toEqual([
      'retry own 1 true',
      'retry plain 1 true',
      'retry plain 1 true',
      'retry plain 1 true',
    ]);
    expect(own.lines).toHaveLength(2);
  });

  it('survives configure(): a reload neither drops the attachments nor doubles them', async () => {
    const shared = listRecorder();
    const policies = new PolicyRegistry({ metrics: shared });
    const breaker = policies.circuitBreaker('payments', { timeout: 1_000 });
    const attached = listRecorder();
    policies.attach({ metrics: attached });
    policies.configure({ circuitBreaker: { payments: { timeout: 2_000 } } });
    policies.configure({ defaults: { circuitBreaker: { maxRequests: 2 } } });
    await breaker.execute(() => 1);
    expect(shared.lines.filter((l) => l.startsWith('call'))).toEqual(['call payments success']);
    expect(attached.lines.filter((l) => l.startsWith('call'))).toEqual(['call payments success']);
  });

  it('attaches a logger and a tracer too, alongside the registry’s', async () => {
    const own = recordingLogger();
    const added = recordingLogger();
    const tracing = inMemoryTracing();
    const policies = new PolicyRegistry({ logger: own });
    const breaker = policies.circuitBreaker('payments', { readyToTrip: (c) => c.consecutiveFailures >= 1 });
    const sub = policies.attach({ logger: added, tracer: tracing.provider.getTracer('t') });
    await expect(breaker.execute(fail)).rejects.toThrow('boom');
    const opened = (r: { msg: string }) => r.msg === 'circuit breaker state changed';
    expect(own.records.filter(opened)).toHaveLength(1);
    expect(added.records.filter(opened)).toHaveLength(1);
    expect(tracing.exporter.getFinishedSpans().map((s) => s.name)).toEqual(['resilience.circuit_breaker']);
    sub.dispose();
    breaker.reset();
    await expect(breaker.execute(fail)).rejects.toThrow('boom');
    expect(own.records.filter(opened).length).toBeGreaterThan(added.records.filter(opened).length);
    expect(tracing.exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('skips a policy that cannot be updated (a pipeline), whose steps report themselves', async () => {
    const policies = new PolicyRegistry();
    const metrics = listRecorder();
    const pipeline = policies.pipeline('checkout', (p) => compose(p.retry('checkout', { maxAttempts: 1 })));
    using _ = policies.attach({ metrics });
    await pipeline.execute(() => 1);
    expect(metrics.lines).toEqual(['retry checkout 1 true']);
  });

  it('refuses bad input, naming it, and a closed registry; dispose() after close() does nothing', async () => {
    const policies = new PolicyRegistry();
    expect(() => policies.attach(null as never)).toThrow(
      'PolicyRegistry.attach: observability must be an object of logger, tracer and metrics, got null',
    );
    expect(() => policies.attach({})).toThrow('PolicyRegistry.attach: give at least one of logger, tracer and metrics');
    expect(() => policies.attach({ registry: {} } as never)).toThrow(
      'PolicyRegistry.attach: unknown option "registry" (known: logger, tracer, metrics)',
    );
    expect(() => policies.attach({ metrics: 7 as never })).toThrow(
      'PolicyRegistry.attach: metrics must be a MetricsRecorder object, got 7',
    );
    // An object with no record…() method (a {} parsed from JSON) would record nothing, and fail every record.
    expect(() => policies.attach({ metrics: {} as never })).toThrow(
      'PolicyRegistry.attach: metrics must be a MetricsRecorder (with recordCircuitBreakerState(), recordTimeout() and the other record…() methods), got an object with none of them',
    );
    expect(() => policies.attach({ logger: {} as never })).toThrow(/PolicyRegistry.attach: logger must have debug/);
    expect(() => policies.attach({ tracer: {} as never })).toThrow(/PolicyRegistry.attach: tracer must be/);
    const metrics = listRecorder();
    const breaker = policies.circuitBreaker('b');
    const sub = policies.attach({ metrics });
    policies.close();
    expect(() => sub.dispose()).not.toThrow();
    expect(() => policies.attach({ metrics })).toThrow('PolicyRegistry: the registry is closed');
    // The policy keeps working and keeps reporting where it did.
    await breaker.execute(() => 1);
    expect(metrics.lines).toContain('call b success');
  });

  it('a policy config with an invalid recorder still fails with the pattern’s own message', () => {
    const policies = new PolicyRegistry();
    policies.attach({ metrics: listRecorder() });
    expect(() => policies.circuitBreaker('b', { metrics: 5 as never })).toThrow(
      /CircuitBreaker: metrics must be a MetricsRecorder object, got 5/,
    );
  });

  it('ten thousand attachments of one recorder count once, and all disposed leave nothing', async () => {
    const policies = new PolicyRegistry();
    const breaker = policies.circuitBreaker('b');
    const metrics = listRecorder();
    const subs = Array.from({ length: 10_000 }, () => policies.attach({ metrics }));
    await breaker.execute(() => 1);
    expect(metrics.lines.filter((l) => l.startsWith('call'))).toEqual(['call b success']);
    for (const sub of subs) sub.dispose();
    await breaker.execute(() => 1);
    expect(metrics.lines.filter((l) => l.startsWith('call'))).toHaveLength(1);
  });

  it('a recorder that throws on every record never changes an outcome nor starves the other', async () => {
    const policies = new PolicyRegistry({ logger: recordingLogger() });
    const breaker = policies.circuitBreaker('b');
    const good = listRecorder();
    const bad = new Proxy(listRecorder(), {
      get: () => () => {
        throw new Error('recorder down');
      },
    });
    policies.attach({ metrics: bad });
    policies.attach({ metrics: good });
    for (let i = 0; i < 5_000; i++) expect(await breaker.execute(() => i)).toBe(i);
    expect(good.lines.filter((l) => l.startsWith('call'))).toHaveLength(5_000);
    expect(breaker.state).toBe('closed');
  });

  it('a recorder that detaches itself while told a state leaves no policy reporting to it', async () => {
    const policies = new PolicyRegistry();
    const breakers = [policies.circuitBreaker('a'), policies.circuitBreaker('b'), policies.circuitBreaker('c')];
    const lines: string[] = [];
    let armed = false;
    const metrics = {
      ...listRecorder(),
      recordCircuitBreakerState: (name: string) => {
        lines.push(`state ${name}`);
        if (armed) sub.dispose();
      },
      recordCircuitBreakerCall: (name: string) => void lines.push(`call ${name}`),
    };
    const sub = policies.attach({ metrics });
    armed = true;
    // Attaching another recorder tells every breaker's state to both: the first one detaches itself right there.
    const other = listRecorder();
    policies.attach({ metrics: other });
    const before = lines.length;
    for (const breaker of breakers) await breaker.execute(() => 1);
    // A later update() of a breaker merges over its config, which must not hold the detached recorder either.
    for (const breaker of breakers) breaker.update({ maxRequests: 2 });
    for (const breaker of breakers) await breaker.execute(() => 1);
    expect(lines.slice(before)).toEqual([]);
    expect(other.lines.filter((l) => l.startsWith('call'))).toHaveLength(6);
  });

  it('a recorder that attaches another one each time it is told a state ends (bounded)', async () => {
    const policies = new PolicyRegistry();
    const breakers = [policies.circuitBreaker('a'), policies.circuitBreaker('b')];
    let attaching = 0;
    const greedy = {
      ...listRecorder(),
      recordCircuitBreakerState: () => {
        attaching++;
        policies.attach({ metrics: listRecorder() });
      },
    };
    policies.attach({ metrics: greedy });
    expect(attaching).toBeGreaterThan(0);
    expect(attaching).toBeLessThan(100);
    for (const breaker of breakers) await expect(breaker.execute(() => 'ok')).resolves.toBe('ok');
  });

  it('a recorder that attaches another while told a new policy’s first state: the new policy gets both', async () => {
    const policies = new PolicyRegistry();
    const late = listRecorder();
    let attachedLate = false;
    const eager = {
      ...listRecorder(),
      recordCircuitBreakerState: () => {
        if (attachedLate) return;
        attachedLate = true;
        policies.attach({ metrics: late });
      },
    };
    policies.attach({ metrics: eager });
    // No policy yet: the first report comes from inside the constructor of the breaker created here.
    const breaker = policies.circuitBreaker('new');
    await breaker.execute(() => 1);
    expect(attachedLate).toBe(true);
    expect(late.lines).toContain('call new success');
  });
});
