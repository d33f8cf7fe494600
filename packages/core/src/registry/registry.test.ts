import { describe, expect, it } from 'vitest';
import { deferred, recordingLogger } from '../../test/support.js';
import { Bulkhead } from '../bulkhead/bulkhead.js';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import { compose, type Pipeline } from '../compose/pipeline.js';
import { BulkheadFullError, CircuitOpenError } from '../errors/errors.js';
import { RateLimiter } from '../rate-limiter/rate-limiter.js';
import { Retry } from '../retry/retry.js';
import { FakeClock } from '../testing/fake-clock.js';
import { Timeout } from '../timeout/timeout.js';
import { PolicyRegistry } from './registry.js';

const boom = new Error('boom');
const fail = (): never => {
  throw boom;
};

describe('PolicyRegistry: get-or-create', () => {
  it('creates each kind once per name, in its own namespace, named after the name', () => {
    const policies = new PolicyRegistry();
    const breaker = policies.circuitBreaker('payments', { timeout: 1_000 });
    expect(breaker).toBeInstanceOf(CircuitBreaker);
    expect(policies.circuitBreaker('payments')).toBe(breaker);
    expect(policies.circuitBreaker('payments', { timeout: 1_000 })).toBe(breaker);
    const retry = policies.retry('payments');
    expect(retry).toBeInstanceOf(Retry);
    expect(policies.timeout('payments', { defaultTimeout: 100 })).toBeInstanceOf(Timeout);
    expect(policies.bulkhead('db', { maxConcurrent: 2 })).toBeInstanceOf(Bulkhead);
    expect(policies.rateLimiter('api', { rate: 5 })).toBeInstanceOf(RateLimiter);
    expect(policies.get('payments', 'retry')).toBe(retry);
    expect(policies.get('db')).toBe(policies.bulkhead('db'));
    expect(policies.get('nope')).toBeUndefined();
    expect(() => policies.get('payments')).toThrow(
      'PolicyRegistry: several policies are named "payments" (circuitBreaker, retry, timeout): pass the kind, get(name, kind)',
    );
    expect(() => policies.get('payments', 'breaker' as never)).toThrow(/kind must be one of/);
    expect(policies.list().map(({ kind, name }) => `${kind}.${name}`)).toEqual([
      'circuitBreaker.payments',
      'retry.payments',
      'timeout.payments',
      'bulkhead.db',
      'rateLimiter.api',
    ]);
  });

  it('throws when asked again with a different config, or for a bad name or config', () => {
    const policies = new PolicyRegistry();
    policies.circuitBreaker('payments', { timeout: 1_000, window: { kind: 'count', size: 5 } });
    expect(policies.circuitBreaker('payments', { window: { kind: 'count', size: 5 }, timeout: 1_000 })).toBeDefined();
    expect(() => policies.circuitBreaker('payments', { timeout: 2_000 })).toThrow(
      'PolicyRegistry: a circuit breaker named "payments" already exists with a different config',
    );
    expect(() => policies.circuitBreaker('payments', { timeout: 1_000, window: { kind: 'count', size: 6 } })).toThrow(
      /already exists/,
    );
    expect(() => policies.circuitBreaker('', {})).toThrow('PolicyRegistry: name must be a non-empty string, got ""');
    expect(() => policies.retry('r', 5 as never)).toThrow(/config of retry "r" must be an object, got 5/);
    expect(() => policies.bulkhead('db')).toThrow(
      'PolicyRegistry: bulkhead.db: Bulkhead: maxConcurrent must be an integer >= 1, got undefined',
    );
    expect(policies.get('db', 'bulkhead')).toBeUndefined();
  });

  it("passes its logger, metrics and clock to every policy, and reports each new one as 'added'", async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const policies = new PolicyRegistry({ logger, clock });
    const added: string[] = [];
    policies.on('added', ({ kind, name, policy }) => added.push(`${kind}.${name}:${policy.constructor.name}`));
    const timeout = policies.timeout('slow', { defaultTimeout: 100 });
    const pending = timeout.execute(() => new Promise(() => {})).catch((e: unknown) => e);
    await clock.advance(100);
    await pending;
    expect(logger.records.find((r) => r.msg === 'timed out')?.attrs?.['resilience.name']).toBe('slow');
    policies.pipeline('checkout', (p) => compose(p.timeout('slow'), p.circuitBreaker('payments')));
    expect(added).toEqual([
      'timeout.slow:Timeout',
      'circuitBreaker.payments:CircuitBreaker',
      'pipeline.checkout:Pipeline',
    ]);
    expect(policies.pipeline('checkout')).toBe(policies.get('checkout', 'pipeline'));
    expect(() => policies.pipeline('other')).toThrow(/no pipeline named "other" yet, and build must be a function/);
  });

  it("an 'added' listener that throws is logged through the registry's logger and the policy is still created", () => {
    const logger = recordingLogger();
    const policies = new PolicyRegistry({ logger });
    policies.on('added', () => {
      throw new Error('listener');
    });
    const retry = policies.retry('r');
    expect(policies.get('r')).toBe(retry);
    expect(logger.records.some((r) => r.level === 'error' && r.msg === 'listener for "added" threw')).toBe(true);
    expect(() => policies.on('removed' as never, () => {})).toThrow(/PolicyRegistry: event must be one of "added"/);
  });

  it('close() forgets everything and refuses new work; Symbol.dispose closes', () => {
    const policies = new PolicyRegistry();
    const breaker = policies.circuitBreaker('a');
    policies.close();
    policies.close();
    expect(policies.list()).toEqual([]);
    expect(() => policies.circuitBreaker('a')).toThrow('PolicyRegistry: the registry is closed');
    expect(() => policies.configure({})).toThrow(/closed/);
    expect(breaker.state).toBe('closed');
    {
      using scoped = new PolicyRegistry();
      scoped.retry('r');
    }
  });
});

