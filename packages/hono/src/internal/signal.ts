import type { Context } from 'hono';

const signals = new WeakMap<Context, AbortSignal>();

/**
 * The signal of the request: the one an outer `timeout()` or `bulkhead()`
 * of this package gave it (aborts when the time is up or the client goes
 * away), else the request's own `c.req.raw.signal`.
 *
 * @param c - the context
 * @example
 * ```ts
 * app.get('/report', timeout(2_000), async (c) => c.json(await load({ signal: signalOf(c) })));
 * ```
 */
export function signalOf(c: Context): AbortSignal {
  return signals.get(c) ?? c.req.raw.signal;
}

/** Gives the rest of the request `signal`, as `c.var.signal` and to {@link signalOf}. */
export function setSignal(c: Context, signal: AbortSignal): void {
  signals.set(c, signal);
  c.set('signal' as never, signal as never);
}
