import { addressKey } from '@resilience/http';
import type { Request } from 'express';

export { ipv6Network } from '@resilience/http';

/**
 * The default rate-limit key of a request: `req.ip` (so Express's
 * `trust proxy` setting decides which address counts), else the socket's
 * remote address, else the empty string. IPv6 addresses are grouped by
 * their /`ipv6Subnet` network (a client usually owns a whole /56 or /64 and
 * could otherwise rotate through it); `false` keys by the full address,
 * written one way whatever its spelling (`2001:DB8::1` and `2001:db8:0:0::1`
 * give `2001:db8:0:0:0:0:0:1`). Either way an IPv4-mapped IPv6 address
 * (`::ffff:203.0.113.9`) is keyed as the IPv4 address, and a port a proxy
 * wrote into `X-Forwarded-For` (`203.0.113.9:41234`, `[2001:db8::1]:443`)
 * is dropped. The logic is `addressKey` from `@resilience/http`, which
 * every adapter shares.
 *
 * @param req - the request
 * @param ipv6Subnet - the IPv6 prefix length, or `false`
 * @example
 * ```ts
 * app.use(rateLimit(limiter, { key: (req) => `${req.path}|${ipKey(req, 64)}` }));
 * ```
 */
export function ipKey(req: Request, ipv6Subnet: number | false = 56): string {
  return addressKey(req.ip ?? req.socket?.remoteAddress ?? '', ipv6Subnet);
}
