import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import type { ExecutionContext } from '../context.js';
import { RateLimitExceededError } from '../errors/errors.js';
import type { Logger, MetricsRecorder, SpanLike, TracerLike } from '../observability/types.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from '../timeout/index.js';
import { RateLimiter } from './rate-limiter.js';
import type { RateLimiterLike } from './types.js';

function recorder(): MetricsRecorder & { hits: string[] } {
  const hits: string[] = [];
  return {
    hits,
    recordCircuitBreakerState: vi.fn(),
    recordRetryAttempt: vi.fn(),
    recordRateLimitHit: (name) => hits.push(name),
    recordBulkheadUtilization: vi.fn(),
    recordTimeout: vi.fn(),
  };
}

function tracer(): TracerLike & { spans: { name: string; attributes: unknown; ended: boolean }[] } {
  const spans: { name: string; attributes: unknown; ended: boolean }[] = [];
  return {
    spans,
    startActiveSpan(name, options, fn) {
      const record = { name, attributes: options.attributes, ended: false };
      spans.push(record);
      const span: SpanLike = {
        setAttribute: () => span,
        setStatus: () => span,
        recordException: () => {},
        end: () => {
          record.ended = true;
        },
      };
      return fn(span) as ReturnType<typeof fn>;
    },
  };
}

/** `heapUsed` after a full garbage collection. */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

describe('RateLimiter keys', () => {
  it('keeps separate state per key, with __proto__ and constructor as ordinary keys', () => {
    const limiter = new RateLimiter({ rate: 1, clock: new FakeClock() });
    for (const key of ['__proto__', 'constructor', 'toString', 'a']) {
      expect(limiter.allow(key)).toBe(true);
      expect(limiter.allow(key)).toBe(false);
    }
    expect(limiter.allow()).toBe(true);
    expect(limiter.allow()).toBe(false);
    expect(limiter.size).toBe(4);
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
  });

  it('stays at the key cap under a flood of 1,000,000 distinct keys', () => {
    const limiter = new RateLimiter({ rate: 10, maxKeys: 10_000, clock: new FakeClock() });
    for (let i = 0; i < 10_000; i++) limiter.allow(String(i));
    const atCap = heapAfterGc();
    for (let i = 10_000; i < 1_000_000; i++) limiter.allow(String(i));
    expect(limiter.size).toBe(10_000);
    // 990,000 more keys leave the heap where the first 10,000 put it (each key costs ~200 B: 200 MB if kept).
    expect(heapAfterGc() - atCap).toBeLessThan(8 * 1024 * 1024);
    // The youngest keys are the ones kept.
    expect(limiter.check('999999').remaining).toBe(9);
    expect(limiter.check('0').remaining).toBe(10);
    expect(limiter.size).toBe(10_000);
  });

  it('evicts the least recently used key', () => {
    const limiter = new RateLimiter({ rate: 5, maxKeys: 4, clock: new FakeClock() });
    for (const key of ['a', 'b', 'c', 'd']) limiter.allow(key);
    limiter.allow('a'); // 'a' becomes the most recently used.
    limiter.allow('e'); // evicts 'b', the oldest.
    expect(limiter.check('a').remaining).toBe(3);
    expect(limiter.check('b').remaining).toBe(5);
    expect(limiter.check('c').remaining).toBe(4);
    limiter.allow('f'); // evicts 'c'
    expect(limiter.check('c').remaining).toBe(5);
    expect(limiter.check('a').remaining).toBe(3);
    expect(limiter.size).toBe(4);
    limiter.allow('e'); // from the middle to the young end: 'd' is now the oldest
    limiter.allow('g'); // evicts 'd'
    expect(limiter.check('d').remaining).toBe(5);
    expect(limiter.check('e').remaining).toBe(3);
  });

  it('forgets idle keys lazily, without timers, once full again for idleTtl', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 10, interval: 1000, idleTtl: 500, clock });
    limiter.allow('a');
    limiter.allow('b');
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(100); // full again, but not yet for 500 ms
    limiter.allow('c');
    expect(limiter.size).toBe(3);
    await clock.advance(500);
    limiter.allow('d'); // drops 'a' and 'b' (at most two per new key)
    expect(limiter.size).toBe(2);
    // prune() drops every key that is full again now ('c'), whatever idleTtl.
    expect(limiter.prune()).toBe(1);
    expect(limiter.prune()).toBe(0);
    await clock.advance(100);
    expect(limiter.prune()).toBe(1);
    expect(limiter.size).toBe(0);
    const keeper = new RateLimiter({ rate: 10, idleTtl: Number.POSITIVE_INFINITY, clock });
    keeper.allow('x');
    await clock.advance(10_000);
    keeper.allow('y');
    expect(keeper.size).toBe(2);
  });

  it('does not evict a key with queued waiters', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 1, maxKeys: 2, clock });
    limiter.allow('busy');
    const waiting = limiter.wait('busy');
    limiter.allow('x');
    limiter.allow('y'); // evicts 'x', stepping over 'busy'
    expect(limiter.check('x').remaining).toBe(1);
    expect(limiter.check('busy')).toMatchObject({ allowed: false, remaining: 0 });
    await clock.advance(1000);
    await waiting;
  });

  it('keeps serving the waiters of a key it had to evict', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 1, maxKeys: 1, clock });
    limiter.allow('a');
    const waiting = limiter.wait('a');
    for (let i = 0; i < 10; i++) limiter.allow(`k${i}`);
    expect(limiter.size).toBe(1);
    await clock.advance(1000);
    await expect(waiting).resolves.toBeUndefined();
  });
});

