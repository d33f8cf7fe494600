import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { ipKey, ipv6Network } from '../src/index.js';
import { RateLimitHeaders, sfString } from '../src/rate-limit-headers.js';

describe('ipv6Network', () => {
  it('zeroes the host bits and names the prefix length', () => {
    expect(ipv6Network('2001:db8:aa:bbcc::1', 56)).toBe('2001:db8:aa:bb00:0:0:0:0/56');
    expect(ipv6Network('2001:db8:aa:bbcc::1', 64)).toBe('2001:db8:aa:bbcc:0:0:0:0/64');
    expect(ipv6Network('2001:db8:aa:bbcc::1', 128)).toBe('2001:db8:aa:bbcc:0:0:0:1/128');
    expect(ipv6Network('2001:db8:aa:bbcc::1', 60)).toBe('2001:db8:aa:bbc0:0:0:0:0/60');
    expect(ipv6Network('2001:db8:ffff::', 0)).toBe('0:0:0:0:0:0:0:0/0');
  });

  it('gives every address of one network the same key', () => {
    expect(ipv6Network('2001:DB8:0:AB12::', 56)).toBe(ipv6Network('2001:db8:0:abff:1:2:3:4', 56));
    expect(ipv6Network('::', 56)).toBe(ipv6Network('0:0:0:0:0:0:0:0', 56));
    expect(ipv6Network('1::', 128)).toBe('1:0:0:0:0:0:0:0/128');
  });

  it('reads embedded IPv4, drops a zone and turns IPv4-mapped addresses into IPv4', () => {
    expect(ipv6Network('2001:db8::192.0.2.1', 128)).toBe('2001:db8:0:0:0:0:c000:201/128');
    expect(ipv6Network('::ffff:192.0.2.1', 56)).toBe('192.0.2.1');
    expect(ipv6Network('::ffff:c000:201', 56)).toBe('192.0.2.1');
    expect(ipv6Network('fe80::1%eth0', 64)).toBe('fe80:0:0:0:0:0:0:0/64');
  });
});

describe('ipKey', () => {
  const req = (ip: string | undefined, remote?: string) =>
    ({ ip, socket: { remoteAddress: remote } }) as unknown as Request;

  it('keys IPv4 as is and IPv6 by subnet, falling back to the socket address', () => {
    expect(ipKey(req('198.51.100.7'))).toBe('198.51.100.7');
    expect(ipKey(req('2001:db8:1:2:3:4:5:6'))).toBe('2001:db8:1:0:0:0:0:0/56');
    expect(ipKey(req('2001:db8:1:2:3:4:5:6'), 64)).toBe('2001:db8:1:2:0:0:0:0/64');
    expect(ipKey(req('2001:db8:1:2:3:4:5:6'), false)).toBe('2001:db8:1:2:3:4:5:6');
    expect(ipKey(req('fe80::1%lo0'))).toBe('fe80:0:0:0:0:0:0:0/56');
    expect(ipKey(req(undefined, '::ffff:10.0.0.1'))).toBe('10.0.0.1');
    expect(ipKey(req(undefined, undefined))).toBe('');
    expect(ipKey(req('not-an-ip'))).toBe('not-an-ip');
  });

  it('drops the port a proxy wrote (Azure App Service), so each connection is not a new client', () => {
    expect(ipKey(req('198.51.100.7:50123'))).toBe('198.51.100.7');
    expect(ipKey(req('[2001:db8:1:2::9]:443'))).toBe('2001:db8:1:0:0:0:0:0/56');
    expect(ipKey(req('[2001:db8:1:2::9]:443'), false)).toBe('2001:db8:1:2:0:0:0:9');
    expect(ipKey(req('[::ffff:198.51.100.7]:1'))).toBe('198.51.100.7');
  });

  it('with ipv6Subnet false, keys IPv4-mapped addresses as IPv4 and spells every IPv6 address one way', () => {
    expect(ipKey(req('::ffff:203.0.113.9'), false)).toBe('203.0.113.9');
    expect(ipKey(req('::FFFF:cb00:7109'), false)).toBe('203.0.113.9');
    expect(ipKey(req(undefined, '::ffff:10.0.0.1'), false)).toBe('10.0.0.1');
    expect(ipKey(req('2001:DB8::1'), false)).toBe('2001:db8:0:0:0:0:0:1');
    expect(ipKey(req('2001:db8:0:0::1'), false)).toBe('2001:db8:0:0:0:0:0:1');
    expect(ipKey(req('2001:0db8:0000:0000:0000:0000:0000:0001'), false)).toBe('2001:db8:0:0:0:0:0:1');
    expect(ipKey(req('2001:db8::2'), false)).toBe('2001:db8:0:0:0:0:0:2');
    expect(ipKey(req('fe80::1%eth0'), false)).toBe('fe80:0:0:0:0:0:0:1');
    expect(ipKey(req('198.51.100.7'), false)).toBe('198.51.100.7');
    expect(ipKey(req('not-an-ip'), false)).toBe('not-an-ip');
  });
});

describe('rate-limit headers', () => {
  it('serialises the draft-8 policy name as a structured-field string', () => {
    expect(sfString('plain')).toBe('"plain"');
    expect(sfString('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    const headers = new RateLimitHeaders({
      standard: 'draft-8',
      legacy: false,
      policyName: 'a"b',
      burst: 100,
      rate: 100,
      interval: 60_000,
    });
    expect(headers.policy).toBe('"a\\"b";q=100;w=60');
  });

  it('never advertises a window under one second', () => {
    const headers = new RateLimitHeaders({
      standard: 'draft-7',
      legacy: false,
      policyName: 'default',
      burst: 1,
      rate: 50,
      interval: 1000,
    });
    expect(headers.policy).toBe('1;w=1');
  });
});
