import { isTimeoutError, type Policy, Timeout } from '@resilience/core';
import { configObject, describeValue, requireMethod } from '@resilience/core/validate';
import { Rejection, rejectUnknownOptions, statusOption } from '@resilience/http';
import type { Context, MiddlewareHandler } from 'hono';
import { goneResponse } from './internal/respond.js';
import { setSignal, signalOf } from './internal/signal.js';
import type { ResilienceEnv, TimeoutOptions } from './types.js';

const OWNER = 'timeout';
const OPTIONS = ['statusCode', 'body'] as const;

const defaultBody = Object.freeze({ error: 'timeout', message: 'The request took too long to process.' });

function toPolicy(msOrTimeout: number | Policy): Policy {
  if (typeof msOrTimeout === 'number') {
    if (!Number.isFinite(msOrTimeout) || msOrTimeout <= 0) {
      throw new RangeError(`${OWNER}: ms must be a finite number > 0, got ${describeValue(msOrTimeout)}`);
    }
    return new Timeout({ defaultTimeout: msOrTimeout });
  }
  requireMethod(OWNER, 'msOrTimeout', msOrTimeout, 'execute');
  return msOrTimeout;
}

const ignore = (): void => {};

/**
 * Gives every request a time limit. The handler gets an `AbortSignal` as
 * `c.var.signal` (also `signalOf(c)`) that aborts when the time is up
 * (reason: a `TimeoutError`) or the client disconnects (`c.req.raw.signal`);
 * pass it to whatever it awaits. When the time is up, the answer is 503
 * (set `statusCode: 504` if you prefer), given inside the abort, before a
 * handler listening to the signal can answer; it carries the headers set
 * before this middleware ran and none the handler set, and whatever the
 * handler returns later goes nowhere.
 *
 * @param msOrTimeout - milliseconds, or a core `Timeout` (or any policy whose
 *   `execute` rejects with a `TimeoutError`) for its clock, hooks and telemetry
 * @param options - rejection status and body
 * @example
 * ```ts
 * app.get('/report', timeout(2_000), async (c) => {
 *   const res = await fetch(reportUrl, { signal: c.var.signal });
 *   return c.json(await res.json());
 * });
 * ```
 */
export function timeout(msOrTimeout: number | Policy, options?: TimeoutOptions): MiddlewareHandler<ResilienceEnv> {
  const policy = toPolicy(msOrTimeout);
  const opts = configObject(OWNER, options, 'options');
  rejectUnknownOptions(OWNER, opts, OPTIONS);
  const rejection = new Rejection<Context>(statusOption(OWNER, opts.statusCode, 503), opts.body, defaultBody);

  return async (c, next) => {
    const caller = signalOf(c);
    // The headers set so far (CORS, an outer rateLimit's...) go out with a timeout answer; the handler's do not.
    const before = new Headers(c.res.headers);
    let answered: Response | undefined;
    const answer = (err: unknown): Response => {
      if (answered !== undefined) return answered;
      const body = rejection.body(c, err);
      before.set('Content-Type', body.contentType);
      answered = new Response(body.payload, { status: rejection.statusCode, headers: before });
      // Replace whatever the handler set (c.res = undefined first, so none of its headers are merged in).
      c.res = undefined;
      c.res = answered;
      return answered;
    };
    let pending: Promise<void> | undefined;
    try {
      await policy.execute(
        (ctx) => {
          setSignal(c, ctx.signal);
          // Before the handler can subscribe: this listener runs first when the time is up.
          ctx.signal.addEventListener(
            'abort',
            () => {
              if (isTimeoutError(ctx.signal.reason)) answer(ctx.signal.reason);
            },
            { once: true },
          );
          pending = next();
          return pending;
        },
        { signal: caller },
      );
    } catch (err) {
      // The rest of the chain may still settle, even with an error: nobody awaits it now.
      pending?.then(ignore, ignore);
      if (isTimeoutError(err)) return answer(err);
      if (caller.aborted && err === caller.reason) return answered ?? goneResponse();
      throw err;
    }
    return answered;
  };
}
