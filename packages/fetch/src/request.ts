import { describeValue } from '@resilience/core/validate';
import type { RequestResilience, ResilientRequestInit } from './types.js';

const OWNER = 'createFetch';

/** What one call of the resilient fetch needs to know about its request, read once. */
export interface RequestFacts {
  /** The absolute URL. */
  readonly url: string;
  /** The breaker key: the URL's origin (`https://host:port`), or its scheme when it has no origin (`data:`). */
  readonly origin: string;
  /** The method, upper case. */
  readonly method: string;
  /** Whether the body can be sent again (none, a string, bytes, a `Blob`, form data). */
  readonly replayable: boolean;
  /** The caller's signal, if any. */
  readonly signal: AbortSignal | undefined;
  /** The `init` to pass on, without `resilience` and `signal` (the attempt sets its own). */
  readonly init: RequestInit;
  /** The per-request options. */
  readonly resilience: RequestResilience | undefined;
}

interface RequestLike {
  readonly url: string;
  readonly method: string;
  readonly body: unknown;
  readonly signal: AbortSignal;
}

function isRequestLike(value: unknown): value is RequestLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { url?: unknown }).url === 'string' &&
    typeof (value as { method?: unknown }).method === 'string'
  );
}

/** Whether a body of this kind can be sent again: a stream or an async iterable cannot. */
export function isReplayableBody(body: unknown): boolean {
  if (body === undefined || body === null || typeof body === 'string') return true;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return true;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return true;
  if (body instanceof URLSearchParams) return true;
  if (typeof FormData !== 'undefined' && body instanceof FormData) return true;
  return false;
}

/** Whether `value` is an `AbortSignal` (from any realm): what the timeouts and listeners need of it. */
function isSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}

function readResilience(value: unknown): RequestResilience | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') {
    throw new TypeError(`${OWNER}: init.resilience must be an object, got ${describeValue(value)}`);
  }
  const r = value as RequestResilience;
  for (const key of Object.keys(r)) {
    if (key !== 'idempotent' && key !== 'timeout' && key !== 'attemptTimeout') {
      throw new TypeError(
        `${OWNER}: unknown option init.resilience.${key}; the options are idempotent, timeout, attemptTimeout`,
      );
    }
  }
  if (r.idempotent !== undefined && typeof r.idempotent !== 'boolean') {
    throw new TypeError(`${OWNER}: init.resilience.idempotent must be a boolean, got ${describeValue(r.idempotent)}`);
  }
  for (const key of ['timeout', 'attemptTimeout'] as const) {
    const ms = r[key];
    if (ms !== undefined && (typeof ms !== 'number' || !(ms > 0))) {
      throw new RangeError(
        `${OWNER}: init.resilience.${key} must be a number > 0 (or Infinity), got ${describeValue(ms)}`,
      );
    }
  }
  return r;
}

/** The members of `RequestInit` (and undici's `dispatcher`) that `fetch` reads from an `init`, own or not. */
const INIT_KEYS = [
  'method',
  'headers',
  'body',
  'referrer',
  'referrerPolicy',
  'mode',
  'credentials',
  'cache',
  'redirect',
  'integrity',
  'keepalive',
  'duplex',
  'priority',
  'window',
  'dispatcher',
] as const;

/**
 * `fetch` reads `init` through getters and its prototype chain (a `Request`
 * passed as `init`, an object made with `Object.create(defaults)`), while a
 * spread copies own properties only: adds what the spread missed, so such a
 * `PUT` is not sent as a bare `GET`. A plain object literal is returned as is.
 */
function copyInherited(init: object, own: RequestInit): RequestInit {
  const proto: unknown = Object.getPrototypeOf(init);
  if (proto === Object.prototype || proto === null) return own;
  const copy = own as Record<string, unknown>;
  for (const key of INIT_KEYS) {
    if (key in copy) continue;
    const value: unknown = (init as Record<string, unknown>)[key];
    if (value !== undefined) copy[key] = value;
  }
  return own;
}

/**
 * Reads what the resilient fetch needs from `fetch`'s arguments. Throws a
 * `TypeError` naming the value for a URL that is not absolute and for bad
 * `init.resilience` options (the caller's promise rejects with it).
 */
export function readRequest(input: unknown, init: ResilientRequestInit | undefined): RequestFacts {
  let url: string;
  let method = 'GET';
  let body: unknown;
  let signal: AbortSignal | undefined;
  let requestHasBody = false;
  if (typeof input === 'string') url = input;
  else if (input instanceof URL) url = input.href;
  else if (isRequestLike(input)) {
    url = input.url;
    method = input.method;
    // A Request's body is a stream, read by the first attempt: not replayable (pass the body in `init` instead).
    requestHasBody = input.body !== null && input.body !== undefined;
    signal = input.signal ?? undefined;
  } else url = String(input);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new TypeError(`${OWNER}: the request URL must be absolute, got ${describeValue(url)}`, { cause: error });
  }
  let rest: RequestInit = {};
  let resilience: RequestResilience | undefined;
  if (init !== undefined && init !== null) {
    if (typeof init !== 'object') throw new TypeError(`${OWNER}: init must be an object, got ${describeValue(init)}`);
    const { resilience: options, signal: own, ...others } = init;
    resilience = readResilience(options);
    rest = copyInherited(init, others);
    if (typeof init.method === 'string') method = init.method;
    if (own !== undefined) signal = own ?? undefined;
    if (signal !== undefined && !isSignal(signal)) {
      throw new TypeError(`${OWNER}: init.signal must be an AbortSignal, got ${describeValue(signal)}`);
    }
    if ('body' in init) {
      body = init.body;
      requestHasBody = false;
    }
  }
  return {
    url,
    origin: parsed.origin === 'null' ? parsed.protocol : parsed.origin,
    method: method.toUpperCase(),
    replayable: !requestHasBody && isReplayableBody(body),
    signal,
    init: rest,
    resilience,
  };
}
