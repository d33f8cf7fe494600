import { isTimeoutError, type Policy } from '@resilience/core';
import { configObject } from '@resilience/core/validate';
import { defaultBodies, rejectUnknownOptions, timeoutOptionHints, timeoutPolicy } from '@resilience/http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { restoreHeaders, runGuarded, silenceResponse, snapshotHeaders } from './internal/guard.js';
import { Rejection } from './internal/respond.js';
import { statusOption } from './internal/status.js';
import type { TimeoutMiddlewareOptions } from './types.js';

const OWNER = 'timeout';

/**
 * Gives every request a time limit. The handler gets an `AbortSignal` at
 * `req.signal` that aborts when the time is up or the client disconnects;
 * pass it to whatever it awaits (`fetch(url, { signal: req.signal })`).
 * When the time is up and nothing was sent yet, the middleware answers 503
 * (set `statusCode: 504` if you prefer) and any later answer from the
 * handler writes nothing: no `ERR_HTTP_HEADERS_SENT`, no crash. The timeout
 * answer carries only the headers set before this middleware ran (the
 * handler's `Cache-Control`, `Content-Encoding`, `Set-Cookie`... are
 * removed), and its status stays what `res.statusCode` reports afterwards.
 * When the request's body has not fully arrived (a slow upload, a client
 * trickling bytes), the answer carries `Connection: close` and the
 * connection is closed once it is sent, instead of being held open while
 * Node reads and discards the rest of the body.
 * When the handler had already started answering, the response is left to it.
 *
 * @param msOrTimeout - milliseconds, or a core `Timeout` (or any policy whose
 *   `execute` rejects with a `TimeoutError`) for its clock, hooks and telemetry
 * @param options - rejection status and body
 * @example
 * ```ts
 * app.get('/report', timeout(2_000), async (req, res) => {
 *   const data = await fetch(reportUrl, { signal: req.signal });
 *   res.json(await data.json());
 * });
 * ```
 */
export function timeout(msOrTimeout: number | Policy, options?: TimeoutMiddlewareOptions): RequestHandler {
  const policy = timeoutPolicy(OWNER, msOrTimeout);
  const opts = configObject(OWNER, options, 'options');
  rejectUnknownOptions(OWNER, opts, ['statusCode', 'body'], timeoutOptionHints);
  const rejection = new Rejection(statusOption(OWNER, opts.statusCode, 503), opts.body, defaultBodies.timeout, OWNER);

  return (req: Request, res: Response, next: NextFunction): void => {
    // The headers the chain set before this middleware (CORS, rate-limit headers...) stay on a timeout answer.
    const before = snapshotHeaders(res);
    const answer = (err: unknown): void => {
      if (res.headersSent) return;
      restoreHeaders(res, before);
      // A client still sending its body (a slow upload, a trickle) would keep the connection: Node reads
      // and discards the rest to reuse it. Closing it after the answer frees the socket now.
      if (!req.complete) res.setHeader('Connection', 'close');
      rejection.send(req, res, err);
      silenceResponse(res);
    };
    runGuarded(
      OWNER,
      policy,
      req,
      res,
      next,
      (err) => {
        if (!isTimeoutError(err)) return false;
        answer(err);
        return true;
      },
      (signal) => {
        // Answer inside the abort dispatch, before a handler that listens to the signal can answer first.
        signal.addEventListener(
          'abort',
          () => {
            if (isTimeoutError(signal.reason)) answer(signal.reason);
          },
          { once: true },
        );
      },
    );
  };
}
