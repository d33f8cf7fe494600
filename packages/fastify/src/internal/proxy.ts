import { type ProxyProbe, SILENCE_HINT } from '@resilience/http';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const optionsKeys = new WeakMap<object, symbol | null>();

/**
 * Fastify's `trustProxy` server option. Fastify does not expose it, so this
 * reads the options the instance keeps (under its `fastify.options` symbol);
 * where that is not found, only "off" can be told (no `request.ips` without
 * `trustProxy`), and the permissive check does not fire.
 */
function trustProxyOf(request: FastifyRequest): unknown {
  const server = request.server as FastifyInstance & Record<symbol, unknown>;
  let key = optionsKeys.get(server);
  if (key === undefined) {
    key = Object.getOwnPropertySymbols(server).find((s) => s.description === 'fastify.options') ?? null;
    optionsKeys.set(server, key);
  }
  const options = key === null ? undefined : (server[key] as { trustProxy?: unknown } | undefined);
  if (options !== undefined && options !== null && typeof options === 'object') return options.trustProxy ?? false;
  return request.ips === undefined ? false : 'on';
}

/**
 * Whether this Fastify trusts no proxy for a hop count (`trustProxy: 1`): since 5.12 it fails closed, as it cannot
 * tell a proxy from a client that writes enough `X-Forwarded-For` entries, so `request.ip` is the proxy's address.
 * A version it cannot read is taken to be a recent one.
 */
function hopCountTrustsNothing(request: FastifyRequest): boolean {
  const version = (request.server as { version?: unknown }).version;
  const match = typeof version === 'string' ? /^(\d+)\.(\d+)\./.exec(version) : null;
  if (match === null) return true;
  const major = Number(match[1]);
  return major > 5 || (major === 5 && Number(match[2]) >= 12);
}

/** How `rateLimit()` reads Fastify's `trustProxy` option, and what its warnings say. */
export const fastifyProxyProbe: ProxyProbe<FastifyRequest> = {
  trustSetting: trustProxyOf,
  hasForwardedFor: (request) => request.headers['x-forwarded-for'] !== undefined,
  isOff: (setting, request) =>
    setting === false ||
    setting === 0 ||
    setting === undefined ||
    (typeof setting === 'number' && hopCountTrustsNothing(request)),
  permissive:
    "rateLimit: Fastify's trustProxy option is true, so any client picks its own request.ip with an " +
    'X-Forwarded-For header and gets a fresh quota on every request. Set it to the addresses or subnets of the ' +
    `proxies in front of the app (fastify({ trustProxy: '10.0.0.0/8' })). ${SILENCE_HINT}`,
  unexpected:
    "rateLimit: an X-Forwarded-For header arrived but Fastify's trustProxy option is off (the default, or a hop " +
    'count such as trustProxy: 1, which Fastify 5.12 and later treat as trusting no proxy), so ' +
    'request.ip is the address of the proxy and every client behind it shares one quota. If the app runs behind ' +
    `proxies you control, set trustProxy to their addresses (fastify({ trustProxy: '10.0.0.0/8' })). ${SILENCE_HINT}`,
};
