import { isIPv4 as nodeIsIPv4, isIPv6 as nodeIsIPv6 } from 'node:net';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { addressKey, ipv6Network, isIPv4, parseIPv6 } from './ip.js';

/** Node's verdict on an IPv6 address with its zone removed (the zone itself is ignored by our parser). */
function nodeIPv6(text: string): boolean {
  const percent = text.indexOf('%');
  if (percent === text.length - 1) return false;
  return nodeIsIPv6(percent === -1 ? text : text.slice(0, percent));
}

describe('address parsing without node:net agrees with node:net', () => {
  it('on every generated IPv4 and IPv6 address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => isIPv4(ip) === true && parseIPv6(ip) === undefined),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        expect(parseIPv6(ip), ip).toHaveLength(8);
        return !isIPv4(ip);
      }),
      { numRuns: 5000 },
    );
  });

  it('on text made of address characters, valid or not', () => {
    const chars = fc.constantFrom(...'0123456789abcdefABCDEF:.'.split(''), '::', 'ffff', '255', '.1');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 24 }), (parts) => {
        const text = parts.join('');
        expect(isIPv4(text), text).toBe(nodeIsIPv4(text));
        expect(parseIPv6(text) !== undefined, text).toBe(nodeIPv6(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('on the edge cases', () => {
    for (const text of [
      '::',
      '::1',
      '1::',
      '1:2:3:4:5:6:7::',
      '::2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':1::2',
      '1::2:',
      '1:::2',
      '::ffff:1.2.3.4',
      '1:2:3:4:5:6:1.2.3.4',
      '1:2:3:4:5:6:7:1.2.3.4',
      '::1.2.3.4',
      '1.2.3.4::',
      '::01.2.3.4',
      '12345::',
      'fe80::1%eth0',
      '',
      ':',
      '1.2.3.4',
      '01.2.3.4',
      '256.1.1.1',
    ]) {
      expect(isIPv4(text), text).toBe(nodeIsIPv4(text));
      expect(parseIPv6(text) !== undefined, text).toBe(nodeIPv6(text));
    }
  });
});

describe('addressKey is a function of the address, not of its spelling', () => {
  /** One of the many ways to write `groups`: case, leading zeros, where `::` goes, an IPv4 tail, a zone, brackets. */
  const spelling = (groups: number[]) =>
    fc
      .record({
        upper: fc.boolean(),
        pad: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
        compress: fc.boolean(),
        dotted: fc.boolean(),
        zone: fc.constantFrom('', '%eth0', '%1', '%en0.100'),
        wrap: fc.constantFrom('none', 'brackets', 'port'),
        port: fc.integer({ min: 0, max: 65_535 }),
      })
      .map(({ upper, pad, compress, dotted, zone, wrap, port }) => {
        const hex = groups.map((g, i) =>
          g.toString(16).padStart(Math.min(4, g.toString(16).length + (pad[i] ?? 0)), '0'),
        );
        let parts = dotted ? hex.slice(0, 6) : hex;
        let text = parts.join(':');
        if (compress) {
          // The longest run of zero groups (of two or more) becomes `::`, as RFC 5952 writes it, or the first run.
          const zeros = parts.map((p) => /^0+$/.test(p));
          let best = -1;
          let bestLength = 1;
          for (let i = 0; i < parts.length; i++) {
            let j = i;
            while (j < parts.length && zeros[j]) j++;
            if (j - i > bestLength) [best, bestLength] = [i, j - i];
          }
          if (best !== -1) {
            const tail = best + bestLength === parts.length && dotted ? [''] : parts.slice(best + bestLength);
            text = `${parts.slice(0, best).join(':')}::${tail.join(':')}`;
            parts = [];
          }
        }
        if (dotted) {
          const [g6, g7] = [groups[6] ?? 0, groups[7] ?? 0];
          const ipv4 = `${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
          text = text.endsWith('::') ? `${text}${ipv4}` : `${text}:${ipv4}`;
        }
        if (upper) text = text.toUpperCase();
        text += zone;
        if (wrap === 'brackets') text = `[${text}]`;
        if (wrap === 'port') text = `[${text}]:${port}`;
        return text;
      });

  const groupsArb = fc.oneof(
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
    // Runs of zeros, the mapped and compatible IPv4 ranges and the loopback, where spellings differ most.
    fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xc000), { minLength: 8, maxLength: 8 }),
    fc
      .tuple(fc.constantFrom(0, 0xffff), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }))
      .map(([g5, g6, g7]) => [0, 0, 0, 0, 0, g5, g6, g7]),
  );

  it('gives every spelling of one IPv6 address the key of its canonical text, for /56, /64, /128 and false', () => {
    fc.assert(
      fc.property(
        groupsArb.chain((groups) => fc.tuple(fc.constant(groups), spelling(groups))),
        fc.constantFrom(56, 64, 128, false as const),
        ([groups, text], subnet) => {
          const canonical = new ipaddr.IPv6(groups).toNormalizedString();
          expect(new URL(`http://[${text.replace(/^\[|\](?::\d+)?$|%.*?(?=\]|$)/g, '')}]/`).hostname, text).toBe(
            `[${new ipaddr.IPv6(groups).toRFC5952String()}]`,
          );
          expect(addressKey(text, subnet), text).toBe(addressKey(canonical, subnet));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('never gives two clients one key: distinct /56 networks, distinct IPv4 hosts, IPv4 apart from IPv6', () => {
    const embedsIPv4 = (g: number[]) => g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0);
    const words = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(words, words, (a, b) => {
        fc.pre(!embedsIPv4(a) && !embedsIPv4(b));
        const sameNetwork = a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3]! >> 8 === b[3]! >> 8;
        const keyA = addressKey(new ipaddr.IPv6(a).toString());
        const keyB = addressKey(new ipaddr.IPv6(b).toRFC5952String());
        expect(keyA === keyB).toBe(sameNetwork);
        expect(isIPv4(keyA)).toBe(false);
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), (a, b) => {
        expect(addressKey(`::ffff:${a}`) === addressKey(b)).toBe(a === b);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives an IPv4 address, with a port or mapped into IPv6 in any spelling, its own text as key', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 65_535 }), (ip, port) => {
        const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
        const groups = [0, 0, 0, 0, 0, 0xffff, (a << 8) | b, (c << 8) | d];
        for (const text of [
          ip,
          `${ip}:${port}`,
          `::ffff:${ip}`,
          `[::ffff:${ip}]:${port}`,
          new ipaddr.IPv6(groups).toNormalizedString(),
        ]) {
          expect(addressKey(text), text).toBe(ip);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('ipv6Network', () => {
  it('zeroes the host bits and names the prefix length', () => {
    expect(ipv6Network('2001:db8:aa:bbcc::1', 56)).toBe('2001:db8:aa:bb00:0:0:0:0/56');
    expect(ipv6Network('2001:db8:aa:bbcc::1', 60)).toBe('2001:db8:aa:bbc0:0:0:0:0/60');
    expect(ipv6Network('::ffff:192.0.2.1', 56)).toBe('192.0.2.1');
  });

  it('throws on what is not an IPv6 address', () => {
    expect(() => ipv6Network('not-an-ip', 56)).toThrow('ipv6Network: not an IPv6 address: "not-an-ip"');
  });

  it('gives one key to every address of a /56 and different keys across them', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), (groups) => {
        const address = groups.map((g) => g.toString(16)).join(':');
        const sibling = [...groups.slice(0, 3), (groups[3] as number) ^ 0xff, 1, 2, 3, 4]
          .map((g) => g.toString(16))
          .join(':');
        expect(addressKey(address)).toBe(addressKey(sibling));
        const other = [...groups.slice(0, 3), (groups[3] as number) ^ 0x100, 0, 0, 0, 0]
          .map((g) => g.toString(16))
          .join(':');
        // Mapped IPv4 addresses have their own key; skip that tiny corner.
        if (!addressKey(address).includes('/')) return;
        expect(addressKey(address)).not.toBe(addressKey(other));
      }),
    );
  });
});

describe('addressKey', () => {
  it('keys IPv4 as is, IPv6 by subnet or in one spelling, mapped IPv4 as IPv4, anything else unchanged', () => {
    expect(addressKey('198.51.100.7')).toBe('198.51.100.7');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:0:0:0:0:0/56');
    expect(addressKey('2001:db8:1:2:3:4:5:6', 64)).toBe('2001:db8:1:2:0:0:0:0/64');
    expect(addressKey('2001:DB8::1', false)).toBe('2001:db8:0:0:0:0:0:1');
    expect(addressKey('2001:0db8:0000:0000:0000:0000:0000:0001', false)).toBe('2001:db8:0:0:0:0:0:1');
    expect(addressKey('::FFFF:cb00:7109', false)).toBe('203.0.113.9');
    expect(addressKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(addressKey('fe80::1%lo0')).toBe('fe80:0:0:0:0:0:0:0/56');
    expect(addressKey('')).toBe('');
    expect(addressKey('/run/app.sock')).toBe('/run/app.sock');
  });
});

describe('addressKey and ipv6Network refuse a prefix that would key silently wrong', () => {
  it('names the value', () => {
    for (const bad of [0, 129, Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY, '56', true, null]) {
      expect(() => addressKey('2001:db8::1', bad as never)).toThrow(RangeError);
      // The same for an IPv4 address: the mistake shows at the first request, whatever its family.
      expect(() => addressKey('192.0.2.1', bad as never)).toThrow(
        /^addressKey: ipv6Subnet must be an integer from 1 to 128 or false, got /,
      );
    }
    expect(() => ipv6Network('2001:db8::1', 129)).toThrow(
      'ipv6Network: bits must be an integer from 0 to 128, got 129',
    );
    expect(ipv6Network('2001:db8::1', 0)).toBe('0:0:0:0:0:0:0:0/0');
    expect(() => addressKey(undefined as never)).toThrow('addressKey: address must be a string, got undefined');
    expect(addressKey('2001:db8::1', false)).toBe('2001:db8:0:0:0:0:0:1');
    expect(addressKey('2001:db8::1', 128)).toBe('2001:db8:0:0:0:0:0:1/128');
  });
});

describe('on ipaddr.js: the cases where the library and the old hand-made parser could differ', () => {
  it('reads every generated IPv6 address to the groups the WHATWG URL parser (an independent one) reads', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const groups = parseIPv6(ip);
        expect(groups, ip).toHaveLength(8);
        const ours = new ipaddr.IPv6(groups as number[]).toRFC5952String();
        expect(ours, ip).toBe(new URL(`http://[${ip}]/`).hostname.slice(1, -1));
      }),
      { numRuns: 5000 },
    );
  });

  it('keys the deprecated IPv4-compatible form ::a.b.c.d as the IPv4 host it names (node:net reads ::c000:201)', () => {
    // Safer of the two readings: node:net's would put it in the ::/56 bucket of the loopback ::1, so a forged
    // forwarded address could spend the budget of local health checks; and it is how Express's and Fastify's
    // proxy-addr (ipaddr.js too) read it.
    // The groups are the RFC 4291 ones (ipaddr.js alone would read ::ffff:c000:201), and the key is decided on
    // them, so the hex spelling of the same address is keyed alike (it used to fall into ::1's ::/56 bucket).
    expect(parseIPv6('::192.0.2.1')).toEqual([0, 0, 0, 0, 0, 0, 0xc000, 0x201]);
    for (const text of ['::192.0.2.1', '::c000:201', '0:0:0:0:0:0:C000:0201', '::192.0.2.1%eth0', '[::c000:201]:80']) {
      expect(addressKey(text), text).toBe('192.0.2.1');
      expect(addressKey(text, false), text).toBe('192.0.2.1');
      expect(ipv6Network(text.replace(/^\[|\]:80$/g, ''), 64), text).toBe('192.0.2.1');
    }
    // :: and ::1 are not IPv4-compatible, whichever way they are written.
    for (const text of ['::1', '::0.0.0.1', '0:0:0:0:0:0:0.0.0.1', '::', '::0.0.0.0']) {
      expect(addressKey(text), text).toBe('0:0:0:0:0:0:0:0/56');
    }
    expect(addressKey('::0.0.0.1', false)).toBe('0:0:0:0:0:0:0:1');
    expect(addressKey('::0.0.0.2')).toBe('0.0.0.2');
    expect(addressKey('::2')).toBe('0.0.0.2');
  });

  it('gives every spelling of one IPv4 host, and of one IPv6 /56, one key (proxies that add ports included)', () => {
    const spellings: Record<string, string[]> = {
      '192.0.2.1': [
        '192.0.2.1',
        '192.0.2.1:41234',
        '192.0.2.1:1',
        '::ffff:192.0.2.1',
        '::FFFF:c000:0201',
        '0:0:0:0:0:ffff:192.0.2.1',
        '0000:0000:0000:0000:0000:ffff:c000:201',
        '::ffff:192.0.2.1%eth0',
        '[::ffff:192.0.2.1]',
        '[::ffff:192.0.2.1]:443',
        '[::ffff:192.0.2.1%1]:443',
        '::192.0.2.1',
        '::c000:201',
      ],
      '2001:db8:1:0:0:0:0:0/56': [
        '2001:db8:1:2::5',
        '2001:DB8:1:2::5',
        '2001:0db8:0001:0002:0000:0000:0000:0005',
        '2001:db8:1:2:0:0:0:5',
        '2001:db8:1:ff:ffff:ffff:ffff:ffff',
        '2001:db8:1:2::5%eth0',
        '2001:db8:1:2::5%eth-0',
        '2001:db8:1:2::0.0.0.5',
        '[2001:db8:1:2::5]',
        '[2001:db8:1:2::5]:80',
        '[2001:DB8:1:2::5%eth0]:65535',
      ],
    };
    for (const [key, list] of Object.entries(spellings)) {
      for (const text of list) expect(addressKey(text), text).toBe(key);
    }
    // Not an address and a port: kept whole (a distinct client, or a key of the caller's own making).
    for (const text of [
      '192.0.2.1:',
      '192.0.2.1:123456',
      '192.0.2.1:8o',
      '192.0.2.01:80',
      '[2001:db8::1]:',
      '[2001:db8::1]x',
      '[2001:db8::1',
      '2001:db8::1]',
      '[192.0.2.1]:80',
      '[]:80',
      '[::1]:١',
    ]) {
      expect(addressKey(text), text).toBe(text);
    }
  });

  it('refuses the IPv4 spellings ipaddr.js would accept but a socket never reports, alone or as an IPv6 tail', () => {
    for (const text of ['127.1', '0x7f.0.0.1', '0177.0.0.1', '010.0.0.1', '2130706433', '1.2.3', '1.2.3.4.5']) {
      expect(isIPv4(text), text).toBe(false);
      expect(ipaddr.IPv4.isValid(text) || text === '1.2.3.4.5', text).toBe(true);
      expect(addressKey(text), text).toBe(text);
    }
    for (const text of ['::ffff:01.2.3.4', '::ffff:0x7f.0.0.1', '::ffff:127.1', '::01.2.3.4', '1::2:3:4:5:256.0.0.1']) {
      expect(parseIPv6(text), text).toBeUndefined();
      expect(addressKey(text), text).toBe(text);
      expect(() => ipv6Network(text, 56), text).toThrow(TypeError);
    }
  });

  it('ignores any zone, including those ipaddr.js refuses, and refuses an empty one', () => {
    for (const zone of ['eth0', 'eth-0', 'en0.100', '1', 'ÿ', 'a:b', '%']) {
      expect(addressKey(`fe80::1%${zone}`), zone).toBe('fe80:0:0:0:0:0:0:0/56');
      expect(addressKey(`fe80::1%${zone}`, false), zone).toBe('fe80:0:0:0:0:0:0:1');
      expect(addressKey(`::ffff:10.0.0.1%${zone}`), zone).toBe('10.0.0.1');
    }
    expect(parseIPv6('fe80::1%')).toBeUndefined();
    expect(addressKey('fe80::1%')).toBe('fe80::1%');
    expect(addressKey('%eth0')).toBe('%eth0');
  });

  it('keys mapped addresses in any case and spelling as IPv4, and IPv4-embedded non-mapped ones by subnet', () => {
    expect(addressKey('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(addressKey('0:0:0:0:0:ffff:a00:1')).toBe('10.0.0.1');
    expect(addressKey('0000:0000:0000:0000:0000:FFFF:0A00:0001', false)).toBe('10.0.0.1');
    expect(addressKey('64:ff9b::192.0.2.1', false)).toBe('64:ff9b:0:0:0:0:c000:201');
    expect(addressKey('64:ff9b::192.0.2.1', 96)).toBe('64:ff9b:0:0:0:0:0:0/96');
  });

  it('answers garbage and huge or hostile text quickly, with the text itself, never throwing', () => {
    const huge = [
      '1:'.repeat(500_000),
      `${'a'.repeat(1_000_000)}!`,
      `::${'0:'.repeat(100_000)}1.2.3.4`,
      `fe80::1%${'x'.repeat(1_000_000)}`,
      '1'.repeat(1_000_000),
      `${'1.'.repeat(500_000)}1`,
    ];
    for (const text of huge) {
      const key = addressKey(text);
      expect(key === text || key === 'fe80:0:0:0:0:0:0:0/56').toBe(true);
    }
    for (const text of huge) expect(isIPv4(text)).toBe(false);
    expect(isIPv4('255.255.255.255')).toBe(true);
    expect(isIPv4('255.255.255.2555')).toBe(false);
    for (const text of ['\u0000', '::\n', '1.2.3.4\n', ' ::1', '::1 ', '[::1 ]', '::1/64', 'ffff::ffff::', '::g']) {
      expect(addressKey(text), JSON.stringify(text)).toBe(text);
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        expect(typeof addressKey(text)).toBe('string');
        expect(typeof addressKey(text, false)).toBe('string');
      }),
      { numRuns: 5000 },
    );
  });

  it('does not let a key change the next one (the network is computed on a fresh parse)', () => {
    expect(addressKey('2001:db8:1:2:3:4:5:6', 16)).toBe('2001:0:0:0:0:0:0:0/16');
    expect(addressKey('2001:db8:1:2:3:4:5:6', false)).toBe('2001:db8:1:2:3:4:5:6');
    expect(ipv6Network('2001:db8:1:2:3:4:5:6', 128)).toBe('2001:db8:1:2:3:4:5:6/128');
  });
});
