import type { ResilienceHooks, ResiliencePlugin } from './types.js';

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
export function routeHooks(...guards: ReadonlyArray<ResiliencePlugin | ResilienceHooks>): ResilienceHooks {
  const out: ResilienceHooks = { onRequest: [], onResponse: [], onError: [] };
  for (const guard of guards) {
    const hooks: ResilienceHooks = 'hooks' in guard ? guard.hooks : guard;
    out.onRequest.push(...hooks.onRequest);
    out.onResponse.push(...hooks.onResponse);
    out.onError.push(...hooks.onError);
  }
  return out;
}