describe('RateLimiter observability and hooks', () => {
  it('reports refusals to onLimit and metrics, never the key to metrics, spans or logs', async () => {
    const metrics = recorder();
    const onLimit = vi.fn();
    const logger: Logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const spans = tracer();
    const limiter = new RateLimiter({
      rate: 1,
      name: 'api',
      metrics,
      onLimit,
      logger,
      tracer: spans,
      clock: new FakeClock(),
    });
    limiter.allow('10.0.0.1');
    expect(limiter.allow('10.0.0.1')).toBe(false);
    expect(limiter.take(undefined, 1)).toBe(true);
    expect(limiter.consume()).toMatchObject({ allowed: false });
    limiter.check('10.0.0.1');
    await expect(limiter.execute(() => 'x', { key: '10.0.0.1' })).rejects.toBeInstanceOf(RateLimitExceededError);
    expect(onLimit.mock.calls).toEqual([['10.0.0.1'], [undefined], ['10.0.0.1']]);
    expect(metrics.hits).toEqual(['api', 'api', 'api']);
    expect(spans.spans).toEqual([
      {
        name: 'resilience.rate_limit',
        attributes: { 'resilience.name': 'api', 'resilience.pattern': 'rate_limit' },
        ended: true,
      },
    ]);
    const logged = JSON.stringify(vi.mocked(logger.debug).mock.calls);
    expect(logged).toContain('rate limit exceeded');
    expect(logged).not.toContain('10.0.0.1');
  });

  it('ignores an onLimit hook that throws', () => {
    const limiter = new RateLimiter({
      rate: 1,
      onLimit: () => {
        throw new Error('broken hook');
      },
      clock: new FakeClock(),
    });
    limiter.allow();
    expect(limiter.allow()).toBe(false);
  });
});

