import type { Logger } from '@resilience/core';
import type { FastifyInstance } from 'fastify';

/** How a test reaches the app: Fastify's `inject()` or real HTTP over loopback. */
export type Transport = 'inject' | 'http';

/** Both transports, for `describe.each`. */
export const transports: readonly Transport[] = ['inject', 'http'];

/** What a test reads from an answer. */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One request options set. */
export interface Call {
  readonly url?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** The client's address (inject only; real HTTP comes from 127.0.0.1). */
  readonly remoteAddress?: string;
}

/** A client for one app over one transport; `close()` stops the server it started. */
export interface Client {
  request(call?: Call): Promise<Answer>;
  readonly url: string;
  close(): Promise<void>;
}

/** Readies `app` and returns a client over `transport`. */
export async function client(app: FastifyInstance, transport: Transport): Promise<Client> {
  if (transport === 'inject') {
    await app.ready();
    return {
      url: '',
      request: async (call = {}) => {
        const res = await app.inject({
          method: (call.method ?? 'GET') as 'GET',
          url: call.url ?? '/',
          headers: call.headers ?? {},
          ...(call.remoteAddress === undefined ? {} : { remoteAddress: call.remoteAddress }),
        });
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) headers[name] = String(value);
        return { status: res.statusCode, headers, body: res.body };
      },
      close: () => app.close(),
    };
  }
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    request: async (call = {}) => {
      const res = await fetch(`${url}${call.url ?? '/'}`, {
        method: call.method ?? 'GET',
        headers: call.headers ?? {},
      });
      return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
    },
    close: () => app.close(),
  };
}

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
