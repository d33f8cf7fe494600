import { describe, expect, it } from 'vitest';
import type { Logger } from '../observability/types.js';
import { EventHub } from './events.js';
import { Telemetry } from './telemetry.js';

interface Events {
  readonly ping: { readonly n: number };
  readonly pong: { readonly n: number };
}
const names: readonly (keyof Events)[] = ['ping', 'pong'];

function recordingLogger(): Logger & { errors: { msg: string; attrs: Record<string, unknown> | undefined }[] } {
  const errors: { msg: string; attrs: Record<string, unknown> | undefined }[] = [];
  const noop = (): void => {};
  return { debug: noop, info: noop, warn: noop, error: (msg, attrs) => errors.push({ msg, attrs }), errors };
}

function hub(logger?: Logger): EventHub<Events> {
  return new EventHub<Events>('Thing', new Telemetry('retry', logger === undefined ? {} : { logger }));
}

describe('EventHub', () => {
  it('calls every listener in order, and stops calling a disposed one (twice is harmless)', () => {
    const events = hub();
    const seen: string[] = [];
    const a = events.on(names, 'ping', ({ n }) => seen.push(`a${n}`));
    events.on(names, 'ping', ({ n }) => seen.push(`b${n}`));
    events.on(names, 'pong', ({ n }) => seen.push(`pong${n}`));
    events.emit('ping', { n: 1 });
    a.dispose();
    a.dispose();
    events.emit('ping', { n: 2 });
    events.emit('pong', { n: 3 });
    expect(seen).toEqual(['a1', 'b1', 'b2', 'pong3']);
    expect(events.has('ping')).toBe(true);
  });

  it('works with `using` through Symbol.dispose, and forgets an event with no listener left', () => {
    const events = hub();
    const seen: number[] = [];
    {
      using _sub = events.on(names, 'ping', ({ n }) => seen.push(n));
      events.emit('ping', { n: 1 });
    }
    events.emit('ping', { n: 2 });
    expect(seen).toEqual([1]);
    expect(events.has('ping')).toBe(false);
  });

  it('lets the same function listen twice, each subscription removing its own', () => {
    const events = hub();
    const seen: number[] = [];
    const listener = ({ n }: { n: number }): void => {
      seen.push(n);
    };
    const first = events.on(names, 'ping', listener);
    events.on(names, 'ping', listener);
    events.emit('ping', { n: 1 });
    first.dispose();
    events.emit('ping', { n: 2 });
    expect(seen).toEqual([1, 1, 2]);
  });

  it('a listener added during an emit is first called by the next; one disposed is not called after', () => {
    const events = hub();
    const seen: string[] = [];
    let added = false;
    let second: { dispose(): void } | undefined;
    const first = events.on(names, 'ping', () => {
      seen.push('first');
      first.dispose();
      second?.dispose();
      if (!added) events.on(names, 'ping', () => seen.push('late'));
      added = true;
    });
    second = events.on(names, 'ping', () => seen.push('second'));
    events.on(names, 'ping', () => seen.push('third'));
    events.emit('ping', { n: 1 });
    events.emit('ping', { n: 2 });
    expect(seen).toEqual(['first', 'third', 'third', 'late']);
  });

  it('adds and removes 100,000 listeners in linear time', () => {
    const events = hub();
    let calls = 0;
    const subs = Array.from({ length: 100_000 }, () => events.on(names, 'ping', () => calls++));
    events.emit('ping', { n: 1 });
    for (const sub of subs) sub.dispose();
    events.emit('ping', { n: 2 });
    expect(calls).toBe(100_000);
    expect(events.has('ping')).toBe(false);
  });

  it('logs a listener that throws or rejects and still calls the others', async () => {
    const logger = recordingLogger();
    const events = hub(logger);
    const seen: number[] = [];
    const thrown = new Error('listener broke');
    events.on(names, 'ping', () => {
      throw thrown;
    });
    events.on(names, 'ping', () => Promise.reject(new Error('async listener broke')));
    events.on(names, 'ping', ({ n }) => seen.push(n));
    expect(() => events.emit('ping', { n: 1 })).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([1]);
    expect(logger.errors.map((e) => e.msg)).toEqual(['listener for "ping" threw', 'listener for "ping" threw']);
    expect(logger.errors[0]?.attrs?.err).toBe(thrown);
    expect(String(logger.errors[1]?.attrs?.err)).toBe('Error: async listener broke');
  });

  it('survives thousands of throwing listeners without a logger', () => {
    const events = hub();
    for (let i = 0; i < 5_000; i++) {
      events.on(names, 'ping', () => {
        throw new Error(String(i));
      });
    }
    expect(() => events.emit('ping', { n: 1 })).not.toThrow();
  });

  it('refuses an unknown event and a listener that is not a function, naming them', () => {
    const events = hub();
    expect(() => events.on(names, 'pnig' as 'ping', () => {})).toThrow(
      new TypeError('Thing: event must be one of "ping", "pong", got "pnig"'),
    );
    expect(() => events.on(names, 'ping', 'nope' as never)).toThrow(
      new TypeError('Thing: listener for "ping" must be a function, got "nope"'),
    );
    expect(events.has('ping')).toBe(false);
  });
});
