import {
  Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerListener,
  status as Status,
  type StatusObject,
} from '@grpc/grpc-js';
import { isBulkheadFullError, isRateLimitExceededError, type RateLimitResult } from '@resilience/core';
import { booleanOption, describeValue, functionOption, requireMethod } from '@resilience/core/validate';
import { addressKey, isThenable } from '@resilience/http';
import { logError, loggerOption } from './internal/log.js';
import { optionsObject } from './internal/options.js';
import { type BulkheadLike, isResult, retryAfterOption } from './internal/shapes.js';
import { PUSHBACK_KEY, waitText } from './internal/status.js';
import type { RateLimiterForInterceptor } from './rate-limit.js';
import type {
  BulkheadServerInterceptorOptions,
  RateLimitServerInterceptorOptions,
  ServerKeyFunction,
} from './types.js';

/** The status a server interceptor answers with, as grpc-js's `sendStatus` takes it. */
type PartialStatus = Pick<StatusObject, 'code' | 'details'> & { metadata?: Metadata };

function answer(code: Status, details: string, retryAfterMs: number | undefined): PartialStatus {
  const metadata = new Metadata();
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    metadata.set(PUSHBACK_KEY, String(Math.ceil(retryAfterMs)));
  }
  return { code, details, metadata };
}

/** The peer's IP address, without the port. */
export function peerAddress(call: ServerInterceptingCallInterface): string {
  const info = typeof call.getConnectionInfo === 'function' ? call.getConnectionInfo() : undefined;
  if (info?.remoteAddress !== undefined) return info.remoteAddress;
  const peer = call.getPeer();
  const colon = peer.lastIndexOf(':');
  return colon > 0 ? peer.slice(0, colon) : peer;
}

const defaultServerKey = (call: ServerInterceptingCallInterface): string => addressKey(peerAddress(call));

function methodsOption(owner: string, value: unknown): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((m) => typeof m === 'string' && m.startsWith('/'))) {
    throw new TypeError(
      `${owner}: methods must be an array of full method paths ("/package.Service/Method"), got ${describeValue(value)}`,
    );
  }
  return new Set(value as string[]);
}

const RATE_OWNER = 'rateLimitServerInterceptor';

/**
 * A grpc-js server interceptor that spends a rate limiter's token on every
 * incoming call before its handler runs. Without a token the call is answered
 * `RESOURCE_EXHAUSTED` (details naming the method, trailing
 * `grpc-retry-pushback-ms` with the wait) and the handler never runs. The key
 * is the peer's IP address (an IPv6 address by its /56 network, as one
 * client often holds a whole /64) unless `key` chooses one from the call's
 * metadata, peer and method. Works with a limiter whose `consume` returns a promise (a
 * distributed limiter); a limiter that fails lets calls through
 * (`failOpen`, default) or answers `UNAVAILABLE`.
 *
 * @param limiter - a core `RateLimiter` (or anything with its `consume`)
 * @param options - the key, the methods to limit, what a failing limiter does
 * @returns a grpc-js server interceptor (grpc-js >= 1.10)
 * @example
 * ```ts
 * const server = new Server({
 *   interceptors: [rateLimitServerInterceptor(new RateLimiter({ rate: 50, interval: 1_000 }), {
 *     key: (metadata, peer) => String(metadata.get('x-api-key')[0] ?? peer),
 *   })],
 * });
 * ```
 */
