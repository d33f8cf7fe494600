import {
  CircuitBreaker,
  type CircuitBreakerConfig,
  type ExecutionContext,
  findInChain,
  isCircuitOpenError,
  type Logger,
  Retry,
  type RetryConfig,
  Timeout,
  type TimeoutExecuteOptions,
} from '@resilience/core';
import { clockOption, configObject, describeValue, functionOption, numberOption } from '@resilience/core/validate';
import { failureStatusOption, isThenable, parseRetryAfter, rejectUnknownOptions } from '@resilience/http';
import { discardResponse, followSignal, isResponse } from './body.js';
import { buildHedging, type FetchHedging, hedged } from './hedging.js';
import { OriginBreakers } from './origins.js';
import { type RequestFacts, readRequest } from './request.js';
import type { CreateFetchOptions, FetchLike, FetchRetryConfig, ResilientFetch, ResilientRequestInit } from './types.js';

const OWNER = 'createFetch';

const optionNames = [
  'fetch',
  'breaker',
  'maxOrigins',
  'failureStatuses',
  'retry',
  'hedging',
  'timeout',
  'attemptTimeout',
  'clock',
  'name',
  'logger',
  'tracer',
  'metrics',
] as const;

const retryOptionNames = [
  'maxAttempts',
  'initialDelay',
  'maxDelay',
  'multiplier',
  'backoff',
  'jitter',
  'methods',
  'statuses',
  'onRetry',
] as const;

/** The methods RFC 9110 calls idempotent: sending them twice has the effect of sending them once. */
const IDEMPOTENT_METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'];
const RETRY_STATUSES: readonly number[] = [408, 429, 500, 502, 503, 504];

const ignore = (): void => {};

/**
 * Errors of requests that `fetch` refused as invalid before sending them (a
 * header value with a newline, a bad method): the caller's mistake, so they
 * are neither retried nor counted against the origin's breaker.
 */
const callerErrors = new WeakSet<object>();

const isCallerError = (error: unknown): boolean =>
  findInChain(error, (e): e is object => typeof e === 'object' && e !== null && callerErrors.has(e)) !== undefined;

/**
 * Whether the standard `Request` constructor refuses the request's URL,
 * method or headers (asked only when an attempt failed with a `TypeError`).
 */
function isInvalidRequest(request: RequestFacts): boolean {
  if (typeof Request !== 'function') return false;
  try {
    const headers = request.init.headers;
    new Request(request.url, headers === undefined ? { method: request.method } : { method: request.method, headers });
    return false;
  } catch {
    return true;
  }
}

/** Everything a call shares: built once by `createFetch`. */
interface Shared {
  readonly fetch: FetchLike;
  readonly timeout: Timeout<Response>;
  readonly attemptTimeout: Timeout<Response>;
  readonly retry: Retry<Response> | undefined;
  readonly methods: ReadonlySet<string>;
  readonly breakers: OriginBreakers<CircuitBreaker<Response>> | undefined;
  readonly hedging: FetchHedging | undefined;
}

/** The state of one call of the resilient fetch; its methods are the steps of the pipeline, inside out. */
class Call {
  readonly #shared: Shared;
  readonly #input: string | URL | Request;
  readonly #request: RequestFacts;
  /** The controller of the attempt whose response was handed out (only with a caller's signal). */
  controller: AbortController | undefined = undefined;
  /** With hedging and a caller's signal: the controller of each response handed out (several attempts may answer). */
  controllers: WeakMap<Response, AbortController> | undefined = undefined;

  constructor(shared: Shared, input: string | URL | Request, request: RequestFacts) {
    this.#shared = shared;
    this.#input = input;
    this.#request = request;
  }

