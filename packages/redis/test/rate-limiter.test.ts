import { getEventListeners } from 'node:events';
import { isRateLimitExceededError, pipeline, RateLimiter } from '@resilience/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RedisRateLimiter, type RedisRateLimiterConfig } from '../src/index.js';
import { BURST } from '../src/internal/gate.js';
import { replyFactor } from '../src/rate-limiter.js';
import { quiet, recordingLogger } from './loggers.js';
import { useRedisServer } from './redis-fixture.js';
import { clientLibraries, connect, kindOf, redisServerBinary, type TestClient, unreachable } from './redis-server.js';
import { until } from './until.js';

describe.skipIf(redisServerBinary === undefined).each(clientLibraries)('RedisRateLimiter on %s', (library) => {
  const redis = useRedisServer(library);
  const { client } = redis;
  let prefixCounter = 0;

  async function limiter(over: Partial<RedisRateLimiterConfig> = {}, c?: TestClient): Promise<RedisRateLimiter> {
    const { client: redis } = c ?? (await client());
    return new RedisRateLimiter({
      client: redis,
      rate: 10,
      interval: 60_000,
      logger: quiet,
      // Generous: a loaded machine must not send these decisions to the fallback (outage tests set their own).
      commandTimeout: 5_000,
      prefix: `t${prefixCounter}:`,
      ...over,
    });
  }

  function freshPrefix(): string {
    prefixCounter++;
    return `t${prefixCounter}:`;
  }

  it('detects the client kind', async () => {
    expect((await limiter()).clientKind).toBe(kindOf(library));
  });

  it('answers 100 callers who ask at once, each once with its own decision; node-redis callers get at most BURST answers in the turn the replies arrive', async () => {
    // Regression (issue 14): node-redis writes a turn's commands in one setImmediate, so callers answered in one
    // turn sent their next commands in one write and Node and redis-server took turns instead of overlapping.
    const l = await limiter({ rate: 1, burst: 150, interval: 1e9, prefix: freshPrefix() });
    await l.consume('warm-up'); // the script is cached: the burst is one EVALSHA each
    let answered = 0;
    let answeredInFirstTurn: number | undefined;
    const calls = Array.from({ length: 100 }, () =>
      l.consume('k').then((result) => {
        answered++;
        if (answered === 1) {
          setImmediate(() => {
            answeredInFirstTurn = answered;
          });
        }
        return result;
      }),
    );
    const results = await Promise.all(calls);
    expect(answered).toBe(100);
    expect(results.every((r) => r.allowed)).toBe(true);
    // Every take saw the one before it: the remainders are 149 down to 50, each once.
    expect(results.map((r) => r.remaining).sort((a, b) => b - a)).toEqual(
      Array.from({ length: 100 }, (_, i) => 149 - i),
    );
    await new Promise((resolve) => setImmediate(resolve)); // on ioredis, every answer may come in the first turn
    expect(answeredInFirstTurn).toBeGreaterThan(0);
    if (kindOf(library) === 'node-redis') expect(answeredInFirstTurn).toBeLessThanOrEqual(BURST);
    expect((await l.check('k')).remaining).toBe(50);
  });

  it.each(['token-bucket', 'sliding-window'] as const)(
    'two limiters on two clients share one %s budget exactly',
    async (algorithm) => {
      const prefix = freshPrefix();
      const a = await limiter({ algorithm, prefix });
      const b = await limiter({ algorithm, prefix });
      const calls = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).allow('user'));
      const answers = await Promise.all(calls);
      expect(answers.filter(Boolean)).toHaveLength(10);
      expect(await a.allow('other')).toBe(true);
    },
  );

  it('property: under any interleaving, two limiters never hand out more than the bucket, and refuse only what does not fit', async () => {
    const c1 = await client();
    const c2 = await client();
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.record({ first: fc.boolean(), tokens: fc.integer({ min: 1, max: 3 }) }), { maxLength: 20 }),
        async (s, calls) => {
          const prefix = freshPrefix();
          // No refill during the run: one token per 10^9 ms.
          const a = await limiter({ prefix, rate: 1, burst: 10, interval: 1e9 }, c1);
          const b = await limiter({ prefix, rate: 1, burst: 10, interval: 1e9 }, c2);
          const results = calls.map((call) =>
            s.schedule(Promise.resolve(), 'start').then(() => (call.first ? a : b).consume('k', call.tokens)),
          );
          await s.waitAll();
          const answers = await Promise.all(results);
          const taken = answers.reduce((sum, r, i) => sum + (r.allowed ? (calls[i]?.tokens ?? 0) : 0), 0);
          expect(taken).toBeLessThanOrEqual(10);
          for (const [i, r] of answers.entries()) {
            // A refusal means fewer tokens were left than asked for.
            if (!r.allowed) expect(r.remaining).toBeLessThan(calls[i]?.tokens ?? 0);
          }
          expect((await a.check('k')).remaining).toBe(10 - taken);
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);

  it('consume reports limit, remaining, reset and retry-after in one round trip; check takes nothing', async () => {
    const l = await limiter({ prefix: freshPrefix(), rate: 5, interval: 10_000 });
    const first = await l.consume('k', 2);
    expect(first).toMatchObject({ allowed: true, limit: 5, remaining: 3, retryAfterMs: 0 });
    expect(first.resetMs).toBeGreaterThan(3_000);
    expect(first.resetMs).toBeLessThanOrEqual(4_000);
    expect(await l.check('k', 3)).toMatchObject({ allowed: true, remaining: 3 });
    expect(await l.check('k', 4)).toMatchObject({ allowed: false, remaining: 3 });
    expect((await l.check('k', 4)).retryAfterMs).toBeGreaterThan(1_000);
    expect(await l.take('k', 3)).toBe(true);
    const refused = await l.consume('k');
    expect(refused.allowed).toBe(false);
    expect(refused.remaining).toBe(0);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(2_000);
  });

  it('sliding window reports the same shape, and its key lives until the end of the next window', async () => {
    const c = await client();
    const l = await limiter({ prefix: freshPrefix(), rate: 3, algorithm: 'sliding-window', interval: 60_000 }, c);
    expect(await l.consume('k')).toMatchObject({ allowed: true, limit: 3, remaining: 2, retryAfterMs: 0 });
    await l.take('k', 2);
    const refused = await l.consume('k');
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.resetMs).toBeGreaterThan(60_000);
    const ttl = Number(await c.command('PTTL', l.redisKey('k')));
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_001);
    // It expires at the end of the next window (+1 ms), which is what resetMs counted down to when refused.
    expect(ttl).toBeLessThanOrEqual(refused.resetMs + 2);
  });

  it('treats any string as a key: braces, colons, newlines, quotes and Lua stay data', async () => {
    const c = await client();
    const prefix = freshPrefix();
    const l = await limiter({ prefix, rate: 1, interval: 60_000 }, c);
    const keys = [
      '',
      '{',
      '}',
      '{}',
      '{user}',
      'a:b',
      'line\nbreak',
      '"quoted\'',
      "']] redis.call('FLUSHALL') --[[",
      '\\',
      '\u0000nul',
      'ünïcødé 🚦',
      'x'.repeat(10_000),
      // Lone surrogates: UTF-8 turns each into U+FFFD, so they must not reach Redis as they are (one shared budget).
      '\uD800',
      '\uDC00',
      '\uFFFD',
      'a\uDBFFb',
      'a\uFFFDb',
    ];
    for (const key of keys) expect(await l.allow(key)).toBe(true);
    for (const key of keys) expect(await l.allow(key)).toBe(false);
    // The default bucket is not the empty-string key.
    expect(await l.allow()).toBe(true);
    expect(await l.allow()).toBe(false);
    // Nothing was flushed, and every key holds a TTL.
    const stored = (await c.command('KEYS', `${prefix}*`)) as string[];
    expect(stored).toHaveLength(keys.length + 1);
    for (const key of stored) {
      const ttl = Number(await c.command('PTTL', key));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    expect(l.redisKey('{user}')).toBe(`${prefix}tb:{k:{user}}`);
  });

  // stringNumbers is an ioredis option: registered for ioredis only (not skipped elsewhere, so CI shows no skips).
  const onIoredis = kindOf(library) === 'ioredis' ? it : undefined;
  onIoredis?.each(['token-bucket', 'sliding-window'] as const)(
    'decides on Redis with ioredis stringNumbers (integers answered as text), %s',
    async (algorithm) => {
      const c = await connect(library, redis.server.port, { stringNumbers: true });
      try {
        // 'deny': an answer the limiter could not read would refuse.
        const l = await limiter({ prefix: freshPrefix(), rate: 2, algorithm, whenUnavailable: 'deny' }, c);
        expect(await l.consume('k')).toMatchObject({ allowed: true, limit: 2, remaining: 1, retryAfterMs: 0 });
        expect(await l.consume('k')).toMatchObject({ allowed: true, remaining: 0 });
        const refused = await l.consume('k');
        expect(refused).toMatchObject({ allowed: false, remaining: 0 });
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(l.available).toBe(true);
      } finally {
        await c.close();
      }
    },
  );

  it('answers a limiter whose numbers do not fit one integer reply with the full table (2^45 tokens a second)', async () => {
    const c = await client();
    // 'deny': an answer the limiter could not read would refuse.
    const l = await limiter(
      { prefix: freshPrefix(), rate: 2 ** 45, interval: 1_000, burst: 2 ** 45, whenUnavailable: 'deny' },
      c,
    );
    expect(await l.consume('k', 2 ** 44)).toMatchObject({ allowed: true, limit: 2 ** 45, retryAfterMs: 0 });
    const second = await l.consume('k', 2 ** 44);
    expect(second.allowed).toBe(true);
    expect(Number.isInteger(second.remaining)).toBe(true);
    expect(second.remaining).toBeGreaterThanOrEqual(0);
    expect(second.remaining).toBeLessThan(2 ** 45);
    expect(second.resetMs).toBeGreaterThan(0);
    expect(second.resetMs).toBeLessThanOrEqual(1_000);
    expect(replyFactor(2 ** 45, 1_000)).toBe(0);
  });

  it('sends the script text again after the server forgets it (NOSCRIPT)', async () => {
    const c = await client();
    const l = await limiter({ prefix: freshPrefix() }, c);
    expect(await l.allow('a')).toBe(true);
    await c.command('SCRIPT', 'FLUSH');
    expect(await l.allow('a')).toBe(true);
    expect(l.available).toBe(true);
  });

  it('refuses bad tokens and keys with a RangeError or TypeError, and never reaches Redis or the fallback', async () => {
    const l = await limiter({ prefix: freshPrefix() });
    await expect(l.consume('k', 0)).rejects.toThrow(RangeError);
    await expect(l.consume('k', 11)).rejects.toThrow(/tokens must be .* <= 10 .* got 11/);
    await expect(l.take('k', Number.NaN)).rejects.toThrow(/got NaN/);
    await expect(l.check('k', -1)).rejects.toThrow(RangeError);
    await expect(l.allow(42 as unknown as string)).rejects.toThrow(/key must be a string/);
    await expect(l.wait('k', { maxWait: Number.NaN })).rejects.toThrow(/maxWait .* got NaN/);
    await expect(l.wait('k', { deadline: Number.NaN })).rejects.toThrow(/deadline/);
    expect(l.available).toBe(true);
  });

  it('execute takes then runs fn with a context, passes fn errors through and rejects without tokens', async () => {
    const hits: Array<string | undefined> = [];
    const recorded: string[] = [];
    const metrics = {
      recordCircuitBreakerState: () => undefined,
      recordRetryAttempt: () => undefined,
      recordRateLimitHit: (name: string) => recorded.push(name),
      recordBulkheadUtilization: () => undefined,
      recordTimeout: () => undefined,
    };
    const l = await limiter({ prefix: freshPrefix(), rate: 1, onLimit: (key) => hits.push(key), metrics, name: 'api' });
    await expect(l.execute((ctx) => ctx.attempt, { key: 'e', attempt: 3 })).resolves.toBe(3);
    const err = await l.execute(() => 1, { key: 'e' }).catch((e: unknown) => e);
    expect(isRateLimitExceededError(err)).toBe(true);
    expect((err as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    expect(hits).toEqual(['e']);
    expect(recorded).toEqual(['api']);
    const own = new Error('mine');
    await expect(
      l.execute(
        () => {
          throw own;
        },
        { key: 'f' },
      ),
    ).rejects.toBe(own);
    await expect(l.execute(() => Promise.reject('str'), { key: 'g' })).rejects.toBe('str');
    await expect(l.execute(null as unknown as () => number)).rejects.toThrow(TypeError);
    const aborted = AbortSignal.abort(new Error('gone'));
    await expect(l.execute(() => 1, { signal: aborted })).rejects.toThrow('gone');
  });

  it('wait resolves once the tokens exist and rejects at once when they cannot come in time', async () => {
    const l = await limiter({ prefix: freshPrefix(), rate: 20, burst: 1, interval: 1_000 });
    await l.wait('w');
    await l.wait('w'); // the next token comes after ~50 ms
    const err = await l.wait('w', { maxWait: 1 }).catch((e: unknown) => e);
    expect(isRateLimitExceededError(err)).toBe(true);
    const late = await l.wait('w', { deadline: performance.now() }).catch((e: unknown) => e);
    expect(isRateLimitExceededError(late)).toBe(true);
  });

  it('execute waits for tokens when the limiter has a maxWait, and leaves no listener on the caller signal', async () => {
    const l = await limiter({ prefix: freshPrefix(), rate: 20, burst: 1, interval: 1_000, maxWait: 5_000 });
    const signal = new AbortController().signal;
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((n) => l.execute(() => order.push(n), { key: 'm', signal })));
    expect(order.sort()).toEqual([1, 2, 3]);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    const short = await limiter({ prefix: freshPrefix(), rate: 1, interval: 60_000, maxWait: 10 });
    await short.execute(() => 'first', { key: 'm' });
    await expect(short.execute(() => 'second', { key: 'm' })).rejects.toSatisfy(isRateLimitExceededError);
  });

  it('close() sends later decisions to the fallback and leaves the client open', async () => {
    const c = await client();
    const l = await limiter({ prefix: freshPrefix(), rate: 1, whenUnavailable: 'deny' }, c);
    await l.close();
    expect(await l.consume('x')).toMatchObject({ allowed: false });
    expect(await c.command('PING')).toBe('PONG');
  });

  it('many waiters on one signal all leave when it aborts, with its reason', async () => {
    // A generous commandTimeout: 2,000 decisions at once on a loaded machine must not reach the fallback here.
    const l = await limiter({ prefix: freshPrefix(), rate: 1, interval: 600_000, commandTimeout: 10_000 });
    await l.allow('s');
    const controller = new AbortController();
    const waits = Array.from({ length: 2_000 }, () => l.wait('s', { signal: controller.signal }).catch((e) => e));
    await new Promise((r) => setTimeout(r, 100));
    const reason = new Error('stop');
    controller.abort(reason);
    const results = await Promise.all(waits);
    expect(results.every((r) => r === reason)).toBe(true);
  });

  it('works as a pipeline rateLimit step, with a fixed key and tokens or the default bucket', async () => {
    const l = await limiter({ prefix: freshPrefix(), rate: 2 });
    const perService = pipeline().rateLimit(l, { key: 'payments', tokens: 2 }).build();
    await expect(perService.execute(() => 'ok')).resolves.toBe('ok');
    await expect(perService.execute(() => 'ok')).rejects.toSatisfy(isRateLimitExceededError);
    const shared = pipeline().rateLimit(l).timeout({ defaultTimeout: 1_000 }).build();
    await expect(shared.execute(() => 'ok')).resolves.toBe('ok');
    expect(await l.check()).toMatchObject({ remaining: 1 });
  });

  it('falls back while Redis is down, logs each transition once, and goes back to Redis', async () => {
    const prefix = freshPrefix();
    const logger = recordingLogger();
    const c = await client();
    const l = await limiter({ prefix, rate: 1_000, interval: 60_000, logger, commandTimeout: 200 }, c);
    expect(await l.allow('o')).toBe(true);
    const traffic: Array<Promise<boolean>> = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        traffic.push(l.allow('o'));
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    await redis.server.stop();
    await until(() => !l.available, 'the limiter to notice the outage');
    await redis.server.resume();
    // The fallback keeps deciding until the client reconnects and a probe answers.
    for (let i = 0; i < 200 && !l.available; i++) {
      await l.allow('o');
      await new Promise((r) => setTimeout(r, 25));
    }
    running = false;
    await loop;
    const answers = await Promise.all(traffic);
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.every((a) => typeof a === 'boolean')).toBe(true);
    expect(l.available).toBe(true);
    // Decisions are on Redis again: the (restarted, empty) server holds the key.
    await l.allow('after');
    expect(Number(await c.command('EXISTS', l.redisKey('after')))).toBe(1);
    expect(logger.lines.filter((line) => line.startsWith('warn'))).toHaveLength(1);
    expect(logger.lines.filter((line) => line.startsWith('info'))).toHaveLength(1);
    expect(logger.lines[0]).toMatch(/Redis is unavailable/);
  }, 30_000);

  it('bounds a decision by commandTimeout when Redis does not answer (CLIENT PAUSE)', async () => {
    const c = await client();
    const admin = await client();
    const logger = recordingLogger();
    const l = await limiter(
      { prefix: freshPrefix(), rate: 1, commandTimeout: 100, whenUnavailable: 'deny', logger },
      c,
    );
    await admin.command('CLIENT', 'PAUSE', '5000', 'ALL');
    // Redis would allow this fresh key once the pause ends: a refusal is the fallback's answer, given before then.
    const result = await l.consume('p');
    expect(result).toMatchObject({ allowed: false, remaining: 0 });
    expect(l.available).toBe(false);
    await admin.command('CLIENT', 'UNPAUSE');
  });
});

