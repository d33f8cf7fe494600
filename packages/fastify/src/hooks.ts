import type { onErrorHookHandler, onRequestHookHandler, onResponseHookHandler } from 'fastify';
import type { ResilienceHooks, ResiliencePlugin } from './types.js';

/** The hooks of several guards merged for route options, in order: `onRequest` of the first runs first. */
export interface RouteHooks {
  /** Every guard's `onRequest` hooks. */
  onRequest: onRequestHookHandler[];
  /** Every guard's `onResponse` hooks. */
  onResponse: onResponseHookHandler[];
  /** Every guard's `onError` hooks. */
  onError: onErrorHookHandler[];
}

/**
 * Merges the hooks of several guards into route options, in order (the first
 * is outermost, as `app.register` order would make it).
 *
 * @param guards - what `rateLimit()`, `circuitBreaker()`, `timeout()`, `bulkhead()` returned
 * @example
 * ```ts
 * app.get('/search', { ...routeHooks(limit, guard, timeout(2_000)) }, handler);
 * ```
 */
export function routeHooks(...guards: ReadonlyArray<ResiliencePlugin | ResilienceHooks>): RouteHooks {
  const out: RouteHooks = { onRequest: [], onResponse: [], onError: [] };
  for (const guard of guards) {
    const hooks: ResilienceHooks = 'hooks' in guard ? guard.hooks : guard;
    out.onRequest.push(...hooks.onRequest);
    out.onResponse.push(...(hooks.onResponse ?? []));
    out.onError.push(...(hooks.onError ?? []));
  }
  return out;
}
