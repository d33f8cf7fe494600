import type { ExecutionContext, Policy } from '@resilience/core';
import { passableError } from '@resilience/http';
import type { NextFunction, Request, Response } from 'express';
import { clientSignal, requestSignal, responseDone, setRequestSignal } from './lifecycle.js';

/**
 * Runs the rest of the request (everything after `next()` until the response
 * is over) under `policy`, with the request's signal as the caller's signal:
 * `req.signal` when an outer middleware set one, else a signal that aborts
 * when the client disconnects. While the request runs, `req.signal` is the
 * policy's `ctx.signal`.
 *
 * `onRejected(err)` handles the policy's own rejections (it returns whether
 * it did); `watch(ctx.signal)` runs before `next()`, so a listener it adds
 * hears an abort before the handler's own listeners. A rejection with the
 * caller signal's reason is left to whoever
 * aborted it; anything else before `next()` ran goes to `next(err)`
 * (`undefined` made an error naming `owner`, so it cannot let the request on).
 */
export function runGuarded(
  owner: string,
  policy: Policy,
  req: Request,
  res: Response,
  next: NextFunction,
  onRejected: (err: unknown) => boolean,
  watch?: (signal: AbortSignal) => void,
): void {
  const signal = requestSignal(req) ?? clientSignal(res);
  let started = false;
  const work = (ctx: ExecutionContext): Promise<void> => {
    started = true;
    setRequestSignal(req, ctx.signal);
    // Before the handler can subscribe: a listener added now runs first when the signal aborts.
    watch?.(ctx.signal);
    next();
    return responseDone(res);
  };
  policy.execute(work, { signal }).then(undefined, (err: unknown) => {
    if (signal.aborted && err === signal.reason) return;
    try {
      if (onRejected(err)) return;
    } catch (answerErr) {
      // Answering the rejection failed: never an unhandled rejection; the error goes to Express, or the socket goes.
      if (!res.headersSent) next(answerErr);
      else res.destroy(answerErr as Error);
      return;
    }
    if (!started && !res.headersSent) next(passableError(owner, 'the policy', err));
  });
}

const noop = (): void => {};

function callLastCallback(args: unknown[]): void {
  const last = args[args.length - 1];
  if (typeof last === 'function') process.nextTick(last as () => void);
}

/** The headers of a response at one moment, to restore later with {@link restoreHeaders}. */
export type HeaderSnapshot = ReadonlyArray<readonly [string, number | string | readonly string[]]>;

/** The headers set on `res` so far (copied: later changes do not show in the snapshot). */
export function snapshotHeaders(res: Response): HeaderSnapshot {
  const names = res.getHeaderNames();
  if (names.length === 0) return [];
  const out: Array<readonly [string, number | string | readonly string[]]> = [];
  for (const name of names) {
    const value = res.getHeader(name);
    if (value !== undefined) out.push([name, Array.isArray(value) ? [...value] : (value as number | string)]);
  }
  return out;
}

/**
 * Puts `res` back to the headers of `snapshot`: every header set since is
 * removed (a handler's `Cache-Control`, `Content-Encoding`, `Set-Cookie`
 * must not go out with an answer it did not write), and a status message it
 * set is dropped. Only while nothing was sent.
 */
export function restoreHeaders(res: Response, snapshot: HeaderSnapshot): void {
  if (res.headersSent) return;
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  for (const [name, value] of snapshot) res.setHeader(name, value);
  res.statusMessage = '';
}

/**
 * Makes every later write to `res` a no-op, so a handler that answers after
 * the middleware already did writes nothing and throws no
 * `ERR_HTTP_HEADERS_SENT`. Callbacks given to `write`/`end` still run. The
 * status code and message are pinned to the answer that was sent, so a late
 * `res.status(200)` cannot make a circuit breaker (or a logger) that reads
 * `res.statusCode` when the response is over see a status that never went out.
 */
export function silenceResponse(res: Response): void {
  const target = res as unknown as Record<string, unknown>;
  const returnsSelf = function (this: unknown): unknown {
    return this;
  };
  const statusCode = res.statusCode;
  const statusMessage = res.statusMessage;
  Object.defineProperty(target, 'statusCode', {
    configurable: true,
    enumerable: true,
    get: () => statusCode,
    set: noop,
  });
  Object.defineProperty(target, 'statusMessage', {
    configurable: true,
    enumerable: true,
    get: () => statusMessage,
    set: noop,
  });
  target.status = returnsSelf;
  target.writeHead = returnsSelf;
  target.setHeader = returnsSelf;
  target.setHeaders = returnsSelf;
  target.appendHeader = returnsSelf;
  target.removeHeader = noop;
  target.flushHeaders = noop;
  target.write = (...args: unknown[]): boolean => {
    callLastCallback(args);
    return true;
  };
  target.end = function (this: unknown, ...args: unknown[]): unknown {
    callLastCallback(args);
    return this;
  };
}
