import { type ProxyProbe, SILENCE_HINT } from '@resilience/http';
import type { Request } from 'express';

/** How `rateLimit()` reads Express's `trust proxy` setting, and what its warnings say. */
export const expressProxyProbe: ProxyProbe<Request> = {
  // `req.app` is the (sub-)app routing the request, which inherits its parent's setting.
  trustSetting: (req) => req.app?.get('trust proxy'),
  hasForwardedFor: (req) => req.headers['x-forwarded-for'] !== undefined,
  // Express's default is `false`; a hop count of 0 trusts no proxy either.
  isOff: (setting) => setting === false || setting === 0,
  permissive:
    "rateLimit: the Express 'trust proxy' setting is true, so any client picks its own req.ip with an " +
    'X-Forwarded-For header and gets a fresh quota on every request. Set it to the number of proxies in front ' +
    `of the app (app.set('trust proxy', 1)) or to their addresses. ${SILENCE_HINT}`,
  unexpected:
    "rateLimit: an X-Forwarded-For header arrived but the Express 'trust proxy' setting is false (the default), " +
    'so req.ip is the address of the proxy and every client behind it shares one quota. If the app runs behind ' +
    `proxies you control, set 'trust proxy' to their number (app.set('trust proxy', 1)). ${SILENCE_HINT}`,
};
