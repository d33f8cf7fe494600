import { describeValue } from '@resilience/core/validate';

// Address parsing without `node:net`, so the same code runs on Node, Bun, Deno and edge runtimes.

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Whether `address` is an IPv4 address in dotted-decimal form
 * (`203.0.113.9`; no leading zeros, as `node:net`'s `isIPv4` decides).
 *
 * @param address - the text to check
 */
export function isIPv4(address: string): boolean {
  return IPV4.test(address);
}

/** The groups of one side of a `::`, or `undefined` when one is not a group; `last` allows a dotted IPv4 tail. */
function groupsOfPart(part: string, last: boolean, out: number[]): boolean {
  if (part === '') return true;
  const pieces = part.split(':');
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as string;
    if (HEX_GROUP.test(piece)) {
      out.push(Number.parseInt(piece, 16));
    } else if (last && i === pieces.length - 1 && isIPv4(piece)) {
      const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
      out.push((a << 8) | b, (c << 8) | d);
    } else {
      return false;
    }
  }
  return true;
}

/**
 * The 8 groups of 16 bits of an IPv6 address, or `undefined` when `address`
 * is not one. A `%zone` suffix is ignored; an embedded IPv4 tail
 * (`::ffff:192.0.2.1`) stands for the last two groups.
 *
 * @param address - the text to parse
 */
export function parseIPv6(address: string): number[] | undefined {
  const percent = address.indexOf('%');
  let text = address;
  if (percent !== -1) {
    if (percent === address.length - 1) return undefined;
    text = address.slice(0, percent);
  }
  if (text.length < 2 || text.length > 45) return undefined;
  const gap = text.indexOf('::');
  if (gap === -1) {
    const groups: number[] = [];
    return groupsOfPart(text, true, groups) && groups.length === 8 ? groups : undefined;
  }
  if (text.indexOf('::', gap + 1) !== -1) return undefined;
  const head = text.slice(0, gap);
  const tail = text.slice(gap + 2);
  // A single ':' at either end outside the '::' is malformed (':1::', '1:::2').
  if (head.startsWith(':') || head.endsWith(':') || tail.startsWith(':') || tail.endsWith(':')) return undefined;
  const left: number[] = [];
  const right: number[] = [];
  if (!groupsOfPart(head, false, left) || !groupsOfPart(tail, true, right)) return undefined;
  const zeros = 8 - left.length - right.length;
  if (zeros < 1) return undefined;
  for (let i = 0; i < zeros; i++) left.push(0);
  for (const group of right) left.push(group);
  return left;
}

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) stands for, else `undefined`. */
function mappedIPv4(groups: readonly number[]): string | undefined {
  for (let i = 0; i < 5; i++) if (groups[i] !== 0) return undefined;
  if (groups[5] !== 0xffff) return undefined;
  const hi = groups[6] ?? 0;
  const lo = groups[7] ?? 0;
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

function networkOf(groups: readonly number[], bits: number): string {
  let out = '';
  for (let i = 0; i < 8; i++) {
    const keep = Math.min(16, Math.max(0, bits - i * 16));
    const mask = keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
    out += (i === 0 ? '' : ':') + ((groups[i] ?? 0) & mask).toString(16);
  }
  return `${out}/${bits}`;
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
 * string. IPv4-mapped addresses (`::ffff:192.0.2.1`) give the IPv4 address.
 *
 * @param address - an IPv6 address, optionally with a `%zone`
 * @param bits - the prefix length, 0 to 128
 * @throws TypeError when `address` is not an IPv6 address; RangeError when `bits` is not an integer from 0 to 128
 */
export function ipv6Network(address: string, bits: number): string {
  checkPrefix('ipv6Network', 'bits', bits, 0);
  const groups = parseIPv6(address);
  if (groups === undefined) throw new TypeError(`ipv6Network: not an IPv6 address: ${JSON.stringify(address)}`);
  return mappedIPv4(groups) ?? networkOf(groups, bits);
}

/**
 * The rate-limit key of a client address: an IPv4 address as it is; an IPv6
 * address grouped by its /`ipv6Subnet` network (a client usually owns a
 * whole /56 or /64 and could otherwise rotate through it), or with `false`
 * the full address written one way whatever its spelling (`2001:DB8::1` and
 * `2001:db8:0:0::1` give `2001:db8:0:0:0:0:0:1`). Either way an IPv4-mapped
 * IPv6 address (`::ffff:203.0.113.9`) is keyed as the IPv4 address. Anything
 * else (a Unix socket path, the empty string) is returned unchanged.
 *
 * @param address - the client's address
 * @param ipv6Subnet - the IPv6 prefix length (1 to 128), or `false`
 * @throws TypeError when `address` is not a string; RangeError when `ipv6Subnet` is neither `false` nor an
 *   integer from 1 to 128 (`NaN` or `-1` would silently key every address apart, or every client together)
 * @example
 * ```ts
 * addressKey('2001:db8:1:2:3:4:5:6'); // '2001:db8:1:0:0:0:0:0/56'
 * addressKey('::ffff:203.0.113.9', 64); // '203.0.113.9'
 * ```
 */
export function addressKey(address: string, ipv6Subnet: number | false = 56): string {
  if (typeof address !== 'string') {
    throw new TypeError(`addressKey: address must be a string, got ${describeValue(address)}`);
  }
  if (ipv6Subnet !== false) checkPrefix('addressKey', 'ipv6Subnet', ipv6Subnet, 1);
  if (isIPv4(address)) return address;
  const groups = parseIPv6(address);
  if (groups === undefined) return address;
  const ipv4 = mappedIPv4(groups);
  if (ipv4 !== undefined) return ipv4;
  return ipv6Subnet === false ? groups.map((g) => g.toString(16)).join(':') : networkOf(groups, ipv6Subnet);
}
