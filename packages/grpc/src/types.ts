import type { Metadata, status } from '@grpc/grpc-js';
import type { Logger } from '@resilience/core';

/**
 * Chooses the rate-limit key of an outgoing call from its request metadata
 * and method path (`/package.Service/Method`); `undefined` uses the limiter's
 * shared bucket.
 */
export type ClientKeyFunction = (metadata: Metadata, method: string) => string | undefined;

/**
 * Chooses the key of an incoming call from its request metadata, the peer
 * (`127.0.0.1:51234`, as grpc-js's `getPeer()` reports it: address and port)
 * and the method path; `undefined` uses the shared bucket.
 */
export type ServerKeyFunction = (metadata: Metadata, peer: string, method: string) => string | undefined;

/** Options of {@link circuitBreakerInterceptor}. */
export interface CircuitBreakerInterceptorOptions {
  /**
   * The final status codes that count as failures of the dependency; every
   * other code is a success (the server answered). Numbers of grpc-js's `status`.
   * @default [UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN, DATA_LOSS]
   */
  failureCodes?: readonly status[];
}

/** Options of {@link retryInterceptor}. */
export interface RetryInterceptorOptions {
  /**
   * The final status codes that may be retried (the `Retry`'s limits, backoff
   * and budget still apply). Numbers of grpc-js's `status`.
   * @default [UNAVAILABLE]
   */
  retryableCodes?: readonly status[];
  /**
   * Also retry the rejections our own interceptors generate further in (an
   * open circuit, a full bulkhead, a rate limit), honouring their
   * `grpc-retry-pushback-ms`. Off by default: retrying into an open breaker
   * defeats it.
   * @default false
   */
  retryRejections?: boolean;
  /**
   * How many request messages of a client-streaming or bidi call are kept for
   * replay. A call that sends more is committed: it is not retried any more.
   * (A unary or server-streaming call's single request is always kept.)
   * @default 64
   */
  maxBufferedMessages?: number;
}

/** Options of {@link rateLimitInterceptor}. */
export interface RateLimitInterceptorOptions {
  /**
   * Whose budget a call spends. A key function that throws or returns
   * anything but a string or `undefined` ends the call with `INTERNAL`
   * (never through `failOpen`).
   * @default every call shares the limiter's default bucket
   */
  key?: ClientKeyFunction;
  /**
   * How long a call may wait for a token, in ms (through the limiter's
   * `wait`); 0 decides at once (through `consume`).
   * @default 0
   */
  maxWait?: number;
  /**
   * When the limiter throws or rejects (a distributed limiter whose store is
   * down): `true` lets the call through, `false` ends it with `UNAVAILABLE`.
   * @default false
   */
  failOpen?: boolean;
  /**
   * Where a failing limiter is logged (`error`, with `err` and `method`).
   * @default none
   */
  logger?: Logger;
}

/** Options of {@link bulkheadInterceptor}. */
export interface BulkheadInterceptorOptions {
  /**
   * The wait suggested to the client in `grpc-retry-pushback-ms` when the
   * bulkhead is full, in ms; `false` sends none.
   * @default 1000
   */
  retryAfter?: number | false;
}

/** Options of {@link rateLimitServerInterceptor}. */
export interface RateLimitServerInterceptorOptions {
  /**
   * Whose budget a call spends, from its metadata, peer and method. Behind a
   * proxy, read the client's identity from metadata instead of the peer. A
   * key function that throws or returns anything but a string or `undefined`
   * is answered `INTERNAL`, never let through (`failOpen` is for the limiter).
   * @default the peer's IP address, the port left out (an IPv6 address by its /56 network)
   */
  key?: ServerKeyFunction;
  /**
   * Only calls of these methods (full paths, `/package.Service/Method`) are limited.
   * @default every method
   */
  methods?: readonly string[];
  /**
   * When the limiter throws or rejects: `true` lets the call through, `false`
   * answers `UNAVAILABLE`.
   * @default true
   */
  failOpen?: boolean;
  /**
   * Where a failing limiter is logged (`error`, with `err` and `method`).
   * @default none
   */
  logger?: Logger;
}

/** Options of {@link bulkheadServerInterceptor}. */
export interface BulkheadServerInterceptorOptions {
  /**
   * Only calls of these methods (full paths, `/package.Service/Method`) are limited.
   * @default every method
   */
  methods?: readonly string[];
  /**
   * The wait suggested to the client in `grpc-retry-pushback-ms` when the
   * bulkhead is full, in ms; `false` sends none.
   * @default 1000
   */
  retryAfter?: number | false;
}