describe('PolicyRegistry.configure', () => {
  it('applies defaults per kind and settings per name to live policies through update()', async () => {
    const policies = new PolicyRegistry();
    const payments = policies.circuitBreaker('payments', { readyToTrip: (c) => c.consecutiveFailures >= 3 });
    const search = policies.circuitBreaker('search');
    const limiter = policies.rateLimiter('api', { rate: 10 });
    policies.configure({
      defaults: { circuitBreaker: { timeout: 5_000 } },
      circuitBreaker: { payments: { timeout: 1_000, maxRequests: 2 } },
      rateLimiter: { api: { rate: 2, burst: 2 } },
    });
    expect(limiter.rate).toBe(2);
    for (let i = 0; i < 3; i++) await expect(payments.execute(fail)).rejects.toBe(boom);
    expect(payments.state).toBe('open');
    expect(payments.toJSON().openRemainingMs).toBeLessThanOrEqual(1_000);
    search.isolate();
    expect(search.toJSON().state).toBe('open');
    search.release();
    for (let i = 0; i < 6; i++) await expect(search.execute(fail)).rejects.toBe(boom);
    expect(search.toJSON().openRemainingMs).toBeGreaterThan(1_000);
  });

  it('each call replaces the last: a setting no longer given goes back to the code config or default', () => {
    const policies = new PolicyRegistry();
    const limiter = policies.rateLimiter('api', { rate: 10, burst: 20 });
    policies.configure({ rateLimiter: { api: { rate: 2, burst: 3 } } });
    expect([limiter.rate, limiter.burst]).toEqual([2, 3]);
    policies.configure({ rateLimiter: { api: { rate: 4 } } });
    expect([limiter.rate, limiter.burst]).toEqual([4, 20]);
    policies.configure({});
    expect([limiter.rate, limiter.burst]).toEqual([10, 20]);
    const bulkhead = policies.bulkhead('db', { maxConcurrent: 2 });
    policies.configure({ bulkhead: { db: { maxQueue: 5 } } });
    expect(bulkhead.maxQueue).toBe(5);
    policies.configure({});
    expect(bulkhead.maxQueue).toBe(0);
  });

  it('fails with the path of an unknown section, kind, name or option, and applies nothing', () => {
    const policies = new PolicyRegistry();
    const breaker = policies.circuitBreaker('payments');
    const retry = policies.retry('payments');
    const attempt = (config: unknown) => () => policies.configure(config as never);
    expect(attempt({ circuitBreaker: { payments: { timout: 5 } } })).toThrow(
      new TypeError('PolicyRegistry.configure: circuitBreaker.payments.timout is not an option of a circuit breaker'),
    );
    expect(attempt({ circuitBreakers: {} })).toThrow(/circuitBreakers is not a section of the registry config/);
    expect(attempt({ defaults: { breaker: {} } })).toThrow(/defaults.breaker is not a kind of policy/);
    expect(attempt({ defaults: { retry: { maxAttempts: 2, name: 'x' } } })).toThrow(
      /defaults.retry.name cannot be set by configure\(\)/,
    );
    expect(attempt({ circuitBreaker: { paymnets: { timeout: 5 } } })).toThrow(
      /circuitBreaker.paymnets names no circuit breaker of the registry/,
    );
    expect(attempt({ circuitBreaker: { payments: 5 } })).toThrow(/circuitBreaker.payments must be an object/);
    expect(attempt({ critical: ['payments'] })).toThrow(/critical\[0\] must be "kind.name"/);
    expect(attempt({ critical: ['bulkhead.payments'] })).toThrow(/critical\[0\] names no bulkhead/);
    expect(attempt(null)).toThrow(/config must be an object, got null/);
    // A bad value for one policy: the change to the other is not applied either.
    expect(attempt({ retry: { payments: { maxAttempts: 7 } }, circuitBreaker: { payments: { timeout: -5 } } })).toThrow(
      'PolicyRegistry.configure: circuitBreaker.payments: CircuitBreaker: timeout must be a finite number >= 0, got -5',
    );
    expect(attempt({ defaults: { retry: { initialDelay: -1 } }, retry: { payments: { maxAttempts: 7 } } })).toThrow(
      /defaults.retry: Retry: initialDelay must be/, // the value is wrong wherever it lands: named where it is
    );
    expect(retry.maxAttempts).toBe(3);
    expect(breaker.toJSON().state).toBe('closed');
  });

  it('checks defaults for a kind with no live policy, and keeps settings for names created later when allowed', () => {
    const policies = new PolicyRegistry();
    expect(() => policies.configure({ defaults: { bulkhead: { maxQueue: -1 } } })).toThrow(
      /defaults.bulkhead: Bulkhead: maxQueue must be/,
    );
    expect(() => policies.configure({ bulkhead: { db: { maxConcurrent: 0 } } }, { allowUnknownNames: true })).toThrow(
      /bulkhead.db: Bulkhead: maxConcurrent must be an integer >= 1, got 0/,
    );
    policies.configure(
      { defaults: { bulkhead: { maxQueue: 3 } }, bulkhead: { db: { maxConcurrent: 4 } }, critical: ['bulkhead.db'] },
      { allowUnknownNames: true },
    );
    const db = policies.bulkhead('db');
    expect([db.maxConcurrent, db.maxQueue]).toEqual([4, 3]);
    expect(policies.health().policies[0]?.critical).toBe(true);
  });

  it('takes "Infinity" for unbounded values, as JSON cannot carry Infinity', () => {
    const policies = new PolicyRegistry();
    const bulkhead = policies.bulkhead('db', { maxConcurrent: 1 });
    const limiter = policies.rateLimiter('api', { rate: 1 });
    policies.configure(
      JSON.parse(
        '{"bulkhead":{"db":{"maxQueue":"Infinity","queueTimeout":"Infinity"}},"rateLimiter":{"api":{"maxWait":"Infinity"}}}',
      ),
    );
    expect(bulkhead.maxQueue).toBe(Number.POSITIVE_INFINITY);
    expect(limiter.maxWait).toBe(Number.POSITIVE_INFINITY);
  });

  it('revives "Infinity" inside a window too, and refuses a defaults section that is not an object', () => {
    const policies = new PolicyRegistry();
    const breaker = policies.circuitBreaker('payments');
    policies.configure({
      circuitBreaker: {
        payments: { window: { kind: 'time', duration: 1_000 }, slowCallDuration: 'Infinity' as never },
      },
    });
    expect(breaker.state).toBe('closed');
    expect(() => policies.configure({ defaults: 5 as never })).toThrow(/defaults must be an object, got 5/);
    expect(() => policies.configure({ critical: 'circuitBreaker.payments' as never })).toThrow(
      /critical must be an array/,
    );
    expect(() => policies.configure({ retry: [] as never })).toThrow(
      /retry must be an object of retry settings by name/,
    );
  });

  it('treats "__proto__" in a parsed file as data, never as a prototype', () => {
    const policies = new PolicyRegistry();
    policies.circuitBreaker('payments');
    const hostile = JSON.parse('{"circuitBreaker":{"payments":{"window":{"__proto__":{"kind":"count","size":2}}}}}');
    expect(() => policies.configure(hostile)).toThrow(
      /circuitBreaker.payments: CircuitBreaker: unknown option "window.__proto__"/,
    );
    expect(() => policies.configure(JSON.parse('{"__proto__":{"defaults":{}}}'))).toThrow(/__proto__ is not a section/);
    expect(() => policies.configure(JSON.parse('{"circuitBreaker":{"__proto__":{}}}'))).toThrow(
      /circuitBreaker.__proto__ names no circuit breaker/,
    );
    expect(({} as Record<string, unknown>).kind).toBeUndefined();
  });

  it('keeps predicates and hooks given in code, changing only what the config names', async () => {
    const policies = new PolicyRegistry();
    const changes: string[] = [];
    const breaker = policies.circuitBreaker('payments', {
      readyToTrip: () => true,
      onStateChange: (_from, to) => changes.push(to),
    });
    policies.configure({ circuitBreaker: { payments: { timeout: 10 } } });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(changes).toEqual(['open']);
  });
});

