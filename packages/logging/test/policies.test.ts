import { type Logger, PolicyRegistry } from '@resilience/core';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { fromPino } from '../src/index.js';
import { MemoryStream } from './memory-stream.js';

function root(stream: MemoryStream) {
  return pino({ level: 'debug', base: null, timestamp: false }, stream);
}

const opened = (r: Record<string, unknown>): boolean =>
  r.msg === 'circuit breaker state changed' && r['resilience.circuit_breaker.state'] === 'open';

describe('fromPino(logger, { policies })', () => {
  it('logs every policy of the registry, created before and after, each under its child bindings', async () => {
    const stream = new MemoryStream();
    const policies = new PolicyRegistry();
    const before = policies.circuitBreaker('payments', { readyToTrip: () => true });
    using _logger = fromPino(root(stream), { policies });
    const after = policies.circuitBreaker('search', { readyToTrip: () => true });
    await expect(before.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await expect(after.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    const records = stream.records.filter(opened);
    expect(
      records.map((r) => [r['resilience.pattern'], r['resilience.name'], r['resilience.circuit_breaker.state']]),
    ).toEqual([
      ['circuit_breaker', 'payments', 'open'],
      ['circuit_breaker', 'search', 'open'],
    ]);
  });

  it('writes a record once when a policy has its own fromPino() of the same pino logger as the attached one', async () => {
    const stream = new MemoryStream();
    const log = root(stream);
    const policies = new PolicyRegistry();
    using _all = fromPino(log, { policies });
    using _again = fromPino(log, { policies });
    const breaker = policies.circuitBreaker('payments', { logger: fromPino(log), readyToTrip: () => true });
    await expect(breaker.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(stream.records.filter(opened)).toHaveLength(1);
    // Another pino logger is another place: both write.
    const other = new MemoryStream();
    using _other = fromPino(root(other), { policies });
    breaker.reset();
    await expect(breaker.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect([stream.records.filter(opened).length, other.records.filter(opened).length]).toEqual([2, 1]);
  });

  it('keeps a policy’s own logger, writes once when the policy has this very logger, and stops at dispose()', async () => {
    const stream = new MemoryStream();
    const policies = new PolicyRegistry();
    const lines: string[] = [];
    const own: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (msg) => void lines.push(msg),
      error: () => undefined,
    };
    const logger = fromPino(root(stream), { policies });
    const mine = policies.circuitBreaker('mine', { logger: own, readyToTrip: () => true });
    const same = policies.circuitBreaker('same', { logger, readyToTrip: () => true });
    await expect(mine.execute(() => Promise.reject(new Error('x')))).rejects.toThrow();
    await expect(same.execute(() => Promise.reject(new Error('x')))).rejects.toThrow();
    expect(stream.records.filter(opened).map((r) => r['resilience.name'])).toEqual(['mine', 'same']);
    expect(lines).toEqual(['circuit breaker state changed']);
    logger.dispose();
    logger.dispose();
    mine.reset();
    same.reset();
    await expect(mine.execute(() => Promise.reject(new Error('x')))).rejects.toThrow();
    await expect(same.execute(() => Promise.reject(new Error('x')))).rejects.toThrow();
    // mine logs only to its own logger now; same keeps the logger its config gave it.
    expect(stream.records.filter(opened).map((r) => r['resilience.name'])).toEqual(['mine', 'same', 'same']);
    expect(lines).toHaveLength(2);
  });

  it('without policies, dispose() does nothing; bad options are refused, naming them', () => {
    const stream = new MemoryStream();
    const logger = fromPino(root(stream));
    expect(() => logger.dispose()).not.toThrow();
    expect(() => fromPino(root(stream), { policy: {} } as never)).toThrow(
      'fromPino: unknown option "policy" (known: policies)',
    );
    expect(() => fromPino(root(stream), { policies: 'p' as never })).toThrow(
      'fromPino: policies must be a PolicyRegistry of @resilience/core (with attach()), got string',
    );
    expect(() => fromPino(root(stream), null as never)).toThrow('fromPino: options must be an object, got null');
    const closed = new PolicyRegistry();
    closed.close();
    expect(() => fromPino(root(stream), { policies: closed })).toThrow('PolicyRegistry: the registry is closed');
  });
});
