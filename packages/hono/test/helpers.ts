import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ConnInfo } from 'hono/conninfo';
import { closeServer } from '../../http/test/support.js';

export {
  type Gate,
  gate,
  type LogRecord,
  type MemoryLogger,
  memoryLogger,
  sleep,
  until,
} from '../../http/test/support.js';

/** A `getConnInfo` for `app.request()` tests: the address comes from the `x-test-ip` header. */
export const testConnInfo = (c: { req: { header(name: string): string | undefined } }): ConnInfo => ({
  remote: { address: c.req.header('x-test-ip') ?? '192.0.2.1', addressType: 'IPv4' },
});

/** A running app on a loopback port, through @hono/node-server. */
export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `app` on 127.0.0.1, port 0. */
export function serveApp(app: Hono<never> | Hono): Promise<Served> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => closeServer(server as unknown as Server),
      });
    });
  });
}
