import { describeValue } from '@resilience/core/validate';
import ipaddr from 'ipaddr.js';

// Address parsing is ipaddr.js (the parser behind Express's and Fastify's `trust proxy`), not `node:net`, so the
// same code runs on Node, Bun, Deno and edge runtimes. Two guards narrow it to what `node:net` and RFC 4291 accept:
// IPv4 (alone or as an IPv6 tail) only in four-part decimal without leading zeros (ipaddr.js would also read
// `0x7f.1` or `010.0.0.1`, which a socket never reports and a forged header could use to spell one client many
// ways), and the zone of `fe80::1%eth0` removed before parsing (it names an interface of this host, not the client;
// ipaddr.js refuses zones with `-` or `.`, which would key `fe80::1%eth-0` by its full text).

/** The longest IPv6 text without a zone: `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`. */
const MAX_IPV6_LENGTH = 45;

/** `[`, which opens a bracketed IPv6 address (`[2001:db8::1]:443`). */
const LEFT_BRACKET = 0x5b;

/** Whether `text` from `at` is `:` and a port: 1 to 5 ASCII digits. */
function isPortSuffix(text: string, at: number): boolean {
  const digits = text.length - at - 1;
  if (digits < 1 || digits > 5 || text.charCodeAt(at) !== 0x3a) return false;
  for (let i = at + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

/** The /0 to /128 masks, made on first use. */
const masks: (readonly number[] | undefined)[] = [];

function maskOf(bits: number): readonly number[] {
  let mask = masks[bits];
  if (mask === undefined) {
    mask = ipaddr.IPv6.subnetMaskFromPrefixLength(bits).parts;
    masks[bits] = mask;
  }
  return mask;
}

/**
 * Whether `address` is an IPv4 address in dotted-decimal form
 * (`203.0.113.9`; no leading zeros, as `node:net`'s `isIPv4` decides).
 *
 * @param address - the text to check
 */
export function isIPv4(address: string): boolean {
  // `255.255.255.255` is the longest: a longer text is refused before any regular expression reads it.
  return typeof address === 'string' && address.length <= 15 && ipaddr.IPv4.isValidFourPartDecimal(address);
}

/** The parsed IPv6 address, or `undefined` when `address` is not one (see the guards above). */
function ipv6Of(address: string): ipaddr.IPv6 | undefined {
  const percent = address.indexOf('%');
  let text = address;
  if (percent !== -1) {
    if (percent === address.length - 1) return undefined;
    text = address.slice(0, percent);
  }
  if (text.length < 2 || text.length > MAX_IPV6_LENGTH) return undefined;
  if (text.includes('.')) {
    // The IPv4 tail is the last two groups (RFC 4291, as `node:net` reads it): ipaddr.js would read `::a.b.c.d` as
    // `::ffff:a.b.c.d`, so `::192.0.2.1` and its other spelling `::c000:201` would give two different addresses.
    const colon = text.lastIndexOf(':');
    const tail = text.slice(colon + 1);
    if (!isIPv4(tail)) return undefined;
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, colon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  try {
    return ipaddr.IPv6.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The 8 groups of 16 bits of an IPv6 address, or `undefined` when `address`
 * is not one. A `%zone` suffix is ignored; an embedded IPv4 tail
 * (`::ffff:192.0.2.1`) stands for the last two groups, as RFC 4291 and
 * `node:net` read it (`::192.0.2.1` is `::c000:201`).
 *
 * @param address - the text to parse
 */
export function parseIPv6(address: string): number[] | undefined {
  return typeof address === 'string' ? ipv6Of(address)?.parts : undefined;
}

/**
 * The IPv4 address an IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible (`::a.b.c.d`, deprecated: every address
 * of ::/96 but `::` and `::1`) IPv6 address stands for, else `undefined`. Decided on the groups, so every spelling
 * of one address (`::192.0.2.1`, `::c000:201`, `0:0:0:0:0:0:c000:201`) gives the same answer. Keying the
 * compatible form by ::/56 instead would let a forged forwarded address spend the budget of the loopback `::1`.
 */
function embeddedIPv4(address: ipaddr.IPv6): string | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = address.parts as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if ((g0 | g1 | g2 | g3 | g4) !== 0) return undefined;
  if (g5 !== 0xffff && (g5 !== 0 || (g6 === 0 && g7 <= 1))) return undefined;
  return `${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
}

/** `address` with its host bits zeroed, as 8 groups, then `/bits`; changes `address`. */
function networkOf(address: ipaddr.IPv6, bits: number): string {
  const mask = maskOf(bits);
  const parts = address.parts;
  for (let i = 0; i < 8; i++) parts[i] = (parts[i] as number) & (mask[i] as number);
  return `${address.toNormalizedString()}/${bits}`;
}

/** Throws a `RangeError` unless `bits` is an integer from `min` to 128. */
function checkPrefix(owner: string, name: string, bits: unknown, min: number): void {
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < min || bits > 128) {
    const allowed = name === 'ipv6Subnet' ? ` or false` : '';
    throw new RangeError(
      `${owner}: ${name} must be an integer from ${min} to 128${allowed}, got ${describeValue(bits)}`,
    );
  }
}

/**
 * The /`bits` network an IPv6 address belongs to, written as its 8 groups
 * with the host bits zeroed, then `/bits` (for example
 * `2001:db8:0:ab00:0:0:0:0/56`). Every address of one network gets the same
 * string. IPv4-mapped addresses (`::ffff:192.0.2.1`) and the deprecated
 * IPv4-compatible ones (`::192.0.2.1`, also spelt `::c000:201`) give the IPv4 address.
 *
 * @param address - an IPv6 address, optionally with a `%zone`
 * @param bits - the prefix length, 0 to 128
 * @throws TypeError when `address` is not an IPv6 address; RangeError when `bits` is not an integer from 0 to 128
 */
export function ipv6Network(address: string, bits: number): string {
  checkPrefix('ipv6Network', 'bits', bits, 0);
  const parsed = typeof address === 'string' ? ipv6Of(address) : undefined;
  if (parsed === undefined) throw new TypeError(`ipv6Network: not an IPv6 address: ${describeValue(address)}`);
  return embeddedIPv4(parsed) ?? networkOf(parsed, bits);
}

/**
 * The rate-limit key of a client address: an IPv4 address as it is; an IPv6
 * address grouped by its /`ipv6Subnet` network (a client usually owns a
 * whole /56 or /64 and could otherwise rotate through it), or with `false`
 * the full address written one way whatever its spelling (`2001:DB8::1` and
 * `2001:db8:0:0::1` give `2001:db8:0:0:0:0:0:1`). Either way an IPv4-mapped
 * IPv6 address (`::ffff:203.0.113.9`), or a deprecated IPv4-compatible one
 * (`::203.0.113.9`), is keyed as the IPv4 address. A port, as some proxies
 * write it into `X-Forwarded-For` (`203.0.113.9:41234`,
 * `[2001:db8::1]:41234`), and brackets (`[2001:db8::1]`) are dropped, so a
 * client does not get a fresh key with every connection. Anything else (a
 * Unix socket path, the empty string) is returned unchanged.
 *
 * @param address - the client's address
 * @param ipv6Subnet - the IPv6 prefix length (1 to 128), or `false`
 * @throws TypeError when `address` is not a string; RangeError when `ipv6Subnet` is neither `false` nor an
 *   integer from 1 to 128 (`NaN` or `-1` would silently key every address apart, or every client together)
 * @example
 * ```ts
 * addressKey('2001:db8:1:2:3:4:5:6'); // '2001:db8:1:0:0:0:0:0/56'
 * addressKey('::ffff:203.0.113.9', 64); // '203.0.113.9'
 * addressKey('203.0.113.9:41234'); // '203.0.113.9'
 * ```
 */
export function addressKey(address: string, ipv6Subnet: number | false = 56): string {
  if (typeof address !== 'string') {
    throw new TypeError(`addressKey: address must be a string, got ${describeValue(address)}`);
  }
  if (ipv6Subnet !== false) checkPrefix('addressKey', 'ipv6Subnet', ipv6Subnet, 1);
  // Every IPv6 text has a ':', no IPv4 text has one: one look picks the parser.
  const colon = address.indexOf(':');
  if (colon === -1) return address;
  let text = address;
  if (address.charCodeAt(0) === LEFT_BRACKET) {
    // `[2001:db8::1]` or `[2001:db8::1]:41234`: the address is inside the brackets.
    const close = address.indexOf(']');
    if (close === -1 || !(close === address.length - 1 || isPortSuffix(address, close + 1))) return address;
    text = address.slice(1, close);
  } else if (address.indexOf(':', colon + 1) === -1) {
    // One ':' is never IPv6 (`::` has two): `203.0.113.9:41234` is an IPv4 address and a port.
    const host = address.slice(0, colon);
    return isIPv4(host) && isPortSuffix(address, colon) ? host : address;
  }
  const parsed = ipv6Of(text);
  if (parsed === undefined) return address;
  const ipv4 = embeddedIPv4(parsed);
  if (ipv4 !== undefined) return ipv4;
  return ipv6Subnet === false ? parsed.toNormalizedString() : networkOf(parsed, ipv6Subnet);
}
