import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Logger } from '@resilience/core';
import type { Hono } from 'hono';
import type { ConnInfo } from 'hono/conninfo';

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
        close: () =>
          new Promise<void>((done) => {
            (server as unknown as { closeAllConnections(): void }).closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Resolves after `ms` real milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `predicate` holds (fails after `limitMs`). */
export async function until(predicate: () => boolean, limitMs = 2000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > limitMs) throw new Error('condition not reached in time');
    await sleep(2);
  }
}

/** A promise the test releases by hand. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

/** A closed {@link Gate}. */
export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** One record a {@link memoryLogger} kept. */
export interface LogRecord {
  readonly level: string;
  readonly msg: string;
  readonly attrs?: Record<string, unknown>;
}

/** What {@link memoryLogger} returns. */
export interface MemoryLogger {
  readonly records: LogRecord[];
  readonly logger: Logger;
}

/** A logger that keeps what it is told. */
export function memoryLogger(): MemoryLogger {
  const records: LogRecord[] = [];
  const at =
    (level: string) =>
    (msg: string, attrs?: Record<string, unknown>): void => {
      records.push(attrs === undefined ? { level, msg } : { level, msg, attrs });
    };
  return { records, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}