describe('RateLimiter.execute', () => {
  it('takes the tokens, then runs fn with the context', async () => {
    const limiter = new RateLimiter({ rate: 3, clock: new FakeClock() });
    const ctx = { signal: new AbortController().signal, attempt: 2, deadline: 50 };
    const seen: ExecutionContext[] = [];
    await expect(
      limiter.execute((inner) => {
        seen.push(inner);
        return 'ok';
      }, ctx),
    ).resolves.toBe('ok');
    expect(seen[0]).toBe(ctx);
    await expect(limiter.execute(() => 1, { key: 'k', tokens: 3 })).resolves.toBe(1);
    const err = await limiter.execute(() => 1, { key: 'k' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitExceededError);
    expect((err as RateLimitExceededError).retryAfterMs).toBeCloseTo(1000 / 3, 9);
    await expect(limiter.execute(() => Promise.reject(new Error('own error')))).rejects.toThrow('own error');
    await expect(
      limiter.execute(() => {
        throw 'thrown string';
      }),
    ).rejects.toBe('thrown string');
    await expect(limiter.execute(() => 1)).rejects.toMatchObject({ retryAfterMs: 1000 / 3 });
  });

  it("passes a Timeout's context on as it is and waits under its signal and deadline", async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ defaultTimeout: 100, clock });
    const limiter = new RateLimiter({ rate: 10, burst: 1, maxWait: 1000, clock });
    await expect(timeout.execute((ctx) => limiter.execute((inner) => inner === ctx, ctx))).resolves.toBe(true);
    // The next token is due at 100 ms; a 50 ms timeout's deadline is earlier: refused at once.
    await expect(timeout.execute((ctx) => limiter.execute(() => 'x', ctx), { timeout: 50 })).rejects.toBeInstanceOf(
      RateLimitExceededError,
    );
    const waiting = limiter.execute(() => 'served', { signal: new AbortController().signal });
    await clock.advance(100);
    await expect(waiting).resolves.toBe('served');
  });

  it('rejects at once with the reason of an aborted signal and takes nothing', async () => {
    const limiter = new RateLimiter({ rate: 1, clock: new FakeClock() });
    const reason = new Error('aborted');
    const fn = vi.fn();
    await expect(limiter.execute(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
    expect(limiter.check().remaining).toBe(1);
    await expect(limiter.execute(fn, { tokens: 2 })).rejects.toThrow('tokens must be');
  });

  it('waits for tokens when the limiter has a maxWait, bounded by the call deadline', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 10, burst: 1, maxWait: 250, clock });
    await limiter.execute(() => 0);
    const fn = vi.fn(() => 'ran');
    const waited = limiter.execute(fn);
    await clock.advance(99);
    expect(fn).not.toHaveBeenCalled();
    await clock.advance(1);
    await expect(waited).resolves.toBe('ran');
    // The next token is due at 200 ms: beyond a deadline of 150 ms.
    await expect(limiter.execute(fn, { deadline: 150 })).rejects.toBeInstanceOf(RateLimitExceededError);
    // Two waiters queued ahead push the third beyond maxWait.
    const first = limiter.execute(fn);
    const second = limiter.execute(fn);
    await expect(limiter.execute(fn)).rejects.toMatchObject({ retryAfterMs: 300 });
    await clock.runAll();
    await Promise.all([first, second]);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('fits the RateLimiterLike seam with its read-only settings', () => {
    const limiter: RateLimiterLike = new RateLimiter({ rate: 100, interval: 60_000, burst: 20 });
    expect([limiter.rate, limiter.burst, limiter.interval]).toEqual([100, 20, 60_000]);
    const defaults = new RateLimiter({ rate: 7 });
    expect([
      defaults.burst,
      defaults.interval,
      defaults.algorithm,
      defaults.maxKeys,
      defaults.idleTtl,
      defaults.maxWait,
    ]).toEqual([7, 1000, 'token-bucket', 100_000, 1000, 0]);
  });
});

describe('RateLimiter config', () => {
  const make = (config: unknown) => () => new RateLimiter(config as never);
  it.each([
    [{}, 'RateLimiter: rate must be a finite number > 0, got undefined'],
    [{ rate: 0 }, 'RateLimiter: rate must be a finite number > 0, got 0'],
    [{ rate: -1 }, 'RateLimiter: rate must be a finite number > 0, got -1'],
    [{ rate: Number.POSITIVE_INFINITY }, 'RateLimiter: rate must be a finite number > 0, got Infinity'],
    [{ rate: Number.NaN }, 'RateLimiter: rate must be a finite number > 0, got NaN'],
    [{ rate: 1, interval: 0 }, 'RateLimiter: interval must be a finite number > 0, got 0'],
    [{ rate: 1, burst: 0.5 }, 'RateLimiter: burst must be a finite number >= 1, got 0.5'],
    [{ rate: 1, burst: Number.POSITIVE_INFINITY }, 'RateLimiter: burst must be a finite number >= 1, got Infinity'],
    [
      { rate: 1, algorithm: 'leaky' },
      'RateLimiter: algorithm must be one of "token-bucket", "sliding-window", "sliding-log", "leaky-bucket", got "leaky"',
    ],
    [{ rate: 1, maxKeys: 0 }, 'RateLimiter: maxKeys must be an integer >= 1, got 0'],
    [{ rate: 1, idleTtl: -1 }, 'RateLimiter: idleTtl must be'],
    [{ rate: 1, maxWait: Number.NaN }, 'RateLimiter: maxWait must be'],
    [{ rate: 1, onLimit: 1 }, 'RateLimiter: onLimit must be a function, got 1'],
    [
      { rate: 1, clock: 'now' },
      'RateLimiter: clock must be an object with now(), setTimeout() and clearTimeout(), got "now"',
    ],
    [null, 'RateLimiter: config must be an object'],
  ])('refuses %j', (config, message) => {
    expect(make(config)).toThrow(message);
  });
});
