import { CircuitBreaker, Retry } from '@resilience/core';
import { pino } from 'pino';
import { pino as pino9 } from 'pino9';
import { describe, expect, it } from 'vitest';
import { fromPino, type PinoLike } from '../src/index.js';
import { MemoryStream } from './memory-stream.js';

/** `pino(options, stream)` of one major version. */
type PinoFactory = (options: { level: string; base: object; timestamp: false }, stream: MemoryStream) => PinoLike;

describe.each([
  ['pino 10', pino as unknown as PinoFactory],
  ['pino 9', pino9 as unknown as PinoFactory],
])('fromPino with real %s writing to an in-memory stream', (_version, create) => {
  function setup(level = 'debug') {
    const stream = new MemoryStream();
    const root = create({ level, base: { service: 'checkout' }, timestamp: false }, stream);
    return { stream, root, logger: fromPino(root) };
  }

  it('logs object first and message second, with a child per pattern carrying its kind and name', async () => {
    const { stream, logger } = setup();
    const breaker = new CircuitBreaker({ name: 'payments', logger, readyToTrip: () => true });
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    const [record] = stream.records;
    expect(record).toEqual({
      level: 40,
      service: 'checkout',
      'resilience.pattern': 'circuit_breaker',
      'resilience.name': 'payments',
      'resilience.circuit_breaker.from': 'closed',
      'resilience.circuit_breaker.state': 'open',
      msg: 'circuit breaker state changed',
    });
    // The bindings are written once, by the child, not repeated from the attributes.
    expect(stream.lines[0]?.match(/"resilience\.name"/g)).toHaveLength(1);
  });

  it('puts errors under err, where pino serialises type, message and stack', async () => {
    const { stream, logger } = setup();
    const breaker = new CircuitBreaker({
      name: 'payments',
      logger,
      isIgnored: () => {
        throw new TypeError('classifier broke');
      },
    });
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    const record = stream.records.find((r) => r.msg === 'isIgnored threw');
    expect(record?.level).toBe(50);
    expect(record?.err).toMatchObject({ type: 'TypeError', message: 'classifier broke' });
    expect(String((record?.err as { stack?: unknown } | undefined)?.stack)).toContain('classifier broke');

    logger.warn('upstream failed', { error: new RangeError('bad range'), status: 502 });
    const moved = stream.records.at(-1);
    expect(moved).toMatchObject({ err: { type: 'RangeError', message: 'bad range' }, status: 502 });
    expect(moved).not.toHaveProperty('error');
  });

  it('logs records that carry no pattern through the root logger, and a message alone', () => {
    const { stream, logger } = setup();
    logger.info('listening', { port: 8080 });
    logger.debug('bare');
    expect(stream.records).toEqual([
      { level: 30, service: 'checkout', port: 8080, msg: 'listening' },
      { level: 20, service: 'checkout', msg: 'bare' },
    ]);
  });

  it('formats nothing when the level is off, and follows level changes of the root, children included', async () => {
    const { stream, root, logger } = setup('warn');
    const untouchable = new Proxy(
      {},
      {
        get() {
          throw new Error('attributes were read');
        },
        ownKeys() {
          throw new Error('attributes were enumerated');
        },
      },
    );
    expect(() => logger.debug('retrying', untouchable)).not.toThrow();
    expect(() => logger.info('closed', untouchable)).not.toThrow();

    const retry = new Retry({ name: 'inventory', maxAttempts: 2, initialDelay: 1, logger });
    await retry.execute(() => Promise.reject(new Error('x'))).catch(() => {});
    expect(stream.records).toEqual([]); // 'retrying' is debug

    root.level = 'debug';
    await retry.execute(() => Promise.reject(new Error('x'))).catch(() => {});
    expect(stream.records.map((r) => [r.msg, r['resilience.name'], r.attempt])).toEqual([['retrying', 'inventory', 1]]);

    // A child made while the root was at warn still follows the root down to debug.
    const attrs = { 'resilience.pattern': 'bulkhead', 'resilience.name': 'db' };
    root.level = 'warn';
    logger.warn('made at warn', attrs);
    root.level = 'debug';
    logger.debug('written at debug', attrs);
    expect(stream.records.slice(1).map((r) => [r.msg, r['resilience.name']])).toEqual([
      ['made at warn', 'db'],
      ['written at debug', 'db'],
    ]);

    root.level = 'error';
    await retry.execute(() => Promise.reject(new Error('x'))).catch(() => {});
    expect(stream.records).toHaveLength(3);
  });

  it('survives thousands of pattern instances: children are capped, records still written', () => {
    const { stream, logger } = setup();
    for (let i = 0; i < 2500; i++) {
      logger.info('state', { 'resilience.pattern': 'circuit_breaker', 'resilience.name': `b${i}`, n: i });
    }
    expect(stream.records).toHaveLength(2500);
    expect(stream.records.at(-1)).toMatchObject({ 'resilience.name': 'b2499', n: 2499 });
  });

  it('drops an own __proto__ attribute: it never becomes a prototype, and pino 9 would throw on it', () => {
    const { stream, logger } = setup();
    const bound = JSON.parse(
      '{"__proto__": {"polluted": true}, "resilience.pattern": "retry", "resilience.name": "r", "n": 1}',
    );
    const plain = JSON.parse('{"__proto__": {"polluted": true}, "n": 2}');
    logger.info('bound', bound);
    logger.info('plain', plain);
    expect(stream.records.map((r) => [r.msg, r.n, r.polluted])).toEqual([
      ['bound', 1, undefined],
      ['plain', 2, undefined],
    ]);
    expect(stream.lines.join('\n')).not.toContain('__proto__');
  });

  it('rejects what is not a pino logger, naming the argument', () => {
    expect(() => fromPino(console as never)).toThrow(
      'fromPino: logger must be a pino logger, got object without child()',
    );
    expect(() => fromPino(null as never)).toThrow('fromPino: logger must be a pino logger, got null');
    expect(() => fromPino('pino' as never)).toThrow('fromPino: logger must be a pino logger, got string');
  });
});
