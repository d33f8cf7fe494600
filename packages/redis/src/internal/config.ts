import { describeValue, requireMethod } from '@resilience/core/validate';

/**
 * Throws a `TypeError` naming the first key of `config` that is not in
 * `known`; where the key is a well-known option of another library, the
 * message names the option to use here.
 */
export function knownKeys(
  owner: string,
  config: object,
  known: readonly string[],
  hints: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(config)) {
    if (known.includes(key)) continue;
    const hint = Object.hasOwn(hints, key) ? ` (${hints[key]})` : '';
    throw new TypeError(`${owner}: unknown option ${JSON.stringify(key)}${hint}; known options: ${known.join(', ')}`);
  }
}

/** The longest delay one platform timer holds: the core's bound. */
export { MAX_TIMER_MS } from '@resilience/core/validate';

/** The options of a `RedisRateLimiter`. */
export const LIMITER_OPTIONS: readonly string[] = [
  'client',
  'rate',
  'interval',
  'burst',
  'algorithm',
  'prefix',
  'commandTimeout',
  'whenUnavailable',
  'maxWait',
  'onLimit',
  'clock',
  'name',
  'logger',
  'metrics',
];
/** Hints for rate-limiter-flexible's options (or ours misnamed) given to a `RedisRateLimiter`. */
export const LIMITER_HINTS: Readonly<Record<string, string>> = {
  points: 'rate-limiter-flexible\'s "points" is "rate" here',
  duration: 'rate-limiter-flexible\'s "duration" (seconds) is "interval" (ms) here',
  storeClient: 'rate-limiter-flexible\'s "storeClient" is "client" here',
  keyPrefix: 'rate-limiter-flexible\'s "keyPrefix" is "prefix" here',
  insuranceLimiter: 'rate-limiter-flexible\'s "insuranceLimiter" is "whenUnavailable" here',
  timeoutMs: 'use "commandTimeout"',
  tracer: 'not supported by RedisRateLimiter yet; wrap it in a pipeline step to trace it',
};

/** The options of a `RedisBulkhead`. */
export const BULKHEAD_OPTIONS: readonly string[] = [
  'client',
  'name',
  'maxConcurrent',
  'leaseMs',
  'maxQueue',
  'queueTimeout',
  'pollInterval',
  'prefix',
  'commandTimeout',
  'whenUnavailable',
  'onRejected',
  'clock',
  'logger',
  'metrics',
];
/** Hints for options of other libraries (or ours misnamed) given to a `RedisBulkhead`. */
export const BULKHEAD_HINTS: Readonly<Record<string, string>> = {
  limit: 'use "maxConcurrent"',
  concurrency: 'use "maxConcurrent"',
  ttl: 'use "leaseMs"',
  timeout: 'use "queueTimeout" for the queue wait, "commandTimeout" for Redis',
  tracer: 'not supported by RedisBulkhead yet; trace it from a pipeline step',
};

/** Matches a lone (unpaired) UTF-16 surrogate: with the `u` flag, a valid pair is one code point and does not match. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Whether `text` holds a lone surrogate. Redis stores bytes: a client writes
 * strings as UTF-8, where every lone surrogate becomes U+FFFD, so two such
 * strings (or one and the string with U+FFFD) would name the same Redis key.
 */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/**
 * Returns `value` when it is well-formed Unicode.
 * @throws TypeError naming `field` when it holds a lone surrogate (it would share its Redis key with other strings)
 */
export function wellFormed(owner: string, field: string, value: string): string {
  if (hasLoneSurrogate(value)) {
    throw new TypeError(
      `${owner}: ${field} must be well-formed Unicode (no lone surrogate), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The UTF-16 code units of `text` as fixed-width hex: an injective spelling that survives UTF-8. */
export function codeUnitsHex(text: string): string {
  let hex = '';
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, '0');
  return hex;
}

/**
 * Reads a `whenUnavailable` option: `undefined` or `"local"` builds the in-process stand-in with `local`, `"allow"`
 * and `"deny"` stay as they are, an object must have each of `methods`; anything else throws a `TypeError` that
 * names the value and says that an object must be `what`.
 */
export function fallbackOption<P extends object>(
  owner: string,
  value: unknown,
  local: () => P,
  methods: readonly string[],
  what: string,
): P | 'allow' | 'deny' {
  if (value === undefined || value === 'local') return local();
  if (value === 'allow' || value === 'deny') return value;
  if (value !== null && typeof value === 'object') {
    for (const method of methods) requireMethod(owner, 'whenUnavailable', value, method);
    return value as P;
  }
  throw new TypeError(
    `${owner}: whenUnavailable must be "local", "allow", "deny" or ${what}, got ${describeValue(value)}`,
  );
}
