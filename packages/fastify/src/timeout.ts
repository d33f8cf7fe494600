import { isTimeoutError, type Policy } from '@resilience/core';
import { configObject } from '@resilience/core/validate';
import {
  defaultBodies,
  Rejection,
  rejectUnknownOptions,
  statusOption,
  timeoutOptionHints,
  timeoutPolicy,
} from '@resilience/http';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { asPlugin } from './internal/plugin.js';
import { sendRejection } from './internal/reply.js';
import { runGuarded } from './internal/signal.js';
import type { ResiliencePlugin, TimeoutOptions } from './types.js';

const OWNER = 'timeout';
const OPTIONS = ['statusCode', 'body'] as const;

type HeaderSnapshot = ReadonlyArray<readonly [string, unknown]>;

/** The headers set on the reply so far, copied. */
function snapshotHeaders(reply: FastifyReply): HeaderSnapshot {
  const headers = reply.getHeaders();
  const out: Array<readonly [string, unknown]> = [];
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) out.push([name, Array.isArray(value) ? [...value] : value]);
  }
  return out;
}

/** Puts the reply back to the headers of `snapshot` (a handler's headers must not go out with our answer). */
function restoreHeaders(reply: FastifyReply, snapshot: HeaderSnapshot): void {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
  for (const [name, value] of snapshot) reply.header(name, value);
}

/** Pins the status of the answer that was sent, so a late `reply.code(200)` cannot change what a breaker reads. */
function pinStatus(reply: FastifyReply): void {
  const statusCode = reply.raw.statusCode;
  Object.defineProperty(reply.raw, 'statusCode', {
    configurable: true,
    enumerable: true,
    get: () => statusCode,
    set: () => {},
  });
}

/**
 * Gives every request a time limit, from `onRequest` on (so reading the
 * body counts too). The request gets an `AbortSignal` as `request.signal`
 * that aborts when the time is up (reason: a `TimeoutError`) or the client
 * disconnects; pass it to whatever the handler awaits. When the time is up
 * and nothing was sent yet, the answer is 503 (set `statusCode: 504` if you
 * prefer) carrying only the headers set before this hook ran, with
 * `Connection: close` when the request's body had not fully arrived. A late
 * answer from the handler writes nothing: a value an `async` handler returns
 * is dropped, and an explicit late `reply.send()` gets Fastify's own
 * "Reply was already sent" warning. A handler that had started answering is
 * left to finish.
 *
 * `request.signal` is an own property of the request, shadowing Fastify's
 * (which aborts only when the client goes away).
 *
 * @param msOrTimeout - milliseconds, or a core `Timeout` (or any policy whose
 *   `execute` rejects with a `TimeoutError`) for its clock, hooks and telemetry
 * @param options - rejection status and body
 * @example
 * ```ts
 * app.get('/report', { ...timeout(2_000).hooks }, async (request) => {
 *   const data = await fetch(reportUrl, { signal: request.signal });
 *   return data.json();
 * });
 * ```
 */
export function timeout(msOrTimeout: number | Policy, options?: TimeoutOptions): ResiliencePlugin {
  const policy = timeoutPolicy(OWNER, msOrTimeout);
  const opts = configObject(OWNER, options, 'options');
  rejectUnknownOptions(OWNER, opts, OPTIONS, timeoutOptionHints);
  const rejection = new Rejection<FastifyRequest>(
    statusOption(OWNER, opts.statusCode, 503),
    opts.body,
    defaultBodies.timeout,
    OWNER,
  );

  /** Answers a timed-out request, once, unless the handler had started answering. */
  const answer = (request: FastifyRequest, reply: FastifyReply, before: HeaderSnapshot, err: unknown): void => {
    if (reply.sent || reply.raw.headersSent) return;
    restoreHeaders(reply, before);
    // A client still sending its body would keep the connection while Node discards the rest.
    if (!request.raw.complete) reply.header('Connection', 'close');
    sendRejection(rejection, request, reply, err);
    pinStatus(reply);
    // A value the handler returns later is dropped silently (Fastify skips hijacked replies).
    reply.hijack();
  };

  const onRequest: onRequestHookHandler = (request, reply, done) => {
    // The headers the chain set before this hook (CORS, rate-limit headers...) stay on a timeout answer.
    const before = snapshotHeaders(reply);
    runGuarded(
      OWNER,
      policy,
      request,
      reply,
      done,
      (err) => {
        if (!isTimeoutError(err)) return false;
        answer(request, reply, before, err);
        return true;
      },
      (signal) => {
        // Answer inside the abort dispatch, before a handler that listens to the signal can answer first.
        signal.addEventListener(
          'abort',
          () => {
            if (isTimeoutError(signal.reason)) answer(request, reply, before, signal.reason);
          },
          { once: true },
        );
      },
    );
  };

  return asPlugin(OWNER, { onRequest });
}