describe('PolicyRegistry.health', () => {
  it('is ok with nothing engaged, degraded for a non-critical open breaker, down for a critical one, and back', async () => {
    const clock = new FakeClock();
    const policies = new PolicyRegistry({ clock });
    expect(policies.health()).toEqual({ status: 'ok', policies: [] });
    const payments = policies.circuitBreaker(
      'payments',
      { readyToTrip: () => true, timeout: 1_000 },
      { critical: true },
    );
    const search = policies.circuitBreaker('search', { readyToTrip: () => true, timeout: 1_000 });
    policies.retry('r');
    expect(policies.health()).toEqual({
      status: 'ok',
      policies: [
        { kind: 'circuitBreaker', name: 'payments', status: 'ok', critical: true, state: 'closed' },
        { kind: 'circuitBreaker', name: 'search', status: 'ok', critical: false, state: 'closed' },
      ],
    });
    await expect(search.execute(fail)).rejects.toBe(boom);
    expect(policies.health().status).toBe('degraded');
    await expect(payments.execute(fail)).rejects.toBe(boom);
    expect(policies.health().status).toBe('down');
    await expect(payments.execute(fail)).rejects.toBeInstanceOf(CircuitOpenError);
    await clock.advance(1_001);
    expect(policies.health().policies.map((p) => p.status)).toEqual(['degraded', 'degraded']);
    await payments.execute(() => 1);
    await search.execute(() => 1);
    expect(policies.health().status).toBe('ok');
  });

  it('a full bulkhead is degraded, or down when critical (here marked by configure)', async () => {
    const policies = new PolicyRegistry();
    const db = policies.bulkhead('db', { maxConcurrent: 1, maxQueue: 1 });
    const gate = deferred();
    const running = db.execute(() => gate.promise);
    expect(policies.health().status).toBe('ok');
    const queued = db.execute(() => 1);
    expect(policies.health().policies[0]).toEqual({
      kind: 'bulkhead',
      name: 'db',
      status: 'degraded',
      critical: false,
      active: 1,
      queued: 1,
      maxConcurrent: 1,
      maxQueue: 1,
    });
    await expect(db.execute(() => 2)).rejects.toBeInstanceOf(BulkheadFullError);
    policies.configure({ critical: ['bulkhead.db'] });
    expect(policies.health().status).toBe('down');
    gate.resolve();
    await Promise.all([running, queued]);
    expect(policies.health().status).toBe('ok');
  });
});

