import { isBulkheadFullError, isRateLimitExceededError, type Logger, type MetricsRecorder } from '@resilience/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisBulkhead, RedisRateLimiter } from '../src/index.js';
import { recordingLogger } from './loggers.js';
import { connect, RedisServer, redisServerBinary, type TestClient } from './redis-server.js';
import { until } from './until.js';

const throwing = (): never => {
  throw new Error('observer broke');
};
const throwingLogger: Logger = { debug: throwing, info: throwing, warn: throwing, error: throwing };
const throwingMetrics: MetricsRecorder = {
  recordCircuitBreakerState: throwing,
  recordRetryAttempt: throwing,
  recordRateLimitHit: throwing,
  recordBulkheadUtilization: throwing,
  recordTimeout: throwing,
};
const rejecting = (): Promise<never> => Promise.reject(new Error('async observer broke'));
const rejectingLogger = { debug: rejecting, info: rejecting, warn: rejecting, error: rejecting } as unknown as Logger;
const rejectingMetrics = {
  recordCircuitBreakerState: rejecting,
  recordRetryAttempt: rejecting,
  recordRateLimitHit: rejecting,
  recordBulkheadUtilization: rejecting,
  recordTimeout: rejecting,
} as unknown as MetricsRecorder;

// A hostile user, on the default client library (ioredis 6).
describe.skipIf(redisServerBinary === undefined)('hostile use', () => {
  let server: RedisServer;
  let c: TestClient;
  const closers: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    c = await connect('ioredis', server.port);
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((x) => x.close()));
  });
  afterAll(async () => {
    await c.close();
    await server.stop();
  });

  it('throwing onLimit, logger and metrics change no outcome, also across an outage', async () => {
    const limiter = new RedisRateLimiter({
      client: c.client,
      prefix: 'hostile1:',
      rate: 1,
      interval: 60_000,
      onLimit: throwing,
      logger: throwingLogger,
      metrics: throwingMetrics,
      commandTimeout: 100,
    });
    expect(await limiter.allow('k')).toBe(true);
    expect(await limiter.allow('k')).toBe(false);
    await expect(limiter.execute(() => 1, { key: 'k' })).rejects.toSatisfy(isRateLimitExceededError);
    const bulkhead = new RedisBulkhead({
      client: c.client,
      name: 'hostile1',
      maxConcurrent: 1,
      logger: throwingLogger,
      metrics: throwingMetrics,
      onRejected: throwing,
    });
    closers.push(bulkhead);
    let release = (): void => undefined;
    const holding = bulkhead.execute(() => new Promise<void>((r) => (release = r)));
    await until(() => bulkhead.active === 1, 'the slot to be held');
    await expect(bulkhead.execute(() => 1)).rejects.toSatisfy(isBulkheadFullError);
    release();
    await holding;
    await server.stop();
    expect(await limiter.allow('k2')).toBe(true); // the local fallback decides, the throwing logger notwithstanding
    await expect(bulkhead.execute(() => 'local')).resolves.toBe('local');
    await server.resume();
    for (let i = 0; i < 100 && (await c.command('PING').catch(() => 'down')) !== 'PONG'; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('onLimit, onRejected, logger and metrics that return rejected promises leave no unhandled rejection', async () => {
    // Regression: their promises were dropped, so an async hook that rejected became an unhandled rejection,
    // which ends a Node process by default.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const limiter = new RedisRateLimiter({
        client: c.client,
        prefix: 'hostile-async:',
        rate: 1,
        interval: 60_000,
        onLimit: rejecting as unknown as () => void,
        logger: rejectingLogger,
        metrics: rejectingMetrics,
        commandTimeout: 100,
      });
      expect(await limiter.allow('k')).toBe(true);
      expect(await limiter.allow('k')).toBe(false);
      await expect(limiter.execute(() => 1, { key: 'k' })).rejects.toSatisfy(isRateLimitExceededError);
      const bulkhead = new RedisBulkhead({
        client: c.client,
        name: 'hostile-async',
        maxConcurrent: 1,
        logger: rejectingLogger,
        metrics: rejectingMetrics,
        onRejected: rejecting as unknown as () => void,
      });
      closers.push(bulkhead);
      let release = (): void => undefined;
      const holding = bulkhead.execute(() => new Promise<void>((r) => (release = r)));
      await until(() => bulkhead.active === 1, 'the slot to be held');
      await expect(bulkhead.execute(() => 1)).rejects.toSatisfy(isBulkheadFullError);
      release();
      await holding;
      // The transition lines (down, then back) go to the logger too.
      await server.stop();
      expect(await limiter.allow('k2')).toBe(true);
      await server.resume();
      for (let i = 0; i < 100 && (await c.command('PING').catch(() => 'down')) !== 'PONG'; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await limiter.allow('k3');
      // Unhandled rejections are reported after the microtask queue drains: give it a few turns.
      for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
      expect(unhandled.map((e) => String(e))).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('thousands of synchronous throws through a queued bulkhead each reach their caller, and free every slot', async () => {
    const bulkhead = new RedisBulkhead({
      client: c.client,
      name: 'hostile2',
      maxConcurrent: 2,
      maxQueue: Number.POSITIVE_INFINITY,
    });
    closers.push(bulkhead);
    const errors = Array.from({ length: 3_000 }, (_, i) => new Error(`sync ${i}`));
    const results = await Promise.all(
      errors.map((error) =>
        bulkhead
          .execute(() => {
            throw error;
          })
          .catch((e: unknown) => e),
      ),
    );
    expect(results.every((r, i) => r === errors[i])).toBe(true);
    expect([bulkhead.active, bulkhead.queued, await bulkhead.fleetActive()]).toEqual([0, 0, 0]);
  }, 60_000);

  it('100,000 queued calls on one AbortSignal leave in linear time, without a listener warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const bulkhead = new RedisBulkhead({
      client: c.client,
      name: 'hostile3',
      maxConcurrent: 1,
      maxQueue: Number.POSITIVE_INFINITY,
    });
    closers.push(bulkhead);
    let release = (): void => undefined;
    const holding = bulkhead.execute(() => new Promise<void>((r) => (release = r)));
    await until(() => bulkhead.active === 1, 'the slot to be held');
    const controller = new AbortController();
    const calls = Array.from({ length: 100_000 }, () =>
      bulkhead.execute(() => 'ran', { signal: controller.signal }).catch((e: unknown) => e),
    );
    expect(bulkhead.queued).toBe(100_000);
    controller.abort('done');
    expect(bulkhead.queued).toBe(0);
    const results = await Promise.all(calls);
    expect(results.every((r) => r === 'done')).toBe(true);
    release();
    await holding;
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  }, 60_000);

  it('a long call whose lease was lost while Redis was away finishes normally, with one warning', async () => {
    const logger = recordingLogger();
    const bulkhead = new RedisBulkhead({
      client: c.client,
      name: 'hostile7',
      maxConcurrent: 1,
      leaseMs: 300,
      commandTimeout: 100,
      logger,
    });
    closers.push(bulkhead);
    let release = (): void => undefined;
    const holding = bulkhead.execute(() => new Promise<string>((r) => (release = () => r('finished'))));
    await new Promise((r) => setTimeout(r, 50));
    await server.stop();
    await new Promise((r) => setTimeout(r, 600)); // longer than leaseMs: the (empty) restarted server has no lease
    await server.resume();
    for (let i = 0; i < 100 && !logger.lines.some((l) => /expired before renewal/.test(l)); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    release();
    await expect(holding).resolves.toBe('finished');
    expect(logger.lines.filter((l) => /expired before renewal/.test(l))).toHaveLength(1);
    expect(bulkhead.active).toBe(0);
    await expect(bulkhead.execute(() => 'next')).resolves.toBe('next');
  }, 20_000);

  it('consume, check, take and allow never throw synchronously, even when the client itself throws', async () => {
    let reads = 0;
    const client = {
      evalsha: throwing,
      eval: throwing,
      get status(): string {
        // Detection reads it once; every later read throws.
        if (reads++ > 0) throw new Error('status broke');
        return 'ready';
      },
    };
    const limiter = new RedisRateLimiter({ client: client as never, rate: 5, logger: recordingLogger() });
    closers.push(limiter);
    for (const call of [
      () => limiter.consume('k'),
      () => limiter.check('k'),
      () => limiter.take('k', 1),
      () => limiter.allow('k'),
      () => limiter.consume('k', Number.NaN),
      () => limiter.check(42 as never),
    ]) {
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = call();
      }).not.toThrow();
      await expect(promise).rejects.toBeInstanceOf(Error);
    }
  });

  it('huge and odd but valid numbers decide sensibly', async () => {
    // One token every 10^10 ms: longer than one platform timer holds.
    const tiny = new RedisRateLimiter({ client: c.client, prefix: 'hostile4:', rate: 1e-10, interval: 1 });
    expect(await tiny.allow('k')).toBe(true);
    const refused = await tiny.consume('k');
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(2 ** 31);
    // wait() with a delay beyond one timer's range rejects at once under a maxWait, never sleeps early.
    await expect(tiny.wait('k', { maxWait: 2 ** 31 })).rejects.toSatisfy(isRateLimitExceededError);
    const huge = new RedisRateLimiter({ client: c.client, prefix: 'hostile5:', rate: 1e12, interval: 1, burst: 1e12 });
    expect(await huge.consume('k', 1e12)).toMatchObject({ allowed: true, remaining: 0 });
    const fractional = new RedisRateLimiter({ client: c.client, prefix: 'hostile6:', rate: 2.5, burst: 2.5 });
    expect(await fractional.take('k', 2.5)).toBe(true);
    expect(await fractional.take('k', 0.1)).toBe(false);
  });
});

