import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import type { ResilienceHooks, ResiliencePlugin } from '../types.js';

/**
 * A plugin (not encapsulated, so it applies to the scope it is registered
 * in) that adds `hooks` to every route of that scope, with the hooks
 * attached for route-level use.
 */
export function asPlugin(name: string, hooks: ResilienceHooks): ResiliencePlugin {
  const plugin: FastifyPluginCallback = (app: FastifyInstance, _opts, done) => {
    for (const hook of hooks.onRequest) app.addHook('onRequest', hook);
    for (const hook of hooks.onResponse ?? []) app.addHook('onResponse', hook);
    for (const hook of hooks.onError ?? []) app.addHook('onError', hook);
    done();
  };
  return Object.assign(fp(plugin, { fastify: '5.x', name: `@resilience/fastify:${name}` }), { hooks });
}
