import type { FastifyInstance } from 'fastify';

export {
  type Gate,
  gate,
  type LogRecord,
  type MemoryLogger,
  memoryLogger,
  sleep,
  until,
} from '../../http/test/support.js';

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