  /** Inside the overall timeout: the retry (when this request may be retried), or one attempt. */
  readonly overall = (ctx: ExecutionContext): Promise<Response> => {
    const shared = this.#shared;
    const request = this.#request;
    const retry = shared.retry;
    const retrying =
      retry !== undefined &&
      request.replayable &&
      (request.resilience?.idempotent ??
        (shared.methods.has(request.method) || hasIdempotencyKey(this.#input, request)));
    const hedging = shared.hedging;
    const attempt =
      hedging !== undefined &&
      request.replayable &&
      (request.resilience?.idempotent ??
        (hedging.methods.has(request.method) || hasIdempotencyKey(this.#input, request)))
        ? this.#hedgedAttempt(hedging)
        : this.attempt;
    const result = retrying ? retry.execute(attempt, ctx) : attempt(ctx);
    result.then(this.#arrived, ignore);
    return result;
  };

  /** The response of the work, in whichever order it and the call's rejection come. */
  #response: Response | undefined = undefined;
  /** Whether the call rejected (the caller aborted, the time ran out). */
  #rejected = false;

  /** The work answered: a response that arrives once the call has rejected is read by nobody. */
  readonly #arrived = (response: Response): void => {
    if (this.#rejected) discardResponse(response);
    else this.#response = response;
  };

  /** The call rejected: a response the work already gave is read by nobody. */
  rejected(): void {
    this.#rejected = true;
    const response = this.#response;
    this.#response = undefined;
    if (response !== undefined) discardResponse(response);
  }

  /** One attempt hedged: each of its requests goes through the origin's breaker and its own attempt timeout. */
  #hedgedAttempt(hedging: FetchHedging): (ctx: ExecutionContext) => Promise<Response> {
    if (this.#request.signal !== undefined) this.controllers = new WeakMap();
    return (ctx) => hedged(hedging.policy, this.attempt, ctx);
  }

  /** One attempt: through the origin's breaker, then the attempt's timeout. */
  readonly attempt = (ctx: ExecutionContext): Promise<Response> => {
    const breakers = this.#shared.breakers;
    if (breakers === undefined) return this.timed(ctx);
    const origin = this.#request.origin;
    const breaker = breakers.get(origin);
    // Kept while the attempt is in flight, so its outcome reaches the breaker the next request meets.
    breakers.enter(origin);
    let result: Promise<Response>;
    try {
      result = breaker.execute(this.timed, ctx);
    } catch (error) {
      breakers.leave(origin);
      throw error;
    }
    result.then(this.#left, this.#left);
    return result;
  };

  /** The attempt settled: its origin's breaker may be forgotten again. */
  readonly #left = (): void => {
    this.#shared.breakers?.leave(this.#request.origin);
  };

  /**
   * The attempt's timeout around the request. The overall deadline is not
   * passed on: when it ends the attempt, the overall timeout's signal aborts
   * it (a cancellation for the breaker, the overall `TimeoutError` for the
   * caller), and only the attempt's own limit counts as the origin failing.
   */
  readonly timed = (ctx: ExecutionContext): Promise<Response> => {
    const own = this.#request.resilience?.attemptTimeout;
    const options: TimeoutExecuteOptions =
      own === undefined
        ? { signal: ctx.signal, attempt: ctx.attempt }
        : { signal: ctx.signal, attempt: ctx.attempt, timeout: own };
    return this.#shared.attemptTimeout.execute(this.send, options);
  };

  /**
   * Sends the request once. With a caller's signal, the request gets a
   * controller of its own that follows the attempt's signal (timeouts, the
   * caller) and, once its response is handed out, the caller's signal alone,
   * so the caller can still cancel the body.
   */
  readonly send = (ctx: ExecutionContext): Promise<Response> => {
    const signal = ctx.signal;
    const request = this.#request;
    let controller: AbortController | undefined;
    let onAbort: (() => void) | undefined;
    let fetchSignal = signal;
    if (request.signal !== undefined) {
      const own = new AbortController();
      controller = own;
      onAbort = () => own.abort(signal.reason);
      if (signal.aborted) own.abort(signal.reason);
      else signal.addEventListener('abort', onAbort, { once: true });
      fetchSignal = own.signal;
    }
    const done = (): void => {
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    };
    let pending: Promise<Response>;
    try {
      pending = Promise.resolve(this.#shared.fetch(this.#input, { ...request.init, signal: fetchSignal }));
    } catch (error) {
      done();
      return Promise.reject(error);
    }
    return pending.then(
      (response) => {
        done();
        if (!isResponse(response)) {
          throw new TypeError(`${OWNER}: fetch returned ${describeValue(response)}, not a Response`);
        }
        // The attempt's time ran out (or the caller aborted) first: nobody reads this one.
        if (signal.aborted) discardResponse(response);
        else {
          this.controller = controller;
          if (controller !== undefined) this.controllers?.set(response, controller);
        }
        return response;
      },
      (error: unknown) => {
        done();
        if (error instanceof TypeError && isInvalidRequest(request)) callerErrors.add(error);
        throw error;
      },
    );
  };
}

/**
 * Whether the request carries an `Idempotency-Key` header (the IETF httpapi
 * draft): the server then answers a repeated request with the first answer,
 * so it is safe to retry whatever its method.
 */
function hasIdempotencyKey(input: string | URL | Request, request: RequestFacts): boolean {
  const headers = request.init.headers;
  try {
    // `init.headers` replaces a Request's headers on the wire: a key only on the Request is not sent then.
    if (headers !== undefined && headers !== null) return new Headers(headers).has('idempotency-key');
    const own = (input as { headers?: unknown }).headers;
    return own instanceof Headers && own.has('idempotency-key');
  } catch {
    return false; // headers the underlying fetch will refuse: not a reason to retry
  }
}

function stringArray(field: string, value: unknown, fallback: readonly string[]): ReadonlySet<string> {
  if (value === undefined) return new Set(fallback);
  if (!Array.isArray(value) || !value.every((m) => typeof m === 'string' && m !== '')) {
    throw new TypeError(`${OWNER}: ${field} must be an array of method names, got ${describeValue(value)}`);
  }
  return new Set(value.map((m: string) => m.toUpperCase()));
}

function statusSet(field: string, value: unknown, fallback: readonly number[]): ReadonlySet<number> {
  if (value === undefined) return new Set(fallback);
  if (!Array.isArray(value) || !value.every((s) => Number.isInteger(s) && s >= 100 && s <= 599)) {
    throw new TypeError(`${OWNER}: ${field} must be an array of status codes (100-599), got ${describeValue(value)}`);
  }
  return new Set(value as number[]);
}

/** The wait a 429 or 503 asks for in `Retry-After` (seconds or an HTTP date), else `undefined` (the backoff). */
function retryAfterHint(outcome: unknown): number | undefined {
  if (!isResponse(outcome) || (outcome.status !== 429 && outcome.status !== 503)) return undefined;
  const header = outcome.headers.get('retry-after');
  const ms = parseRetryAfter(header);
  // delay-seconds too long for a number is a very long wait (capped by maxDelay), not a missing hint.
  if (ms === undefined && header !== null && DIGITS.test(header)) return Number.POSITIVE_INFINITY;
  return ms;
}

const DIGITS = /^\s*\d+\s*$/;

function buildRetry(
  value: FetchRetryConfig | false | undefined,
  observability: { logger?: Logger },
  clock: CreateFetchOptions['clock'],
): { retry: Retry<Response> | undefined; methods: ReadonlySet<string> } {
  if (value === false) return { retry: undefined, methods: new Set() };
  const r = configObject(OWNER, value, 'retry');
  rejectUnknownOptions(`${OWNER} retry`, r, retryOptionNames);
  const methods = stringArray('retry.methods', r.methods, IDEMPOTENT_METHODS);
  const statuses = statusSet('retry.statuses', r.statuses, RETRY_STATUSES);
  const onRetry = functionOption(OWNER, 'retry.onRetry', r.onRetry);
  const logger = observability.logger;
  const config = {
    ...observability,
    clock,
    maxAttempts: r.maxAttempts,
    initialDelay: r.initialDelay,
    maxDelay: r.maxDelay,
    multiplier: r.multiplier,
    backoff: r.backoff,
    jitter: r.jitter ?? true,
    isRetryable: (error: unknown) => findInChain(error, isCircuitOpenError) === undefined && !isCallerError(error),
    retryOnResult: (response: Response) => statuses.has(response.status),
    delay: retryAfterHint,
    onRetry: (attempt: number, outcome: unknown, delayMs: number) => {
      discardResponse(outcome);
      if (onRetry === undefined) return;
      const returned: unknown = onRetry(attempt, outcome, delayMs);
      // A hook that returns a promise is not awaited; its rejection must not end the process.
      if (isThenable(returned)) {
        Promise.resolve(returned).then(undefined, (error: unknown) => {
          try {
            logger?.error('createFetch: retry.onRetry rejected', { err: error });
          } catch {
            // A logger that throws must not turn the hook's rejection into an unhandled one.
          }
        });
      }
    },
  };
  for (const key of Object.keys(config) as (keyof typeof config)[]) {
    if (config[key] === undefined) delete config[key];
  }
  return { retry: new Retry<Response>(config as RetryConfig<Response>), methods };
}

function buildBreakers(
  options: CreateFetchOptions,
  observability: { name: string },
  clock: CreateFetchOptions['clock'],
): OriginBreakers<CircuitBreaker<Response>> | undefined {
  const maxOrigins = numberOption(OWNER, 'maxOrigins', options.maxOrigins, 1000, { min: 1, integer: true });
  if (options.breaker === false) return undefined;
  const base = configObject(OWNER, options.breaker, 'breaker') as Record<string, unknown>;
  for (const key of ['handle', 'isFailureResult', 'clock', 'name', 'logger', 'tracer', 'metrics']) {
    if (key in base) {
      const hint =
        key === 'isFailureResult'
          ? 'use the failureStatuses option'
          : key === 'handle'
            ? 'use the failureStatuses option for responses, and breaker.isSuccessful or breaker.isIgnored for errors'
            : `set ${key} on createFetch's options`;
      throw new TypeError(`${OWNER}: breaker.${key} is set by createFetch; ${hint}`);
    }
  }
  const isFailureStatus = failureStatusOption(OWNER, options.failureStatuses);
  const ownIgnored = functionOption(
    OWNER,
    'breaker.isIgnored',
    base.isIgnored as ((error: unknown) => boolean) | undefined,
  );
  const config: CircuitBreakerConfig<Response> = {
    ...(base as CircuitBreakerConfig<Response>),
    isIgnored: (error) => isCallerError(error) || (ownIgnored !== undefined && ownIgnored(error) === true),
    ...(clock === undefined ? {} : { clock }),
    isFailureResult: (response) => isFailureStatus(response.status),
  };
  // Bad breaker settings throw now, not on the first request (no observability: no phantom metric series).
  new CircuitBreaker<Response>(config);
  const make = (origin: string): CircuitBreaker<Response> =>
    new CircuitBreaker<Response>({ ...config, ...observability, name: `${observability.name} ${origin}` });
  const now = clock === undefined ? () => performance.now() : () => clock.now();
  return new OriginBreakers(maxOrigins, make, now);
}

/**
 * Returns a `fetch`-compatible function for calling other services, with:
 *
 * - a circuit breaker per origin (at most `maxOrigins`, least recently used
 *   forgotten first, never an open one before its open time ends nor one
 *   with requests in flight); network
 *   errors, attempt timeouts and 5xx answers are failures, a 429 is not;
 * - retries with backoff and jitter for idempotent methods (GET, HEAD,
 *   OPTIONS, PUT, DELETE, TRACE), requests with an `Idempotency-Key` header
 *   and requests the caller marks `resilience: { idempotent: true }`, honouring `Retry-After` on 429 and
 *   503 (capped by `retry.maxDelay`); a streamed body is never retried; when
 *   retries run out on responses, the last `Response` is returned; the bodies
 *   of discarded responses are cancelled so their sockets are freed;
 * - an overall `timeout` and an `attemptTimeout`, through the core's
 *   deadlines (no retry starts that cannot end in time);
 * - on request, hedging (`hedging: { delay, maxHedges }`, the core's
 *   `Hedging`) of idempotent requests with a replayable body: a slow
 *   attempt gets an extra identical request, the first response wins and the
 *   others are aborted, their bodies cancelled.
 *
 * The caller's `signal` cancels everything, the body included. A call
 * rejects with the caller's abort reason, a `TimeoutError`, a
 * `CircuitOpenError` (with `retryAfterMs`), the network error of a request
 * that is not retried, or a `MaxAttemptsReachedError` whose `cause` is the
 * last network error.
 *
 * @param options - the wrapped `fetch`, breaker, retry and timeouts; bad
 *   values throw a `TypeError` or `RangeError` naming the option
 * @example
 * ```ts
 * import { createFetch } from '@resilience/fetch';
 *
 * const fetch = createFetch({ timeout: 5_000, attemptTimeout: 2_000, retry: { maxAttempts: 3 } });
 * const res = await fetch('https://api.example.com/users/42');
 * ```
 */
export function createFetch(options?: CreateFetchOptions): ResilientFetch {
  const o = configObject(OWNER, options, 'options');
  rejectUnknownOptions(OWNER, o, optionNames);
  const fetchImpl = functionOption(OWNER, 'fetch', o.fetch) ?? (globalThis.fetch as FetchLike | undefined);
  if (typeof fetchImpl !== 'function') {
    throw new TypeError(`${OWNER}: no global fetch on this runtime; pass one as the fetch option`);
  }
  const clock = o.clock === undefined ? undefined : clockOption(OWNER, o.clock);
  const name = o.name ?? 'fetch';
  if (typeof name !== 'string') throw new TypeError(`${OWNER}: name must be a string, got ${describeValue(name)}`);
  const observability = {
    name,
    ...(o.logger === undefined ? {} : { logger: o.logger }),
    ...(o.tracer === undefined ? {} : { tracer: o.tracer }),
    ...(o.metrics === undefined ? {} : { metrics: o.metrics }),
  };
  const timeoutRule = { min: 0, minExclusive: true, allowInfinity: true };
  const clockConfig = clock === undefined ? {} : { clock };
  const { retry, methods } = buildRetry(o.retry, observability, clock);
  const shared: Shared = {
    fetch: fetchImpl,
    timeout: new Timeout<Response>({
      ...observability,
      ...clockConfig,
      defaultTimeout: numberOption(OWNER, 'timeout', o.timeout, 30_000, timeoutRule),
    }),
    attemptTimeout: new Timeout<Response>({
      ...observability,
      ...clockConfig,
      name: `${name}.attempt`,
      defaultTimeout: numberOption(OWNER, 'attemptTimeout', o.attemptTimeout, 10_000, timeoutRule),
    }),
    retry,
    methods,
    breakers: buildBreakers(o, observability, clock),
    hedging: buildHedging(o.hedging, observability, clock),
  };
  return async (input: string | URL | Request, init?: ResilientRequestInit): Promise<Response> => {
    const request = readRequest(input, init);
    const caller = request.signal;
    if (caller?.aborted) throw caller.reason;
    const call = new Call(shared, input, request);
    const own = request.resilience?.timeout;
    let response: Response;
    try {
      response = await shared.timeout.execute(call.overall, {
        signal: caller,
        ...(own === undefined ? {} : { timeout: own }),
      });
    } catch (error) {
      call.rejected();
      throw error;
    }
    const controller = call.controllers?.get(response) ?? call.controller;
    if (caller !== undefined && controller !== undefined) followSignal(caller, controller);
    return response;
  };
}