describe('PolicyRegistry: hostile use (attack-ops)', () => {
  it('checks defaults on their own even when every live policy overrides them, and applies nothing', () => {
    const policies = new PolicyRegistry();
    const db = policies.bulkhead('db', { maxConcurrent: 5 });
    const payments = policies.circuitBreaker('payments', { timeout: 5 });
    expect(() => policies.configure({ defaults: { bulkhead: { maxConcurrent: -1, maxQueue: 2 } } })).toThrow(
      'PolicyRegistry.configure: defaults.bulkhead: Bulkhead: maxConcurrent must be an integer >= 1, got -1',
    );
    expect(() => policies.configure({ defaults: { circuitBreaker: { timeout: -5 } } })).toThrow(
      /defaults.circuitBreaker: CircuitBreaker: timeout must be a finite number >= 0, got -5/,
    );
    expect(db.maxQueue).toBe(0);
    // A policy created later without a config does not meet the refused defaults.
    expect(policies.circuitBreaker('search').state).toBe('closed');
    expect(payments.state).toBe('closed');
  });

  it('refuses a pipeline build that returns no Pipeline, or asks for its own pipeline, and registers nothing', () => {
    const policies = new PolicyRegistry();
    expect(() => policies.pipeline('p', () => undefined as never)).toThrow(
      'PolicyRegistry: build of pipeline "p" must return a Pipeline (from compose(), or pipeline()…build()), got undefined',
    );
    expect(() => policies.pipeline('p', () => 'x' as never)).toThrow(/must return a Pipeline/);
    const selfish = (p: PolicyRegistry): Pipeline => p.pipeline('q', selfish);
    expect(() => policies.pipeline('q', selfish)).toThrow(
      'PolicyRegistry: the build of pipeline "q" asked for that pipeline itself',
    );
    expect(policies.list()).toEqual([]);
    const built = policies.pipeline('p', (p) => compose(p.timeout('p', { defaultTimeout: 100 })));
    expect(policies.pipeline('p')).toBe(built);
    expect(policies.pipeline('q', () => compose())).toBeDefined();
  });

  it('finds a policy by name alone among many without scanning them all, and still refuses an ambiguous name', () => {
    const policies = new PolicyRegistry();
    for (let i = 0; i < 500; i++) policies.circuitBreaker(`c${i}`);
    policies.retry('c7');
    expect(policies.get('c499')).toBe(policies.circuitBreaker('c499'));
    expect(() => policies.get('c7')).toThrow(/several policies are named "c7" \(circuitBreaker, retry\)/);
    expect(policies.get('toString')).toBeUndefined();
    expect(policies.get('__proto__')).toBeUndefined();
  });
});

