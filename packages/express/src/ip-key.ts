import { isIPv4, isIPv6 } from 'node:net';
import type { Request } from 'express';

/** Parses an IPv6 address (zone removed, valid per `isIPv6`) into 8 groups of 16 bits. */
function parseIPv6(address: string): number[] {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const dotted = text.slice(lastColon + 1);
  if (dotted.includes('.')) {
    // An embedded IPv4 address stands for the last two groups.
    const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) stands for, else `undefined`. */
function mappedIPv4(groups: readonly number[]): string | undefined {
  for (let i = 0; i < 5; i++) if (groups[i] !== 0) return undefined;
  if (groups[5] !== 0xffff) return undefined;
  const hi = groups[6] ?? 0;
  const lo = groups[7] ?? 0;
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The groups of an IPv6 address with any `%zone` removed. */
function groupsOf(address: string): number[] {
  const percent = address.indexOf('%');
  return parseIPv6(percent === -1 ? address : address.slice(0, percent));
}

/**
 * The /`bits` network an IPv6 address belongs to, written as its 8 groups
 * with the host bits zeroed, then `/bits` (for example
 * `2001:db8:0:ab00:0:0:0:0/56`). Every address of one network gets the same
 * string. IPv4-mapped addresses (`::ffff:192.0.2.1`) give the IPv4 address.
 *
 * @param address - an IPv6 address, optionally with a `%zone`
 * @param bits - the prefix length, 0 to 128
 */
export function ipv6Network(address: string, bits: number): string {
  const groups = groupsOf(address);
  const ipv4 = mappedIPv4(groups);
  if (ipv4 !== undefined) return ipv4;
  let out = '';
  for (let i = 0; i < 8; i++) {
    const keep = Math.min(16, Math.max(0, bits - i * 16));
    const mask = keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
    out += (i === 0 ? '' : ':') + ((groups[i] ?? 0) & mask).toString(16);
  }
  return `${out}/${bits}`;
}

/**
 * One spelling of an IPv6 address: its 8 groups in lowercase hex without
 * leading zeros and without `::` (so `2001:DB8::1` and `2001:db8:0:0::1`
 * agree), the zone removed; an IPv4-mapped address gives the IPv4 address.
 */
function canonicalIPv6(address: string): string {
  const groups = groupsOf(address);
  return mappedIPv4(groups) ?? groups.map((g) => g.toString(16)).join(':');
}

/**
 * The default rate-limit key of a request: `req.ip` (so Express's
 * `trust proxy` setting decides which address counts), else the socket's
 * remote address, else the empty string. IPv6 addresses are grouped by
 * their /`ipv6Subnet` network (a client usually owns a whole /56 or /64 and
 * could otherwise rotate through it); `false` keys by the full address,
 * written one way whatever its spelling (`2001:DB8::1` and `2001:db8:0:0::1`
 * give `2001:db8:0:0:0:0:0:1`). Either way an IPv4-mapped IPv6 address
 * (`::ffff:203.0.113.9`) is keyed as the IPv4 address.
 *
 * @param req - the request
 * @param ipv6Subnet - the IPv6 prefix length, or `false`
 * @example
 * ```ts
 * app.use(rateLimit(limiter, { key: (req) => `${req.path}|${ipKey(req, 64)}` }));
 * ```
 */
export function ipKey(req: Request, ipv6Subnet: number | false = 56): string {
  const ip = req.ip ?? req.socket?.remoteAddress ?? '';
  if (isIPv4(ip)) return ip;
  const percent = ip.indexOf('%');
  if (!isIPv6(percent === -1 ? ip : ip.slice(0, percent))) return ip;
  return ipv6Subnet === false ? canonicalIPv6(ip) : ipv6Network(ip, ipv6Subnet);
}