// Found by attacking the package: a key holding a value of another type (someone else's hash or string) made every
// decision on it mark Redis unavailable and then available again, two log lines per request, and sent the other
// keys' concurrent decisions to the fallback.
describe.skipIf(redisServerBinary === undefined).each(['ioredis', 'redis'] as const)(
  'a key holding another type (%s)',
  (library) => {
    let server: RedisServer;
    let c: TestClient;
    beforeAll(async () => {
      server = await RedisServer.start();
      c = await connect(library, server.port);
    });
    afterAll(async () => {
      await c.close();
      await server.stop();
    });

    for (const algorithm of ['token-bucket', 'sliding-window'] as const) {
      it(`${algorithm}: only that key goes to the fallback, Redis stays available, one log line`, async () => {
        const logger = recordingLogger();
        const limiter = new RedisRateLimiter({
          client: c.client,
          prefix: `wrongtype-${algorithm}:`,
          rate: 2,
          interval: 60_000,
          algorithm,
          logger,
        });
        const poisoned = limiter.redisKey('poisoned');
        if (algorithm === 'token-bucket') await c.command('HSET', poisoned, 'a', '1');
        else await c.command('SET', poisoned, 'a string');
        const decisions: Promise<boolean>[] = [];
        for (let i = 0; i < 50; i++) {
          decisions.push(limiter.allow('poisoned'), limiter.allow(`fine-${i}`));
          if (i % 10 === 9) await Promise.all(decisions);
        }
        const outcomes = await Promise.all(decisions);
        // The fallback (an in-memory limiter with the same settings) decides the poisoned key: 2 of its 50.
        expect(outcomes.filter((allowed, i) => i % 2 === 0 && allowed)).toHaveLength(2);
        // Every other key was decided on Redis: each has its own key there.
        expect(outcomes.filter((allowed, i) => i % 2 === 1 && allowed)).toHaveLength(50);
        for (const i of [0, 25, 49]) expect(Number(await c.command('EXISTS', limiter.redisKey(`fine-${i}`)))).toBe(1);
        expect(limiter.available).toBe(true);
        expect(logger.lines).toHaveLength(1);
        expect(logger.lines[0]).toMatch(/holds a value of another type/);
        // The foreign value is left alone.
        expect(Number(await c.command('EXISTS', poisoned))).toBe(1);
        await limiter.close();
      });
    }
  },
);
