import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Op, Prepared } from '../harness/types.js';
import { prepared, unavailable } from './fixtures.js';
import { importOurs } from './ours.js';
import type { ScenarioDef } from './types.js';

/** The loopback server's URL (set by the subject's setup, which runs first). */
let url: string | undefined;

/** One GET whose body is read to the end, so the keep-alive socket goes back to undici's pool. */
function get(fetch: (input: string) => Promise<Response>, target: string): Op {
  return { run: async () => (await fetch(target)).text() };
}

/** A plain `fetch` on loopback against the same `fetch` wrapped by `createFetch`. */
export const fetchLoopback: ScenarioDef = {
  id: 'fetch-loopback',
  title: 'fetch on loopback, plain against createFetch',
  kind: 'latency',
  config:
    "a GET to a `node:http` server in the same process over 127.0.0.1 answering `ok`, body read to the end, with Node's " +
    'global fetch (undici, keep-alive); `createFetch()` with its defaults: a breaker for the origin, retry, a 30 s ' +
    'overall and a 10 s attempt timeout (no retry happens: every answer is 200)',
  baselineLabel: "the same GET with Node's global fetch alone, to the same server, in the same process",
  baseline: () => {
    if (url === undefined) throw new Error('benchmarks: fetch-loopback baseline needs the subject set up first');
    return get(globalThis.fetch, url);
  },
  subjects: [
    {
      id: 'ours',
      label: '@resilience/fetch createFetch()',
      library: '@resilience/fetch',
      setup: async (): Promise<Prepared> => {
        const adapter = await importOurs('@resilience/fetch').catch(() => undefined);
        const createFetch = (adapter as Record<string, unknown> | undefined)?.createFetch;
        if (typeof createFetch !== 'function') return unavailable('@resilience/fetch is not built yet');
        const server = createServer((_req, res) => res.end('ok'));
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        server.unref();
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        const ours = createFetch() as (input: string) => Promise<Response>;
        // Open the connection before measuring, so neither pays for it.
        await get(ours, url).run();
        await get(globalThis.fetch, url).run();
        return prepared(get(ours, url));
      },
    },
  ],
  targets: [],
};