export function rateLimitServerInterceptor(
  limiter: Pick<RateLimiterForInterceptor, 'consume'>,
  options?: RateLimitServerInterceptorOptions,
): ServerInterceptor {
  requireMethod(RATE_OWNER, 'limiter', limiter, 'consume');
  const opts = optionsObject(RATE_OWNER, options, ['key', 'methods', 'failOpen', 'logger']);
  const logger = loggerOption(RATE_OWNER, opts.logger);
  const key: ServerKeyFunction | undefined = functionOption(RATE_OWNER, 'key', opts.key);
  const methods = methodsOption(RATE_OWNER, opts.methods);
  const failOpen = booleanOption(RATE_OWNER, 'failOpen', opts.failOpen, true);

  return (descriptor, call) => {
    const path = descriptor.path;
    if (methods !== undefined && !methods.has(path)) return new ServerInterceptingCall(call);
    const decide = (result: RateLimitResult, metadata: Metadata, next: (metadata: Metadata) => void): void => {
      if (!isResult(result)) {
        const err = new TypeError(
          `${RATE_OWNER}: the limiter answered ${describeValue(result)}, not a RateLimitResult`,
        );
        failed(err, metadata, next);
        return;
      }
      if (result.allowed) next(metadata);
      else call.sendStatus(limited(path, result.retryAfterMs));
    };
    const failed = (err: unknown, metadata: Metadata, next: (metadata: Metadata) => void): void => {
      if (isRateLimitExceededError(err)) {
        call.sendStatus(limited(path, (err as { retryAfterMs?: number }).retryAfterMs));
      } else {
        logError(logger, 'rate limiter failed', { err, method: path, failOpen });
        if (failOpen) {
          next(metadata);
          return;
        }
        const message = err instanceof Error ? err.message : String(err);
        call.sendStatus(answer(Status.UNAVAILABLE, `Rate limiter failed: ${message}`, undefined));
      }
    };
    const listener: ServerListener = {
      onReceiveMetadata: (metadata, next) => {
        let k: string | undefined;
        // The key function is the application's code: when it throws or answers something that is not a key, the
        // call is answered INTERNAL, whatever failOpen says (failing open would let every such call past the limit).
        try {
          k = key === undefined ? defaultServerKey(call) : key(metadata, call.getPeer(), path);
          if (k !== undefined && typeof k !== 'string') {
            throw new TypeError(
              `${RATE_OWNER}: key(metadata, peer, method) must return a string or undefined, got ${describeValue(k)}`,
            );
          }
        } catch (err) {
          logError(logger, 'rate-limit key function failed', { err, method: path });
          const message = err instanceof Error ? err.message : String(err);
          call.sendStatus(answer(Status.INTERNAL, `Rate-limit key failed: ${message}`, undefined));
          return;
        }
        try {
          const result = limiter.consume(k);
          if (!isThenable(result)) {
            decide(result, metadata, next);
            return;
          }
          result.then(
            (r) => decide(r, metadata, next),
            (err: unknown) => failed(err, metadata, next),
          );
        } catch (err) {
          failed(err, metadata, next);
        }
      },
    };
    return new ServerInterceptingCall(call, { start: (next) => next(listener) });
  };
}

function limited(path: string, retryAfterMs: number | undefined): PartialStatus {
  return answer(
    Status.RESOURCE_EXHAUSTED,
    `Rate limit exceeded: ${path} not handled${waitText(retryAfterMs)}`,
    retryAfterMs,
  );
}

const BULKHEAD_OWNER = 'bulkheadServerInterceptor';

/** Chooses the bulkhead of an incoming call (`undefined`: the call is not limited). */
export type BulkheadSelector = (metadata: Metadata, peer: string, method: string) => BulkheadLike | undefined;

/**
 * A grpc-js server interceptor that bounds how many calls are handled at once
 * with a bulkhead: a call takes a slot before its handler runs and holds it
 * until its status is sent (or the client cancels). Calls beyond
 * `maxConcurrent` wait in the bulkhead's queue (a client that cancels leaves
 * it at once); when it is full, the call is answered `UNAVAILABLE` (trailing
 * `grpc-retry-pushback-ms`) and the handler never runs.
 *
 * Pass a function instead of a bulkhead to choose one per call from its
 * metadata, peer and method (a bulkhead per tenant or per method).
 *
 * @param bulkhead - a core `Bulkhead`, or a function choosing one per call
 * @param options - the methods to limit and the suggested wait
 * @returns a grpc-js server interceptor (grpc-js >= 1.10)
 * @example
 * ```ts
 * const server = new Server({
 *   interceptors: [bulkheadServerInterceptor(new Bulkhead({ maxConcurrent: 100, maxQueue: 200, queueTimeout: 1_000 }))],
 * });
 * ```
 */
