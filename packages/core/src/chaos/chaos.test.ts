import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { failOnUnhandledRejection, inMemoryTracing, outcome, recordingLogger } from '../../test/support.js';
import { pipeline } from '../compose/pipeline.js';
import type { ExecutionContext } from '../context.js';
import { FakeClock } from '../testing/index.js';
import { Chaos } from './chaos.js';

failOnUnhandledRejection();

describe('Chaos', () => {
  it('is off unless enabled, and switchable at run time', async () => {
    const fault = new Error('injected');
    const chaos = new Chaos({ rate: 1, fault });
    const fn = vi.fn(() => 'real');
    await expect(chaos.execute(fn)).resolves.toBe('real');
    expect(chaos.enabled).toBe(false);
    chaos.enable();
    await expect(chaos.execute(fn)).rejects.toBe(fault);
    expect(fn).toHaveBeenCalledTimes(1);
    chaos.disable();
    await expect(chaos.execute(fn)).resolves.toBe('real');
  });

  it('injects into the share of calls the random source picks', async () => {
    let draw = 0;
    const chaos = new Chaos({ rate: 0.3, result: 'fake', enabled: true, random: () => draw });
    const seen: string[] = [];
    for (const d of [0, 0.29, 0.3, 0.9]) {
      draw = d;
      seen.push(await chaos.execute(() => 'real'));
    }
    expect(seen).toEqual(['fake', 'fake', 'real', 'real']);
  });

  it('a fault function makes the failure from the call context', async () => {
    const chaos = new Chaos({
      rate: 1,
      enabled: true,
      fault: ({ attempt }: ExecutionContext) => new Error(`attempt ${attempt}`),
    });
    await expect(chaos.execute(() => 1, { attempt: 3 })).rejects.toThrow('attempt 3');
  });

  it('adds latency on the clock, then runs fn; an abort ends the wait at once and leaves nothing behind', async () => {
    const clock = new FakeClock();
    const chaos = new Chaos({ rate: 1, latency: 100, enabled: true, clock });
    const fn = vi.fn(() => 'real');
    const call = chaos.execute(fn);
    await clock.advance(99);
    expect(fn).not.toHaveBeenCalled();
    await clock.advance(1);
    await expect(call).resolves.toBe('real');
    const controller = new AbortController();
    const waiting = outcome(chaos.execute(fn, { signal: controller.signal }));
    await clock.advance(10);
    const reason = new Error('stop');
    controller.abort(reason);
    expect((await waiting).error).toBe(reason);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('latency then a fault', async () => {
    const clock = new FakeClock();
    const chaos = new Chaos({ rate: 1, latency: 50, fault: 'string fault', enabled: true, clock });
    const call = outcome(chaos.execute(() => 1));
    await clock.advance(50);
    expect((await call).error).toBe('string fault');
  });

  it('reports to onInject, the logger and a resilience.chaos span; broken hooks change nothing', async () => {
    const logger = recordingLogger();
    const { exporter, provider } = inMemoryTracing();
    const injections: string[] = [];
    const chaos = new Chaos({
      rate: 1,
      result: 7,
      enabled: true,
      logger,
      tracer: provider.getTracer('t'),
      onInject: (kind) => {
        injections.push(kind);
        throw new Error('hook');
      },
    });
    await expect(chaos.execute(() => 1)).resolves.toBe(7);
    expect(injections).toEqual(['result']);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['resilience.chaos']);
    expect(logger.records.map((r) => r.msg)).toEqual(
      expect.arrayContaining(['onInject threw', 'chaos injected into a call']),
    );
  });

  it('validates its config, naming the option and the value', () => {
    expect(() => new Chaos({ rate: 1.5, fault: 1 })).toThrow(/rate must be a finite number >= 0 and <= 1, got 1.5/);
    expect(() => new Chaos({ rate: Number.NaN, fault: 1 })).toThrow(/rate.*NaN/);
    expect(() => new Chaos({ rate: 0.5 })).toThrow(/at least one of fault, latency/);
    expect(() => new Chaos({ rate: 0.5, fault: new Error('x'), result: 1 })).toThrow(/cannot both/);
    expect(() => new Chaos({ rate: 0.5, fault: class MyError extends Error {} })).toThrow(/\(\) => new MyError\(\)/);
    expect(() => new Chaos({ rate: 0.5, latency: -1 })).toThrow(/latency.*-1/);
    expect(() => new Chaos({ rate: 0.5, latency: 2 ** 31 })).toThrow(/latency/);
    expect(() => new Chaos({ rate: 0.5, fault: 1, enabled: 'yes' as never })).toThrow(/enabled must be a boolean/);
    expect(() => new Chaos({ injectionRate: 0.5 } as never)).toThrow(/"rate" here/);
  });

  it('never throws synchronously; survives a broken random source; composes in a pipeline', async () => {
    const chaos = new Chaos({
      rate: 1,
      result: 'fake',
      enabled: true,
      random: () => {
        throw new Error('no entropy');
      },
    });
    await expect(chaos.execute(undefined as never)).rejects.toThrow(TypeError);
    await expect(chaos.execute(() => 'real', null as never)).resolves.toBe('fake');
    const reason = new Error('r');
    await expect(chaos.execute(() => 'real', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const policy = pipeline<string>()
      .retry({ maxAttempts: 2, initialDelay: 0 })
      .chaos({ rate: 1, fault: new Error('x'), enabled: true })
      .build();
    await expect(policy.execute(() => 'real')).rejects.toThrow();
  });
});

describe('Chaos properties', () => {
  it('when disabled, or at rate 0, every call is exactly the real call', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.integer(), fc.string()), { maxLength: 30 }),
        fc.boolean(),
        async (values, enabledButZero) => {
          const chaos = new Chaos({ rate: enabledButZero ? 0 : 1, fault: new Error('x'), enabled: enabledButZero });
          for (const value of values) await expect(chaos.execute(() => value)).resolves.toBe(value);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('Chaos when onInject aborts the caller (regression)', () => {
  it.each([
    ['fault', { fault: new Error('injected') }],
    ['result', { result: 'injected' }],
  ] as const)('%s: settles with the caller reason, not the injection', async (_name, injection) => {
    const caller = new AbortController();
    const chaos = new Chaos<string>({
      rate: 1,
      enabled: true,
      ...injection,
      onInject: () => caller.abort(new Error('caller left')),
    });
    // Before the fix: the injected fault, or the injected result, although the caller had aborted.
    expect(await outcome(chaos.execute(() => 'real', { signal: caller.signal }))).toEqual({
      error: new Error('caller left'),
    });
  });
});
