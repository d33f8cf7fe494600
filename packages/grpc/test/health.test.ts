import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterEach, describe, expect, it } from 'vitest';
import { type HealthStatus, healthService, ServingStatus, servingStatus } from '../src/index.js';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../src/internal/health-codec.js';
import { until } from './helpers.js';

// The client side uses the published health.proto through proto-loader, so the
// hand-written codec of the service is checked against a real protobuf implementation.
const definition = protoLoader.loadSync(fileURLToPath(new URL('./fixtures/health.proto', import.meta.url)), {
  enums: String,
  defaults: true,
});
const HealthClient = (
  grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  }
).grpc.health.v1.Health;

type Client = grpc.Client & {
  Check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
  Watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

/** A registry stand-in: the real `PolicyRegistry` has the same `health()`. */
class Registry {
  status: HealthStatus = 'ok';
  policies: Array<{ kind: string; name: string; status: HealthStatus; critical: boolean }> = [];
  reads = 0;
  throws = false;
  health(): { status: HealthStatus; policies: unknown[] } {
    this.reads++;
    if (this.throws) throw new Error('registry broken');
    return { status: this.status, policies: this.policies };
  }
}

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

async function start(registry: Registry, options?: Parameters<typeof healthService>[1]) {
  const health = healthService(registry, options);
  const server = new grpc.Server();
  server.addService(health.service, health.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Client;
  cleanup.push(() => {
    client.close();
    server.forceShutdown();
  });
  return { health, client, server };
}

/** Opens a Watch stream for `service` and collects the statuses it sends. */
function watch(
  client: Client,
  service = '',
): { stream: grpc.ClientReadableStream<{ status: string }>; seen: string[] } {
  const seen: string[] = [];
  const stream = client.Watch({ service });
  stream.on('data', (res: { status: string }) => seen.push(res.status));
  stream.on('error', () => {});
  return { stream, seen };
}

function check(client: Client, service = ''): Promise<{ status?: string; code?: number; details?: string }> {
  return new Promise((resolve) =>
    client.Check({ service }, (err, res) =>
      resolve(err ? { code: err.code, details: err.details } : { status: res?.status as string }),
    ),
  );
}

describe('healthService Check', () => {
  it.each([
    ['ok', 'SERVING'],
    ['degraded', 'SERVING'],
    ['down', 'NOT_SERVING'],
  ] as const)('answers %s as %s', async (status, expected) => {
    const registry = new Registry();
    registry.status = status;
    const { client } = await start(registry);
    expect(await check(client)).toEqual({ status: expected });
  });

  it('answers NOT_FOUND for an unknown service, and serves the listed ones', async () => {
    const { client } = await start(new Registry(), { services: ['shop.Checkout'] });
    expect(await check(client, 'shop.Checkout')).toEqual({ status: 'SERVING' });
    expect(await check(client, 'shop.Other')).toEqual({
      code: grpc.status.NOT_FOUND,
      details: 'Unknown service "shop.Other"',
    });
  });

  it("answers for a policy's name with that policy's own status", async () => {
    const registry = new Registry();
    registry.status = 'down';
    registry.policies = [
      { kind: 'circuitBreaker', name: 'payments', status: 'down', critical: true },
      { kind: 'bulkhead', name: 'search', status: 'degraded', critical: false },
    ];
    const { client } = await start(registry);
    expect(await check(client, 'payments')).toEqual({ status: 'NOT_SERVING' });
    expect(await check(client, 'search')).toEqual({ status: 'SERVING' });
    expect(await check(client, '')).toEqual({ status: 'NOT_SERVING' });
    expect((await check(client, 'inventory')).code).toBe(grpc.status.NOT_FOUND);
  });

  it('answers NOT_SERVING when health() throws, and logs it', async () => {
    const registry = new Registry();
    registry.throws = true;
    const logged: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (msg: string) => logged.push(msg) };
    const { client } = await start(registry, { logger });
    expect(await check(client)).toEqual({ status: 'NOT_SERVING' });
    expect(logged).toEqual(['health() threw; answering NOT_SERVING']);
  });
});

describe('healthService Watch', () => {
  it('sends the status at once, then each change, and stops polling when the stream ends', async () => {
    const registry = new Registry();
    const { client, health } = await start(registry, { interval: 10 });
    const { stream, seen } = watch(client);
    await until(() => seen.length === 1);
    expect(seen).toEqual(['SERVING']);
    registry.status = 'degraded'; // still serving: nothing sent
    await until(() => registry.reads >= 4);
    registry.status = 'down';
    await until(() => seen.length === 2);
    registry.status = 'ok';
    await until(() => seen.length === 3);
    expect(seen).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
    expect(health.watchers).toBe(1);
    stream.cancel();
    await until(() => health.watchers === 0);
    const reads = registry.reads;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(registry.reads).toBeLessThanOrEqual(reads + 1); // at most one read already under way
  });

  it('shares one poll among many watchers', async () => {
    const registry = new Registry();
    const { client, health } = await start(registry, { interval: 20 });
    const streams = Array.from({ length: 20 }, () => client.Watch({ service: '' }));
    const firsts = streams.map(
      (s) =>
        new Promise<string>((resolve) => {
          s.once('data', (res: { status: string }) => resolve(res.status));
          s.on('error', () => {});
        }),
    );
    expect(await Promise.all(firsts)).toEqual(Array(20).fill('SERVING'));
    await until(() => health.watchers === 20);
    const before = registry.reads;
    await new Promise((resolve) => setTimeout(resolve, 100));
    // One read per tick for all 20 streams: about 5 ticks, far from 100.
    expect(registry.reads - before).toBeLessThan(20);
    for (const s of streams) s.cancel();
    await until(() => health.watchers === 0);
  });

  it('stops polling when the server shuts down under open streams', async () => {
    const registry = new Registry();
    const { client, health, server } = await start(registry, { interval: 10 });
    watch(client);
    await until(() => health.watchers === 1);
    server.forceShutdown();
    await until(() => health.watchers === 0);
    const reads = registry.reads;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(registry.reads).toBeLessThanOrEqual(reads + 1);
  });

  it('answers NOT_SERVING when health() returns a rejected promise', async () => {
    const { client } = await start({ health: () => Promise.reject(new Error('registry unreachable')) } as never);
    expect(await check(client)).toEqual({ status: 'NOT_SERVING' });
  });

  it('sends SERVICE_UNKNOWN for an unknown service, keeps the stream open, and follows the policy once it appears', async () => {
    const registry = new Registry();
    const { client, health } = await start(registry, { interval: 10 });
    const { stream, seen } = watch(client, 'payments');
    await until(() => seen.length === 1);
    expect(seen).toEqual(['SERVICE_UNKNOWN']);
    registry.policies = [{ kind: 'circuitBreaker', name: 'payments', status: 'down', critical: true }];
    await until(() => seen.length === 2);
    expect(seen).toEqual(['SERVICE_UNKNOWN', 'NOT_SERVING']);
    stream.cancel();
    await until(() => health.watchers === 0);
  });
});

describe('healthService configuration and codec', () => {
  it('rejects bad arguments at construction, naming them', () => {
    expect(() => healthService({} as never)).toThrow(/healthService: policies must have a health\(\) method/);
    expect(() => healthService(new Registry(), { interval: 0 })).toThrow(/healthService: interval must be/);
    expect(() => healthService(new Registry(), { interval: Number.NaN })).toThrow(/got NaN/);
    expect(() => healthService(new Registry(), { services: 'x' as never })).toThrow(/services must be an array/);
    expect(() => healthService(new Registry(), { pollInterval: 5 } as never)).toThrow(/unknown option "pollInterval"/);
  });

  it('maps registry statuses: ok and degraded serve, anything else does not', () => {
    expect(servingStatus('ok')).toBe(ServingStatus.SERVING);
    expect(servingStatus('degraded')).toBe(ServingStatus.SERVING);
    expect(servingStatus('down')).toBe(ServingStatus.NOT_SERVING);
    expect(servingStatus(undefined)).toBe(ServingStatus.NOT_SERVING);
  });

  it('round-trips the messages and skips unknown fields', () => {
    expect(decodeRequest(encodeRequest({ service: 'a.B' }))).toEqual({ service: 'a.B' });
    expect(decodeRequest(encodeRequest({ service: 'é'.repeat(200) }))).toEqual({ service: 'é'.repeat(200) });
    expect(decodeRequest(Buffer.alloc(0))).toEqual({ service: '' });
    // field 2 varint 150, field 3 fixed64, field 4 fixed32, then service "x"
    const withUnknown = Buffer.from([0x10, 0x96, 0x01, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x25, 1, 2, 3, 4, 0x0a, 1, 0x78]);
    expect(decodeRequest(withUnknown)).toEqual({ service: 'x' });
    for (const status of [0, 1, 2, 3] as const) expect(decodeResponse(encodeResponse({ status }))).toEqual({ status });
    expect(() => decodeRequest(Buffer.from([0x0a, 5, 0x78]))).toThrow(RangeError);
  });
});

describe('healthService against a health() that misbehaves', () => {
  it('answers NOT_SERVING for a report whose fields throw when read, instead of an unhandled rejection and no answer', async () => {
    const registry = {
      health: () => ({
        get status(): HealthStatus {
          throw new Error('status getter broke');
        },
      }),
    };
    const { client } = await start(registry as unknown as Registry);
    expect(await check(client)).toEqual({ status: 'NOT_SERVING' });
    const { stream, seen } = watch(client);
    await until(() => seen.length === 1);
    expect(seen).toEqual(['NOT_SERVING']);
    stream.cancel();
  });

  it('keeps Watch streams polling when one health() never answers: NOT_SERVING meanwhile, then the real status', async () => {
    const registry = new Registry();
    let hang = true;
    const real = registry.health.bind(registry);
    registry.health = () => (hang ? (new Promise(() => {}) as never) : real());
    const { client, health } = await start(registry, { interval: 10 });
    const { stream, seen } = watch(client);
    await until(() => seen.length === 1);
    expect(seen).toEqual(['NOT_SERVING']);
    hang = false;
    await until(() => seen.length === 2);
    expect(seen).toEqual(['NOT_SERVING', 'SERVING']);
    stream.cancel();
    await until(() => health.watchers === 0);
  });
});

describe('healthService over a real PolicyRegistry', () => {
  it('answers NOT_SERVING while a critical breaker is open, SERVING again once it closes; a policy name probes that policy', async () => {
    const { PolicyRegistry } = await import('@resilience/core');
    const { FakeClock } = await import('@resilience/core/testing');
    const clock = new FakeClock();
    const policies = new PolicyRegistry({ clock });
    const breaker = policies.circuitBreaker(
      'payments',
      { readyToTrip: (c) => c.consecutiveFailures >= 1 },
      { critical: true },
    );
    policies.bulkhead('db', { maxConcurrent: 1 });
    const { client } = await start(policies as unknown as Registry);
    const check = (service: string) =>
      new Promise<string | undefined>((resolve, reject) =>
        client.Check({ service }, (err, res) => (err ? reject(err) : resolve(res?.status))),
      );

    expect(await check('')).toBe('SERVING');
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    expect(breaker.state).toBe('open');
    expect(await check('')).toBe('NOT_SERVING');
    expect(await check('payments')).toBe('NOT_SERVING');
    expect(await check('db')).toBe('SERVING');
    breaker.reset();
    expect(await check('')).toBe('SERVING');
  });
});