describe('PolicyRegistry: a code config mutated after creation (attack-ops)', () => {
  it('keeps the config as it was given: configure() re-applies that, not the caller mutated object', () => {
    const policies = new PolicyRegistry();
    const config = { timeout: 1_000, window: { kind: 'count' as const, size: 5 } };
    const breaker = policies.circuitBreaker('payments', config);
    config.timeout = -1;
    config.window.size = 0;
    expect(() => policies.configure({ circuitBreaker: { payments: { maxRequests: 2 } } })).not.toThrow();
    expect(breaker.state).toBe('closed');
    expect(() => policies.circuitBreaker('payments', config)).toThrow(/already exists with a different config/);
    expect(policies.circuitBreaker('payments', { timeout: 1_000, window: { kind: 'count', size: 5 } })).toBe(breaker);
  });
});

describe('PolicyRegistry.configure: what is not a plain object (attack-ops)', () => {
  it('refuses a Map or a class instance, which would configure nothing silently', () => {
    const policies = new PolicyRegistry();
    const breaker = policies.circuitBreaker('payments');
    expect(() => policies.configure(new Map([['circuitBreaker', { payments: { timeout: -5 } }]]) as never)).toThrow(
      'PolicyRegistry.configure: config must be a plain object (as JSON.parse gives), got a Map',
    );
    expect(() => policies.configure(new Date() as never)).toThrow(/got a Date/);
    const bare = Object.assign(Object.create(null), { circuitBreaker: { payments: { maxRequests: 2 } } });
    expect(() => policies.configure(bare)).not.toThrow();
    expect(breaker.state).toBe('closed');
  });
});
