import type { Logger } from '@resilience/core';
import { describeValue } from '@resilience/core/validate';
import { ignoreRejection } from './sync.js';
import type { RateLimitValidations } from './types.js';

/** The sentence every proxy warning ends with. */
export const SILENCE_HINT = '(validate: false silences this warning)';

/** How one framework's proxy setting is read, and what the two warnings say there. */
export interface ProxyProbe<Req> {
  /** The framework's proxy-trust setting that applies to `req` (Express `trust proxy`, Fastify `trustProxy`). */
  trustSetting(req: Req): unknown;
  /** Whether `req` carries an `X-Forwarded-For` header. */
  hasForwardedFor(req: Req): boolean;
  /**
   * Whether a setting trusts no proxy. `req` is there for what the setting alone cannot tell (Fastify 5.12 and
   * later trust no proxy for a hop count; older versions do).
   */
  isOff(setting: unknown, req: Req): boolean;
  /** The warning when the setting is `true` (code `PERMISSIVE_TRUST_PROXY`). */
  readonly permissive: string;
  /** The warning when `X-Forwarded-For` arrives while no proxy is trusted (code `UNEXPECTED_X_FORWARDED_FOR`). */
  readonly unexpected: string;
}

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

/**
 * The proxy checks of a `rateLimit()` middleware, as express-rate-limit runs
 * them: each warns at most once per middleware, through `logger.warn`. The
 * proxy-trust setting is read on the first request (a permissive `true` lets
 * every client choose its address). While no proxy is trusted, an
 * `X-Forwarded-For` header is looked for on every request until one
 * arrives; when proxies are trusted that check ends at the first request.
 * Once both are settled, {@link ProxyChecks.pending} is false and the
 * middleware stops calling.
 *
 * @example
 * ```ts
 * const checks = new ProxyChecks('rateLimit', options.validate, logger, expressProbe);
 * // per request:
 * if (checks.pending) checks.inspect(req);
 * ```
 */
export class ProxyChecks<Req> {
  readonly #logger: Logger;
  readonly #probe: ProxyProbe<Req>;
  #trustProxy: boolean;
  #forwardedFor: boolean;
  /** Whether a check is still waiting to run or to fire. */
  pending: boolean;

  /**
   * @param owner - the middleware named in errors
   * @param validate - the `validate` option
   * @param logger - where warnings go (`logger.warn`)
   * @param probe - how the framework's setting and headers are read
   */
  constructor(
    owner: string,
    validate: RateLimitValidations | boolean | undefined,
    logger: Logger,
    probe: ProxyProbe<Req>,
  ) {
    const checks = enabledChecks(owner, validate);
    this.#logger = logger;
    this.#probe = probe;
    this.#trustProxy = checks.trustProxy;
    this.#forwardedFor = checks.xForwardedForHeader;
    this.pending = this.#trustProxy || this.#forwardedFor;
  }

  /** Runs the checks still pending against one request. */
  inspect(req: Req): void {
    const probe = this.#probe;
    if (this.#trustProxy) {
      this.#trustProxy = false;
      const setting = probe.trustSetting(req);
      if (setting === true) this.#warn(probe.permissive, 'PERMISSIVE_TRUST_PROXY', setting);
      // Proxies are trusted: X-Forwarded-For is expected, and that check is done for good.
      if (!probe.isOff(setting, req)) this.#forwardedFor = false;
    }
    // Until a header arrives this costs one header lookup per request.
    if (this.#forwardedFor && probe.hasForwardedFor(req)) {
      this.#forwardedFor = false;
      const setting = probe.trustSetting(req);
      if (probe.isOff(setting, req)) this.#warn(probe.unexpected, 'UNEXPECTED_X_FORWARDED_FOR', setting);
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
