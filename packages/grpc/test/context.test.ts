import { FakeClock } from '@resilience/core/testing';
import { addressKey } from '@resilience/http';
import { describe, expect, it } from 'vitest';
import { CONTEXT_SIGNAL, type ContextCallOptions, MAX_DEADLINE_MS, peerAddress, withContext } from '../src/index.js';

describe('withContext', () => {
  const signal = new AbortController().signal;

  it('carries the signal, and no deadline when the context has none', () => {
    const options = withContext({ signal });
    expect(options[CONTEXT_SIGNAL]).toBe(signal);
    expect(options.deadline).toBeUndefined();
  });

  it("turns the remaining time of ctx.deadline on the pattern's clock into an epoch deadline", () => {
    const clock = new FakeClock({ now: 10_000 });
    const before = Date.now();
    const options = withContext({ signal, deadline: 10_500 }, undefined, clock);
    const deadline = options.deadline as number;
    expect(deadline).toBeGreaterThanOrEqual(before + 500);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 500);
  });

  it('keeps an earlier deadline of the call options, and the other options, without changing them', () => {
    const clock = new FakeClock();
    const early = new Date(Date.now() + 100);
    const given = { deadline: early, host: 'example' };
    const options = withContext({ signal, deadline: 60_000 }, given, clock) as ContextCallOptions;
    expect(options.deadline).toBe(early.getTime());
    expect(options.host).toBe('example');
    expect(given).toEqual({ deadline: early, host: 'example' });
    const later = withContext({ signal, deadline: 50 }, { deadline: Date.now() + 60_000 }, clock);
    expect(later.deadline as number).toBeLessThanOrEqual(Date.now() + 50);
  });

  it('treats a deadline beyond the longest grpc-timeout as none', () => {
    const clock = new FakeClock();
    expect(withContext({ signal, deadline: MAX_DEADLINE_MS * 2 }, undefined, clock).deadline).toBeUndefined();
    expect(withContext({ signal, deadline: MAX_DEADLINE_MS }, undefined, clock).deadline).toBeTypeOf('number');
  });
});

describe('peerAddress', () => {
  it('reads the connection info, else the peer string without its port', () => {
    const withInfo = { getConnectionInfo: () => ({ remoteAddress: '10.1.2.3' }), getPeer: () => 'x' };
    expect(peerAddress(withInfo as never)).toBe('10.1.2.3');
    expect(peerAddress({ getPeer: () => '127.0.0.1:5000' } as never)).toBe('127.0.0.1');
    expect(peerAddress({ getPeer: () => '::1:5000' } as never)).toBe('::1');
    expect(peerAddress({ getPeer: () => 'unknown' } as never)).toBe('unknown');
  });
});

describe('addressKey (the default server rate-limit key, from @resilience/http)', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:0:ab12::1', '2001:db8:0:ab00:0:0:0:0/56'],
    ['2001:db8:0:abff:ffff:ffff:ffff:ffff', '2001:db8:0:ab00:0:0:0:0/56'],
    ['2001:DB8::', '2001:db8:0:0:0:0:0:0/56'],
    ['fe80::1%eth0', 'fe80:0:0:0:0:0:0:0/56'],
    ['::1', '0:0:0:0:0:0:0:0/56'],
    ['unknown', 'unknown'],
  ])('%s -> %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });
});
