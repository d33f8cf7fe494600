import { describe, expect, it } from 'vitest';
import { deferred, failOnUnhandledRejection, outcome, recordingLogger } from '../../test/support.js';
import { AdaptiveBulkhead } from '../adaptive-bulkhead/adaptive-bulkhead.js';
import { AdaptiveThrottle } from '../adaptive-throttle/adaptive-throttle.js';
import { Chaos } from '../chaos/chaos.js';
import { Hedging } from '../hedging/hedging.js';
import { FakeClock } from '../testing/index.js';
import { PolicyRegistry } from './registry.js';

failOnUnhandledRejection();

const boom = (): Promise<never> => Promise.reject(new Error('boom'));

describe('PolicyRegistry: the adaptive policies', () => {
  it("gets or creates each kind in its own namespace, named, listed and reported as 'added'", () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const policies = new PolicyRegistry({ clock, logger });
    const added: string[] = [];
    policies.on('added', ({ kind, name, policy }) => added.push(`${kind}.${name}:${policy.constructor.name}`));
    const bulkhead = policies.adaptiveBulkhead('db', { maxLimit: 50 });
    const throttle = policies.adaptiveThrottle('db', { k: 1.5 });
    const hedging = policies.hedging('db', { delay: 20 });
    const chaos = policies.chaos('db', { rate: 0.1, latency: 100 });
    expect(bulkhead).toBeInstanceOf(AdaptiveBulkhead);
    expect(throttle).toBeInstanceOf(AdaptiveThrottle);
    expect(hedging).toBeInstanceOf(Hedging);
    expect(chaos).toBeInstanceOf(Chaos);
    expect(policies.adaptiveBulkhead('db')).toBe(bulkhead);
    expect(policies.adaptiveThrottle('db', { k: 1.5 })).toBe(throttle);
    expect(policies.hedging('db')).toBe(hedging);
    expect(policies.chaos('db')).toBe(chaos);
    expect(policies.get('db', 'hedging')).toBe(hedging);
    expect(() => policies.get('db')).toThrow(/several policies are named "db"/);
    expect(() => policies.hedging('db', { delay: 30 })).toThrow(
      'PolicyRegistry: a hedging policy named "db" already exists with a different config',
    );
    expect(policies.list().map(({ kind, name }) => `${kind}.${name}`)).toEqual([
      'adaptiveBulkhead.db',
      'adaptiveThrottle.db',
      'hedging.db',
      'chaos.db',
    ]);
    expect(added).toEqual([
      'adaptiveBulkhead.db:AdaptiveBulkhead',
      'adaptiveThrottle.db:AdaptiveThrottle',
      'hedging.db:Hedging',
      'chaos.db:Chaos',
    ]);
  });

  it('a creation error names the registry and the policy, not configure()', () => {
    const policies = new PolicyRegistry();
    expect(() => policies.hedging('h')).toThrow(
      'PolicyRegistry: hedging.h: Hedging: delay must be a finite number (or Infinity) >= 0, got undefined',
    );
    expect(() => policies.adaptiveBulkhead('b', { minLimit: 0 })).toThrow(
      /^PolicyRegistry: adaptiveBulkhead\.b: AdaptiveBulkhead: minLimit/,
    );
    expect(() => policies.chaos('c', { rate: 0.5 })).toThrow(/^PolicyRegistry: chaos\.c: Chaos: needs at least one of/);
    expect(policies.list()).toEqual([]);
  });

  it('configure(): defaults per kind and settings per name reach live policies through update()', async () => {
    const clock = new FakeClock();
    const policies = new PolicyRegistry({ clock });
    const bulkhead = policies.adaptiveBulkhead('db', { algorithm: 'aimd', initialLimit: 10, maxLimit: 40 });
    const throttle = policies.adaptiveThrottle('api');
    const hedging = policies.hedging('prices', { delay: 50 });
    const chaos = policies.chaos('faults', { rate: 0.5, fault: () => new Error('injected') });
    policies.configure(
      JSON.parse(`{
        "defaults": { "adaptiveThrottle": { "k": 1.5 }, "hedging": { "maxHedges": 2 } },
        "adaptiveBulkhead": { "db": { "maxLimit": 20, "maxQueue": "Infinity" } },
        "adaptiveThrottle": { "api": { "window": 10000 } },
        "hedging": { "prices": { "delay": 30 } },
        "chaos": { "faults": { "enabled": true, "rate": 1, "latency": 10 } }
      }`),
    );
    expect([bulkhead.maxLimit, bulkhead.maxQueue, bulkhead.limit, bulkhead.algorithm]).toEqual([
      20,
      Number.POSITIVE_INFINITY,
      10,
      'aimd',
    ]);
    expect([throttle.k, throttle.window]).toEqual([1.5, 10_000]);
    expect([hedging.delay, hedging.maxHedges]).toEqual([30, 2]);
    expect([chaos.enabled, chaos.rate, chaos.latency]).toEqual([true, 1, 10]);
    const injected = outcome(chaos.execute(() => 'real'));
    await clock.advance(10);
    expect((await injected).error).toEqual(new Error('injected')); // the fault from code is kept
    // A reload without them: back to the code config and the defaults.
    policies.configure({});
    expect([bulkhead.maxLimit, bulkhead.maxQueue]).toEqual([40, 0]);
    expect([throttle.k, throttle.window, hedging.delay, hedging.maxHedges]).toEqual([2, 120_000, 50, 1]);
    expect(chaos.enabled).toBe(false);
  });

  it('configure(): every path in the errors, and nothing applies when anything fails', () => {
    const policies = new PolicyRegistry();
    const bulkhead = policies.adaptiveBulkhead('db', { maxLimit: 40 });
    const hedging = policies.hedging('prices', { delay: 50 });
    expect(() => policies.configure({ adaptiveBulkhead: { db: { maxLimt: 3 } } } as never)).toThrow(
      'PolicyRegistry.configure: adaptiveBulkhead.db.maxLimt is not an option of an adaptive bulkhead',
    );
    expect(() =>
      policies.configure({ hedging: { prices: { delay: 10 } }, adaptiveBulkhead: { db: { minLimit: 50 } } }),
    ).toThrow(/^PolicyRegistry\.configure: adaptiveBulkhead\.db: AdaptiveBulkhead: maxLimit must be/);
    expect(hedging.delay).toBe(50); // validated before anything applied
    expect(() => policies.configure({ hedging: { prices: { delay: 'Infinity' as never } } })).toThrow(
      /^PolicyRegistry\.configure: hedging\.prices: Hedging: delay must be finite unless hedgeOnFailure/,
    );
    expect(() => policies.configure({ defaults: { adaptiveThrottle: { k: 0 } } })).toThrow(
      /^PolicyRegistry\.configure: defaults\.adaptiveThrottle: AdaptiveThrottle: k must be/,
    );
    expect(() => policies.configure({ chaos: { nope: { enabled: true } } })).toThrow(
      'PolicyRegistry.configure: chaos.nope names no chaos policy of the registry (create it first, or pass { allowUnknownNames: true })',
    );
    expect(bulkhead.maxLimit).toBe(40);
  });

  it('configure() with allowUnknownNames: a hedging policy created later takes its required delay from the file', () => {
    const policies = new PolicyRegistry();
    policies.configure(
      { hedging: { prices: { delay: 25 } }, chaos: { staging: { rate: 0.2, latency: 5 } } },
      {
        allowUnknownNames: true,
      },
    );
    expect(policies.hedging('prices').delay).toBe(25);
    expect(policies.chaos('staging').rate).toBe(0.2);
  });
});

