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
  const percent = address.indexOf('%');
  const plain = percent === -1 ? address : address.slice(0, percent);
  const groups = parseIPv6(plain);
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0) {
    if (groups[5] === 0xffff) {
      const hi = groups[6] ?? 0;
      const lo = groups[7] ?? 0;
      return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    }
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    const keep = Math.min(16, Math.max(0, bits - i * 16));
    const mask = keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
    out += (i === 0 ? '' : ':') + ((groups[i] ?? 0) & mask).toString(16);
  }
  return `${out}/${bits}`;
}

/**
 * The default rate-limit key of a request: `req.ip` (so Express's
 * `trust proxy` setting decides which address counts), else the socket's
 * remote address, else the empty string. IPv6 addresses are grouped by
 * their /`ipv6Subnet` network (a client usually owns a whole /56 or /64 and
 * could otherwise rotate through it); `false` keys by the full address.
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
  if (ipv6Subnet === false || isIPv4(ip)) return ip;
  const percent = ip.indexOf('%');
  if (!isIPv6(percent === -1 ? ip : ip.slice(0, percent))) return ip;
  return ipv6Network(ip, ipv6Subnet);
}
