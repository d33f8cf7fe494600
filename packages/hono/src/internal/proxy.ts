import { type ProxyProbe, SILENCE_HINT } from '@resilience/http';
import type { Context } from 'hono';

/**
 * The proxy check of `rateLimit()` on Hono: there is no proxy-trust setting
 * (the default key is always the connection's address), so only an
 * `X-Forwarded-For` header arriving is reported.
 */
export const honoProxyProbe: ProxyProbe<Context> = {
  trustSetting: () => false,
  hasForwardedFor: (c) => c.req.raw.headers.has('x-forwarded-for'),
  isOff: () => true,
  permissive: '',
  unexpected:
    'rateLimit: an X-Forwarded-For header arrived but the default key is the address of the connection ' +
    "(getConnInfo), so behind a proxy every client shares the proxy's quota. If the app runs behind proxies you " +
    'control, key by the address they report (key: (c) => ...), taking the right-most entry your own proxy added, ' +
    `never the left-most one a client can write. ${SILENCE_HINT}`,
};
