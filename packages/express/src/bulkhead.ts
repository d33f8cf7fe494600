import { isBulkheadFullError, type Policy } from '@resilience/core';
import { configObject, requireMethod } from '@resilience/core/validate';
import { bulkheadOptionHints, defaultBodies, rejectUnknownOptions, retryAfterOption } from '@resilience/http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { runGuarded } from './internal/guard.js';
import { Rejection } from './internal/respond.js';
import { statusOption } from './internal/status.js';
import type { BulkheadMiddlewareOptions } from './types.js';

const OWNER = 'bulkhead';

/**
 * Limits how many requests run at once with a core `Bulkhead`: a request
 * holds a slot from `next()` until its response is over (finished, or the
 * client gone). Requests beyond `maxConcurrent` wait in the bulkhead's queue
 * (a client that disconnects leaves it at once); when the queue is full or
 * the wait runs out, the middleware answers 503 with `Retry-After`.
 * `req.signal` aborts when the client disconnects (or when an outer
 * `timeout()` fires).
 *
 * @param bh - a core `Bulkhead` (or any policy whose `execute` rejects with a `BulkheadFullError`)
 * @param options - `Retry-After` seconds, rejection status and body
 * @example
 * ```ts
 * app.use('/search', bulkhead(new Bulkhead({ maxConcurrent: 20, maxQueue: 50, queueTimeout: 1_000 })));
 * ```
 */
export function bulkhead(bh: Policy, options?: BulkheadMiddlewareOptions): RequestHandler {
  requireMethod(OWNER, 'bh', bh, 'execute');
  const opts = configObject(OWNER, options, 'options');
  rejectUnknownOptions(OWNER, opts, ['retryAfter', 'statusCode', 'body'], bulkheadOptionHints);
  const retryAfterSeconds = retryAfterOption(OWNER, opts.retryAfter);
  const rejection = new Rejection(
    statusOption(OWNER, opts.statusCode, 503),
    opts.body,
    defaultBodies.overloaded,
    OWNER,
  );

  return (req: Request, res: Response, next: NextFunction): void => {
    runGuarded(OWNER, bh, req, res, next, (err) => {
      if (!isBulkheadFullError(err)) return false;
      rejection.send(req, res, err, retryAfterSeconds);
      return true;
    });
  };
}
