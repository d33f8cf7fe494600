import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import type { ResilienceHooks, ResiliencePlugin } from '../types.js';

/** The hooks a guard adds; unused kinds are left out. */
export interface GuardHooks {
  /** Its `onRequest` hook. */
  readonly onRequest: ResilienceHooks['onRequest'][number];
  /** Its `onResponse` hook, if any. */
  readonly onResponse?: ResilienceHooks['onResponse'][number];
  /** Its `onError` hook, if any. */
  readonly onError?: ResilienceHooks['onError'][number];
}

/**
 * A plugin (not encapsulated, so it applies to the scope it is registered
 * in) that adds `hooks` to every route of that scope, with the hooks at
 * `plugin.hooks` (fresh arrays on each read) for route-level use.
 */
export function asPlugin(name: string, hooks: GuardHooks): ResiliencePlugin {
  const plugin: FastifyPluginCallback = (app: FastifyInstance, _opts, done) => {
    app.addHook('onRequest', hooks.onRequest);
    if (hooks.onResponse !== undefined) app.addHook('onResponse', hooks.onResponse);
    if (hooks.onError !== undefined) app.addHook('onError', hooks.onError);
    done();
  };
  const wrapped = fp(plugin, { fastify: '5.x', name: `@resilience/fastify:${name}` });
  Object.defineProperty(wrapped, 'hooks', {
    enumerable: true,
    get: (): ResilienceHooks => ({
      onRequest: [hooks.onRequest],
      onResponse: hooks.onResponse === undefined ? [] : [hooks.onResponse],
      onError: hooks.onError === undefined ? [] : [hooks.onError],
    }),
  });
  return wrapped as ResiliencePlugin;
}