describe('PolicyRegistry.configure: chaos switched in code or from a file', () => {
  it('keeps an enable() made in code unless the code config or the file gives enabled', () => {
    const policies = new PolicyRegistry();
    const free = policies.chaos('free', { rate: 0.1, latency: 5 });
    const pinned = policies.chaos('pinned', { rate: 0.1, latency: 5, enabled: false });
    free.enable();
    pinned.enable();
    policies.configure({ chaos: { free: { rate: 0.2 } } });
    expect([free.enabled, free.rate, pinned.enabled]).toEqual([true, 0.2, false]);
    policies.configure({ chaos: { free: { enabled: false } } });
    expect(free.enabled).toBe(false);
    policies.configure({ chaos: { free: { enabled: true } } });
    expect(free.enabled).toBe(true);
    policies.configure({}); // the file no longer says it: back to the default, off
    expect(free.enabled).toBe(false);
  });
});

describe('PolicyRegistry.configure: values JSON cannot carry (regressions)', () => {
  it('refuses a metrics, logger or tracer object without its methods, with the path', () => {
    const policies = new PolicyRegistry();
    const breaker = policies.circuitBreaker('payments');
    policies.retry('calls');
    expect(() => policies.configure(JSON.parse('{ "defaults": { "retry": { "metrics": {} } } }'))).toThrow(
      /^PolicyRegistry\.configure: defaults\.retry\.metrics must be a MetricsRecorder \(with recordCircuitBreakerState\(\), .*which JSON cannot carry: give it in code \(new PolicyRegistry\(\{ metrics \}\), or the policy's config\), got an object$/,
    );
    expect(() => policies.configure(JSON.parse('{ "circuitBreaker": { "payments": { "logger": {} } } }'))).toThrow(
      /^PolicyRegistry\.configure: circuitBreaker\.payments\.logger must be a Logger with debug\(\)/,
    );
    expect(() =>
      policies.configure(JSON.parse('{ "circuitBreaker": { "payments": { "tracer": { "name": "t" } } } }')),
    ).toThrow(/^PolicyRegistry\.configure: circuitBreaker\.payments\.tracer must be an OpenTelemetry Tracer/);
    expect(() =>
      policies.configure(JSON.parse('{ "circuitBreaker": { "payments": { "metrics": "prometheus" } } }')),
    ).toThrow(/circuitBreaker\.payments\.metrics must be a MetricsRecorder/);
    expect(() => policies.configure(JSON.parse('{ "circuitBreaker": { "payments": { "clock": {} } } }'))).toThrow(
      'PolicyRegistry.configure: circuitBreaker.payments.clock cannot be set by configure()',
    );
    // What code gives is accepted, a recorder implementing only some methods too.
    const logger = recordingLogger();
    const states: string[] = [];
    policies.configure({
      circuitBreaker: {
        payments: {
          logger,
          metrics: { recordCircuitBreakerState: (_n: string, s: string) => void states.push(s) } as never,
        },
      },
    });
    breaker.isolate();
    expect(logger.records.length).toBeGreaterThan(0);
    expect(states).toContain('open');
  });

  it('refuses a chaos fault that is no Error and no function (a JSON string), with the path', () => {
    const policies = new PolicyRegistry();
    policies.chaos('faults', { rate: 1, latency: 5 });
    expect(() => policies.configure(JSON.parse('{ "chaos": { "faults": { "fault": "boom" } } }'))).toThrow(
      /^PolicyRegistry\.configure: chaos\.faults\.fault must be an Error, or a function making one, which JSON cannot carry/,
    );
    policies.configure({ chaos: { faults: { fault: new Error('from code') } } });
  });
});

describe('PolicyRegistry.health: the adaptive policies', () => {
  it('an adaptive bulkhead is degraded when full, down when critical', async () => {
    const policies = new PolicyRegistry();
    const bulkhead = policies.adaptiveBulkhead('db', { initialLimit: 1, maxQueue: 1 });
    const other = policies.adaptiveBulkhead('cache', { initialLimit: 1 });
    expect(policies.health()).toEqual({
      status: 'ok',
      policies: [
        {
          kind: 'adaptiveBulkhead',
          name: 'db',
          status: 'ok',
          critical: false,
          active: 0,
          queued: 0,
          limit: 1,
          maxQueue: 1,
        },
        {
          kind: 'adaptiveBulkhead',
          name: 'cache',
          status: 'ok',
          critical: false,
          active: 0,
          queued: 0,
          limit: 1,
          maxQueue: 0,
        },
      ],
    });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    expect(policies.health().status).toBe('ok'); // a slot taken, the queue still has room
    const queued = bulkhead.execute(() => 1);
    expect(policies.health().status).toBe('degraded');
    policies.configure({ critical: ['adaptiveBulkhead.db'] });
    expect(policies.health().status).toBe('down');
    const held = other.execute(() => gate.promise);
    expect(policies.health().policies.map((p) => p.status)).toEqual(['down', 'degraded']);
    gate.resolve();
    await Promise.all([running, queued, held]);
    expect(policies.health().status).toBe('ok');
  });

  it('an adaptive throttle is ok while it rejects nothing, then degraded, or down when critical', async () => {
    const clock = new FakeClock();
    const policies = new PolicyRegistry({ clock });
    const throttle = policies.adaptiveThrottle('api', { k: 2, random: () => 0.999_999 }, { critical: true });
    for (let i = 0; i < 10; i++) await throttle.execute(() => 'ok');
    for (let i = 0; i < 10; i++) await outcome(throttle.execute(boom)); // 20 requests, 10 accepts: 0
    expect(policies.health()).toEqual({
      status: 'ok',
      policies: [
        {
          kind: 'adaptiveThrottle',
          name: 'api',
          status: 'ok',
          critical: true,
          rejectionProbability: 0,
          requests: 20,
          accepts: 10,
        },
      ],
    });
    await outcome(throttle.execute(boom)); // 21 requests, 10 accepts: 1 / 22
    expect(policies.health().status).toBe('down');
    expect(policies.health().policies[0]?.rejectionProbability).toBeCloseTo(1 / 22, 12);
    throttle.update({ k: 3 }); // more lenient: (21 − 30) / 22 < 0
    expect(policies.health().status).toBe('ok');
    const lenient = new PolicyRegistry({ clock });
    const other = lenient.adaptiveThrottle('api', { k: 1, random: () => 0.999_999 });
    await outcome(other.execute(boom));
    expect(lenient.health().status).toBe('degraded');
    await clock.advance(120_000); // the window forgot it
    expect(lenient.health().status).toBe('ok');
  });

  it('hedging and chaos do not count', () => {
    const policies = new PolicyRegistry();
    policies.hedging('h', { delay: 1 });
    policies.chaos('c', { rate: 1, result: 1, enabled: true });
    expect(policies.health()).toEqual({ status: 'ok', policies: [] });
  });

  it('a closed registry reports down (it used to report ok with no policies)', () => {
    const policies = new PolicyRegistry();
    policies.circuitBreaker('payments');
    expect(policies.health().status).toBe('ok');
    policies.close();
    expect(policies.health()).toEqual({ status: 'down', closed: true, policies: [] });
  });
});

describe('PolicyRegistry.configure from inside a configure() (attack18)', () => {
  it('refuses a configure() that a policy it updates runs (a listener, a queued call), and applies the outer one whole', async () => {
    const logger = recordingLogger();
    const policies = new PolicyRegistry({ logger });
    const bulkhead = policies.adaptiveBulkhead('db', { maxLimit: 1, maxQueue: 5 });
    const breaker = policies.circuitBreaker('payments');
    const reload = () => policies.configure({ adaptiveBulkhead: { db: { maxLimit: 9 } } });
    // A listener of the limit the outer configure() moves reloads the config.
    bulkhead.on('limitChange', reload);
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    // A queued call that the raised limit starts inside the outer configure() reloads it too.
    const queued = outcome(bulkhead.execute(reload));
    policies.configure({
      adaptiveBulkhead: { db: { maxLimit: 5, minLimit: 5 } },
      circuitBreaker: { payments: { timeout: 7 } },
    });
    const refused = /PolicyRegistry.configure: called from inside a configure\(\)/;
    expect((await queued).error).toBeInstanceOf(Error);
    expect(String((await queued).error)).toMatch(refused);
    expect(logger.records.some((r) => refused.test(String((r.attrs?.err as Error | undefined)?.message)))).toBe(true);
    // The outer configuration, whole: not a mix of the two.
    expect([bulkhead.minLimit, bulkhead.maxLimit, bulkhead.limit]).toEqual([5, 5, 5]);
    // The next configure() replaces it as usual (minLimit goes back to its default).
    policies.configure({ adaptiveBulkhead: { db: { maxLimit: 9 } } });
    expect([bulkhead.minLimit, bulkhead.maxLimit]).toEqual([1, 9]);
    expect(breaker.state).toBe('closed');
    gate.resolve();
    await running;
  });
});

describe('PolicyRegistry.attach from inside a configure() (attack18)', () => {
  it('a recorder attached by a call that configure() starts reaches every policy, also those updated after it', async () => {
    const policies = new PolicyRegistry();
    const bulkhead = policies.adaptiveBulkhead('db', { maxLimit: 1, maxQueue: 5 });
    // Updated after the bulkhead (configure() goes kind by kind, in the order of its sections).
    const throttle = policies.adaptiveThrottle('search');
    const seen: string[] = [];
    const metrics = {
      recordCircuitBreakerState: () => undefined,
      recordCircuitBreakerCall: (name: string, outcome: string) => void seen.push(`${name} ${outcome}`),
      recordRetryAttempt: () => undefined,
      recordRateLimitHit: () => undefined,
      recordBulkheadUtilization: () => undefined,
      recordTimeout: () => undefined,
    };
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    // Queued: the limit configure() raises starts it in the middle of configure(), before the throttle's update.
    const queued = bulkhead.execute(() => policies.attach({ metrics }));
    policies.configure({
      adaptiveBulkhead: { db: { minLimit: 2, maxLimit: 2 } },
      adaptiveThrottle: { search: { k: 3 } },
    });
    expect(typeof (await queued).dispose).toBe('function');
    seen.length = 0;
    await throttle.execute(() => 'ok');
    expect(seen).toEqual(['search success']);
    gate.resolve();
    await running;
  });
});

describe('PolicyRegistry.configure: critical entries health() would ignore (attack18)', () => {
  it('refuses a critical entry of a kind health() does not count, with its path and value', () => {
    const policies = new PolicyRegistry();
    policies.retry('payments');
    policies.hedging('prices', { delay: 50 });
    policies.circuitBreaker('payments');
    for (const [entry, kind] of [
      ['retry.payments', 'a retry'],
      ['hedging.prices', 'a hedging policy'],
      ['timeout.db', 'a timeout'],
      ['pipeline.checkout', 'a pipeline'],
    ] as const) {
      expect(() => policies.configure({ critical: [entry] }, { allowUnknownNames: true })).toThrow(
        new TypeError(
          `PolicyRegistry.configure: critical[0] must name a circuit breaker, bulkhead, adaptive bulkhead or adaptive throttle (health() counts no other kind), got "${entry}" (${kind})`,
        ),
      );
    }
    policies.configure({ critical: ['circuitBreaker.payments'] });
    expect(policies.health().policies[0]?.critical).toBe(true);
  });
});

describe('PolicyRegistry: a policy created from inside a configure() (attack18)', () => {
  it('takes the settings of that configure(), not those it replaces', () => {
    const policies = new PolicyRegistry();
    const bulkhead = policies.adaptiveBulkhead('db', { maxLimit: 1 });
    let created: AdaptiveThrottle | undefined;
    // A listener that the update of the bulkhead runs creates a policy the same configure() names.
    bulkhead.on('limitChange', () => {
      created = policies.adaptiveThrottle('late');
    });
    policies.configure(
      { adaptiveBulkhead: { db: { minLimit: 3, maxLimit: 3 } }, adaptiveThrottle: { late: { k: 5 } } },
      { allowUnknownNames: true },
    );
    expect(created?.k).toBe(5);
    expect(policies.adaptiveThrottle('late')).toBe(created);
  });
});

describe('PolicyRegistry.configure from inside an attach() (attack18)', () => {
  it('a recorder that reloads the config when told a state leaves every policy with the new config', () => {
    const policies = new PolicyRegistry();
    policies.circuitBreaker('payments');
    const search = policies.adaptiveThrottle('search');
    let reloaded = false;
    const metrics = {
      // Told the breaker's state when attached, before the throttle gets the attachment.
      recordCircuitBreakerState: () => {
        if (reloaded) return;
        reloaded = true;
        policies.configure({ adaptiveThrottle: { search: { k: 5 } } });
      },
      recordRetryAttempt: () => undefined,
      recordRateLimitHit: () => undefined,
      recordBulkheadUtilization: () => undefined,
      recordTimeout: () => undefined,
    };
    policies.attach({ metrics });
    expect(reloaded).toBe(true);
    expect(search.k).toBe(5);
  });
});
