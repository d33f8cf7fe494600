import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express5 from 'express';
import express4 from 'express4';
import { closeServer, until } from '../../http/test/support.js';

export { type Gate, gate, sleep, until } from '../../http/test/support.js';

/** The Express versions every adapter test runs against. */
export const expressVersions: ReadonlyArray<readonly [string, typeof express5]> = [
  ['express5', express5],
  ['express4', express4],
];

/** A started app: its base URL, a keep-alive agent and a way to stop both. */
export interface Served {
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  close(): Promise<void>;
}

/** Listens on a random loopback port. */
export async function serve(app: http.RequestListener): Promise<Served> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () => closeServer(server),
  };
}

/**
 * Sends a GET with node:http and destroys the socket as soon as `ready()`
 * says the server is handling it: a client that disconnects mid-request.
 */
export async function disconnectMidRequest(url: string, ready: () => boolean): Promise<void> {
  const req = http.get(url);
  req.on('error', () => {});
  await until(ready);
  req.destroy();
}

/** A report made through a recording permit. */
export type Report = 'success' | 'failure' | 'ignore';
