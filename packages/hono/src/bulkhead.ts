import { isBulkheadFullError, type Policy } from '@resilience/core';
import { configObject, requireMethod } from '@resilience/core/validate';
import {
  bulkheadOptionHints,
  defaultBodies,
  Rejection,
  rejectUnknownOptions,
  retryAfterOption,
  statusOption,
} from '@resilience/http';
import type { Context, MiddlewareHandler } from 'hono';
import { goneResponse, rejectionResponse } from './internal/respond.js';
import { setSignal, signalOf } from './internal/signal.js';
import type { BulkheadOptions, ResilienceEnv } from './types.js';

const OWNER = 'bulkhead';
const OPTIONS = ['retryAfter', 'statusCode', 'body'] as const;

/**
 * Limits how many requests run at once with a core `Bulkhead`: a request
 * holds a slot while the rest of the chain runs (until the handler has
 * returned its `Response`; a streamed body goes on after the slot is freed).
 * Requests beyond `maxConcurrent` wait in the bulkhead's queue (a client
 * that disconnects leaves it at once); when the queue is full or the wait
 * runs out, the answer is 503 with `Retry-After`. `c.var.signal` aborts when
 * the client disconnects (or an outer `timeout()` fires).
 *
 * @param bh - a core `Bulkhead` (or any policy whose `execute` rejects with a `BulkheadFullError`)
 * @param options - `Retry-After` seconds, rejection status and body
 * @example
 * ```ts
 * app.use('/search/*', bulkhead(new Bulkhead({ maxConcurrent: 20, maxQueue: 50, queueTimeout: 1_000 })));
 * ```
 */
export function bulkhead(bh: Policy, options?: BulkheadOptions): MiddlewareHandler<ResilienceEnv> {
  requireMethod(OWNER, 'bh', bh, 'execute');
  const opts = configObject(OWNER, options, 'options');
  rejectUnknownOptions(OWNER, opts, OPTIONS, bulkheadOptionHints);
  const retryAfterSeconds = retryAfterOption(OWNER, opts.retryAfter);
  const rejection = new Rejection<Context>(
    statusOption(OWNER, opts.statusCode, 503),
    opts.body,
    defaultBodies.overloaded,
    OWNER,
  );

  return async (c, next) => {
    const caller = signalOf(c);
    try {
      await bh.execute(
        (ctx) => {
          setSignal(c, ctx.signal);
          return next();
        },
        { signal: caller },
      );
    } catch (err) {
      if (isBulkheadFullError(err)) return rejectionResponse(rejection, c, err, retryAfterSeconds);
      // Aborted while queued: the client left, or an outer timeout() has answered already.
      if (caller.aborted && err === caller.reason) return goneResponse();
      throw err;
    }
    return undefined;
  };
}
