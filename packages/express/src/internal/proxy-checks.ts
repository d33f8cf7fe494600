import type { Logger } from '@resilience/core';
import { describeValue } from '@resilience/core/validate';
import type { Request } from 'express';
import type { RateLimitValidations } from '../types.js';
import { ignoreRejection } from './settle.js';

const SILENCE = '(validate: false silences this warning)';

const PERMISSIVE =
  "rateLimit: the Express 'trust proxy' setting is true, so any client picks its own req.ip with an " +
  'X-Forwarded-For header and gets a fresh quota on every request. Set it to the number of proxies in front ' +
  `of the app (app.set('trust proxy', 1)) or to their addresses. ${SILENCE}`;

const UNEXPECTED =
  "rateLimit: an X-Forwarded-For header arrived but the Express 'trust proxy' setting is false (the default), " +
  'so req.ip is the address of the proxy and every client behind it shares one quota. If the app runs behind ' +
  `proxies you control, set 'trust proxy' to their number (app.set('trust proxy', 1)). ${SILENCE}`;

/** The checks `validate` turns on, read once at construction. */
function enabledChecks(owner: string, validate: unknown): { trustProxy: boolean; xForwardedForHeader: boolean } {
  if (validate === undefined || validate === true) return { trustProxy: true, xForwardedForHeader: true };
  if (validate === false) return { trustProxy: false, xForwardedForHeader: false };
  if (validate === null || typeof validate !== 'object' || Array.isArray(validate)) {
    throw new TypeError(
      `${owner}: validate must be a boolean or an object { trustProxy?, xForwardedForHeader? }, got ${describeValue(validate)}`,
    );
  }
  const checks = { trustProxy: true, xForwardedForHeader: true };
  for (const [name, value] of Object.entries(validate)) {
    if (name !== 'trustProxy' && name !== 'xForwardedForHeader') {
      throw new RangeError(
        `${owner}: validate has no check named ${describeValue(name)}; the checks are trustProxy and xForwardedForHeader`,
      );
    }
    if (value === undefined) continue;
    if (typeof value !== 'boolean') {
      throw new TypeError(`${owner}: validate.${name} must be a boolean, got ${describeValue(value)}`);
    }
    checks[name] = value;
  }
  return checks;
}

/** The app's `trust proxy` setting: `req.app` is the (sub-)app routing the request, which inherits its parent's. */
function trustProxySetting(req: Request): unknown {
  return req.app?.get('trust proxy');
}

/** Whether a `trust proxy` setting trusts no proxy (Express's default is `false`). */
function isOff(setting: unknown): boolean {
  return setting === false || setting === 0;
}

/**
 * The `trust proxy` checks of `rateLimit()`, as express-rate-limit runs
 * them: each warns at most once per middleware. The `trust proxy` setting
 * is read on the first request (a permissive `true` lets every client choose
 * its address). While `trust proxy` is off (`false` or `0`), an
 * `X-Forwarded-For` header is looked for on every request until one arrives;
 * when proxies are trusted that check ends at the first request. Once both
 * are settled, {@link ProxyChecks.pending} is false and the middleware stops
 * calling.
 */
export class ProxyChecks {
  readonly #logger: Logger;
  #trustProxy: boolean;
  #forwardedFor: boolean;
  /** Whether a check is still waiting to run or to fire. */
  pending: boolean;

  /**
   * @param owner - the middleware named in errors
   * @param validate - the `validate` option
   * @param logger - where warnings go (`logger.warn`)
   */
  constructor(owner: string, validate: RateLimitValidations | boolean | undefined, logger: Logger) {
    const checks = enabledChecks(owner, validate);
    this.#logger = logger;
    this.#trustProxy = checks.trustProxy;
    this.#forwardedFor = checks.xForwardedForHeader;
    this.pending = this.#trustProxy || this.#forwardedFor;
  }

  /** Runs the checks still pending against one request. */
  inspect(req: Request): void {
    if (this.#trustProxy) {
      this.#trustProxy = false;
      const setting = trustProxySetting(req);
      if (setting === true) this.#warn(PERMISSIVE, 'PERMISSIVE_TRUST_PROXY', setting);
      // Proxies are trusted: X-Forwarded-For is expected, and that check is done for good.
      if (!isOff(setting)) this.#forwardedFor = false;
    }
    // Until a header arrives this costs one property read per request.
    if (this.#forwardedFor && req.headers['x-forwarded-for'] !== undefined) {
      this.#forwardedFor = false;
      const setting = trustProxySetting(req);
      if (isOff(setting)) this.#warn(UNEXPECTED, 'UNEXPECTED_X_FORWARDED_FOR', setting);
    }
    this.pending = this.#trustProxy || this.#forwardedFor;
  }

  #warn(message: string, code: string, trustProxy: unknown): void {
    try {
      ignoreRejection(this.#logger.warn(message, { code, trustProxy }));
    } catch {
      // A broken logger must not break the request.
    }
  }
}
