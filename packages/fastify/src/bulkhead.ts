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
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { asPlugin } from './internal/plugin.js';
import { sendRejection } from './internal/reply.js';
import { runGuarded } from './internal/signal.js';
import type { BulkheadOptions, ResiliencePlugin } from './types.js';

const OWNER = 'bulkhead';
const OPTIONS = ['retryAfter', 'statusCode', 'body'] as const;

/**
 * Limits how many requests run at once with a core `Bulkhead`: a request
 * holds a slot from `onRequest` until its response is over (finished, or the
 * client gone). Requests beyond `maxConcurrent` wait in the bulkhead's queue
 * (a client that disconnects leaves it at once); when the queue is full or
 * the wait runs out, the answer is 503 with `Retry-After`. `request.signal`
 * aborts when the client disconnects (or an outer `timeout()` fires).
 *
 * @param bh - a core `Bulkhead` (or any policy whose `execute` rejects with a `BulkheadFullError`)
 * @param options - `Retry-After` seconds, rejection status and body
 * @example
 * ```ts
 * await app.register(bulkhead(new Bulkhead({ maxConcurrent: 20, maxQueue: 50, queueTimeout: 1_000 })));
 * ```
 */
export function bulkhead(bh: Policy, options?: BulkheadOptions): ResiliencePlugin {
  requireMethod(OWNER, 'bh', bh, 'execute');
  const opts = configObject(OWNER, options, 'options');
  rejectUnknownOptions(OWNER, opts, OPTIONS, bulkheadOptionHints);
  const retryAfterSeconds = retryAfterOption(OWNER, opts.retryAfter);
  const rejection = new Rejection<FastifyRequest>(
    statusOption(OWNER, opts.statusCode, 503),
    opts.body,
    defaultBodies.overloaded,
    OWNER,
  );

  const onRequest: onRequestHookHandler = (request, reply, done) => {
    runGuarded(OWNER, bh, request, reply, done, (err) => {
      if (!isBulkheadFullError(err)) return false;
      sendRejection(rejection, request, reply, err, retryAfterSeconds);
      return true;
    });
  };

  return asPlugin(OWNER, { onRequest });
}