export function bulkheadServerInterceptor(
  bulkhead: BulkheadLike | BulkheadSelector,
  options?: BulkheadServerInterceptorOptions,
): ServerInterceptor {
  if (typeof bulkhead !== 'function') requireMethod(BULKHEAD_OWNER, 'bulkhead', bulkhead, 'execute');
  const opts = optionsObject(BULKHEAD_OWNER, options, ['methods', 'retryAfter']);
  const methods = methodsOption(BULKHEAD_OWNER, opts.methods);
  const retryAfter = retryAfterOption(BULKHEAD_OWNER, opts.retryAfter);
  const select = typeof bulkhead === 'function' ? bulkhead : undefined;

  return (descriptor, call) => {
    const path = descriptor.path;
    if (methods !== undefined && !methods.has(path)) return new ServerInterceptingCall(call);
    let release: (() => void) | undefined;
    let ended = false;
    let controller: AbortController | undefined;
    const end = (): void => {
      ended = true;
      const r = release;
      release = undefined;
      r?.();
    };
    const listener: ServerListener = {
      onReceiveMetadata: (metadata, next) => {
        let chosen: BulkheadLike | undefined;
        try {
          chosen = select === undefined ? (bulkhead as BulkheadLike) : select(metadata, call.getPeer(), path);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          call.sendStatus(answer(Status.INTERNAL, `Choosing the bulkhead failed: ${message}`, undefined));
          return;
        }
        if (chosen === undefined) {
          next(metadata);
          return;
        }
        if (chosen === null || typeof (chosen as Partial<BulkheadLike>).execute !== 'function') {
          const details = `Choosing the bulkhead failed: the selector must return a bulkhead (with execute) or undefined, got ${describeValue(chosen)}`;
          call.sendStatus(answer(Status.INTERNAL, details, undefined));
          return;
        }
        controller = new AbortController();
        let started = false;
        const run = (): Promise<void> | undefined => {
          started = true;
          if (ended) return undefined;
          next(metadata);
          if (ended) return undefined;
          return new Promise<void>((resolve) => {
            release = resolve;
          });
        };
        const refused = (err: unknown): void => {
          if (ended) return;
          if (isBulkheadFullError(err)) {
            call.sendStatus(
              answer(Status.UNAVAILABLE, `Bulkhead full: ${path} not handled${waitText(retryAfter)}`, retryAfter),
            );
          } else {
            const message = err instanceof Error ? err.message : String(err);
            call.sendStatus(answer(Status.UNAVAILABLE, `Bulkhead failed: ${message}`, undefined));
          }
        };
        // A bulkhead that throws, or answers something that is not a promise, fails the call instead of the server.
        let result: unknown;
        try {
          result = chosen.execute(run, { signal: controller.signal });
          if (!isThenable(result)) {
            throw new TypeError(`${BULKHEAD_OWNER}: bulkhead.execute returned ${describeValue(result)}, not a promise`);
          }
        } catch (err) {
          refused(err);
          return;
        }
        (result as PromiseLike<unknown>).then(() => {
          // A bulkhead that settled without running the call would leave it unanswered.
          if (!started) refused(new Error(`${BULKHEAD_OWNER}: the bulkhead settled without running the call`));
        }, refused);
      },
      onCancel: () => {
        if (release === undefined && !ended) controller?.abort(new Error('Cancelled by the client'));
        end();
      },
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next(listener),
      sendStatus: (status, next) => {
        end();
        next(status);
      },
    });
  };
}
