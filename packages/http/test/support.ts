// Test helpers every web adapter's tests share (Express, Fastify, Hono), framework-free. Not published: the
// adapters' test/helpers.ts re-export them by relative path (each adapter's tsconfig.json has rootDir "../..").
import type { Server } from 'node:http';
import type { Logger } from '@resilience/core';

/** Resolves after `ms` real milliseconds (kept to a few tens in tests). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `predicate` holds, polling every few milliseconds (fails after `limitMs`). */
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

/** A logger that keeps what it is told (the core `Logger` shape). */
export function memoryLogger(): MemoryLogger {
  const records: LogRecord[] = [];
  const at =
    (level: string) =>
    (msg: string, attrs?: Record<string, unknown>): void => {
      records.push(attrs === undefined ? { level, msg } : { level, msg, attrs });
    };
  return { records, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

/** Closes `server` now: drops its open (keep-alive) connections, then resolves once it has stopped listening. */
export function closeServer(server: Pick<Server, 'close' | 'closeAllConnections'>): Promise<void> {
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
