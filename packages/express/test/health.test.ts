import { PolicyRegistry } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { healthHandler } from '../src/index.js';
import { expressVersions, type Served, serve } from './helpers.js';

const boom = new Error('boom');
const fail = (): never => {
  throw boom;
};

describe.each(expressVersions)('healthHandler (%s)', (_label, express) => {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  async function start(policies: { health(): unknown }, options?: Parameters<typeof healthHandler>[1]) {
    const app = express();
    app.get('/health', healthHandler(policies as PolicyRegistry, options));
    served = await serve(app);
    return served;
  }

  it('writes an unbounded queue as "Infinity" (as configure() reads it), not the null JSON.stringify makes of it', async () => {
    const policies = new PolicyRegistry();
    policies.bulkhead('db', { maxConcurrent: 2, maxQueue: Number.POSITIVE_INFINITY });
    policies.adaptiveBulkhead('search', { maxQueue: Number.POSITIVE_INFINITY });
    const { url } = await start(policies);
    const body = (await (await fetch(`${url}/health`)).json()) as { policies: { maxQueue: unknown }[] };
    expect(body.policies.map((p) => p.maxQueue)).toEqual(['Infinity', 'Infinity']);
  });

  it('answers 200 with the report, 503 while a critical breaker is open, and 200 again once it closes', async () => {
    const clock = new FakeClock();
    const policies = new PolicyRegistry({ clock });
    const payments = policies.circuitBreaker(
      'payments',
      { readyToTrip: () => true, timeout: 1_000 },
      { critical: true },
    );
    const { url } = await start(policies);

    let res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      status: 'ok',
      policies: [{ kind: 'circuitBreaker', name: 'payments', status: 'ok', critical: true, state: 'closed' }],
    });

    await expect(payments.execute(fail)).rejects.toBe(boom);
    res = await fetch(`${url}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'down', policies: [{ state: 'open' }] });
    expect((await fetch(`${url}/health`, { method: 'HEAD' })).status).toBe(503);

    await clock.advance(1_001);
    res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'degraded', policies: [{ state: 'half-open' }] });
    await payments.execute(() => 'ok');
    res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  it("with okUpTo: 'ok' a degraded registry answers the configured status", async () => {
    const policies = new PolicyRegistry();
    const search = policies.circuitBreaker('search', { readyToTrip: () => true });
    const { url } = await start(policies, { okUpTo: 'ok', statusCode: 500 });
    expect((await fetch(`${url}/health`)).status).toBe(200);
    await expect(search.execute(fail)).rejects.toBe(boom);
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ status: 'degraded' });
  });

  it('answers 503 { status: "down" } when health() throws or returns nonsense', async () => {
    let answer: () => unknown = () => {
      throw new Error('broken');
    };
    const { url } = await start({ health: () => answer() });
    let res = await fetch(`${url}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'down' });
    answer = () => ({ status: 'fine' });
    res = await fetch(`${url}/health`);
    expect(res.status).toBe(503);
    answer = () => ({ status: 'toString' });
    expect((await fetch(`${url}/health`)).status).toBe(503);
    answer = () => null;
    expect((await fetch(`${url}/health`)).status).toBe(503);
  });

  it('answers 503 { status: "down" } in JSON, not an HTML error page, when the report cannot be serialized', async () => {
    const cyclic: Record<string, unknown> = { status: 'ok', policies: [] };
    cyclic.self = cyclic;
    let answer: unknown = { status: 'ok', policies: [], count: 10n };
    const { url } = await start({ health: () => answer });
    let res = await fetch(`${url}/health`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ status: 'down' });
    answer = cyclic;
    res = await fetch(`${url}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'down' });
    const head = await fetch(`${url}/health`, { method: 'HEAD' });
    expect([head.status, head.headers.get('cache-control'), await head.text()]).toEqual([503, 'no-store', '']);
  });

  it("follows the app's json spaces, json replacer and json escape settings, as res.json() does (regression)", async () => {
    const policies = new PolicyRegistry();
    policies.circuitBreaker('<payments>');
    const app = express();
    app.set('json spaces', 2);
    app.set('json replacer', (key: string, value: unknown) => (key === 'critical' ? undefined : value));
    app.set('json escape', true);
    app.get('/health', healthHandler(policies));
    app.get('/json', (_req, res) => {
      res.json(policies.health());
    });
    served = await serve(app);
    const res = await fetch(`${served.url}/health`);
    const text = await res.text();
    expect(text).toBe(await (await fetch(`${served.url}/json`)).text());
    expect(text).toContain('\n  "status": "ok"');
    expect(text).toContain('"name": "\\u003cpayments\\u003e"');
    expect(text).not.toContain('critical');
    expect(JSON.parse(text).policies[0].name).toBe('<payments>');
  });

  it("a json replacer that throws answers 503 { status: 'down' }, still in the app's format", async () => {
    const app = express();
    app.set('json spaces', 1);
    app.set('json replacer', (key: string, value: unknown) => {
      if (key === 'policies') throw new Error('replacer broke');
      return value;
    });
    app.get('/health', healthHandler(new PolicyRegistry()));
    served = await serve(app);
    const res = await fetch(`${served.url}/health`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('{\n "status": "down"\n}');
  });

  it('answers a HEAD with the Content-Type and Content-Length of the GET, without a body (regression)', async () => {
    const policies = new PolicyRegistry();
    policies.bulkhead('db', { maxConcurrent: 2 });
    const { url } = await start(policies);
    const get = await fetch(`${url}/health`);
    const body = await get.text();
    const head = await fetch(`${url}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(head.headers.get('content-type')).toMatch(/^application\/json/);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(head.headers.get('cache-control')).toBe('no-store');
    expect(await head.text()).toBe('');
  });

  it('answers 503 once the registry is closed (it used to answer 200 ok)', async () => {
    const policies = new PolicyRegistry();
    policies.circuitBreaker('payments');
    const { url } = await start(policies);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    policies.close();
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'down', closed: true, policies: [] });
  });

  it('reports adaptive bulkheads and throttles by their rules', async () => {
    const policies = new PolicyRegistry();
    const throttle = policies.adaptiveThrottle('api', { k: 1, random: () => 0.999_999 }, { critical: true });
    const { url } = await start(policies);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    await expect(throttle.execute(fail)).rejects.toBe(boom);
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: 'down',
      policies: [{ kind: 'adaptiveThrottle', name: 'api', rejectionProbability: 0.5 }],
    });
  });
});

describe('healthHandler: options', () => {
  it('refuses what is not a registry and bad options, naming them', () => {
    expect(() => healthHandler({} as PolicyRegistry)).toThrow(
      'healthHandler: policies must have a health() method, got an object',
    );
    const policies = new PolicyRegistry();
    expect(() => healthHandler(policies, { okUpTo: 'down' as never })).toThrow(
      'healthHandler: okUpTo must be one of "ok", "degraded", got "down"',
    );
    expect(() => healthHandler(policies, { statusCode: 200 })).toThrow(
      /healthHandler: statusCode must be an integer >= 400/,
    );
    expect(() => healthHandler(policies, 5 as never)).toThrow(/healthHandler: options must be an object, got 5/);
  });
});