describe('RedisRateLimiter without a reachable Redis', () => {
  it.each(clientLibraries)('applies each whenUnavailable choice (%s, unconnected client)', async (library) => {
    const client = await unreachable(library);
    const base = { client: client as never, rate: 2, interval: 1_000, logger: quiet, commandTimeout: 50 };
    const local = new RedisRateLimiter(base);
    expect(await local.allow('x')).toBe(true);
    expect(await local.allow('x')).toBe(true);
    expect(await local.allow('x')).toBe(false);
    expect(local.available).toBe(false);
    expect(await new RedisRateLimiter({ ...base, whenUnavailable: 'allow' }).consume('x')).toMatchObject({
      allowed: true,
    });
    expect(await new RedisRateLimiter({ ...base, whenUnavailable: 'deny' }).consume('x')).toMatchObject({
      allowed: false,
      retryAfterMs: 500,
    });
    const own = new RateLimiter({ rate: 1 });
    const custom = new RedisRateLimiter({ ...base, whenUnavailable: own });
    expect(await custom.allow('y')).toBe(true);
    expect(await custom.allow('y')).toBe(false);
    // A fallback of your own that fails makes the call fail with its error; one that answers nonsense, with a TypeError.
    const failure = new Error('fallback down too');
    const failing = new RedisRateLimiter({
      ...base,
      whenUnavailable: { consume: () => Promise.reject(failure), check: () => Promise.reject(failure) },
    });
    await expect(failing.consume('z')).rejects.toBe(failure);
    await expect(failing.execute(() => 1)).rejects.toBe(failure);
    const silly = new RedisRateLimiter({
      ...base,
      whenUnavailable: { consume: () => undefined as never, check: () => 42 as never },
    });
    await expect(silly.allow('z')).rejects.toThrow(/whenUnavailable's consume\(\) gave undefined, not a decision/);
    await expect(silly.check('z')).rejects.toThrow(/check\(\) gave 42/);
  });
});
