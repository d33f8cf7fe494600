import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the test server does with the n-th request (from 1). */
export type Script = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A real `node:http` server on 127.0.0.1:0 whose answers a test scripts. */
export interface TestServer {
  readonly url: string;
  readonly origin: string;
  /** Requests received so far. */
  readonly count: () => number;
  /** Requests whose connection closed before an answer was sent (a client that aborted). */
  readonly abandoned: () => number;
  script: Script;
  close(): Promise<void>;
}

/** Starts a server; `script` answers each request. */
export async function startServer(script: Script): Promise<TestServer> {
  let count = 0;
  let abandoned = 0;
  const state: { script: Script } = { script };
  const server: Server = createServer((req, res) => {
    count++;
    res.on('close', () => {
      if (!res.writableEnded) abandoned++;
    });
    state.script(req, res, count);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/`,
    origin,
    count: () => count,
    abandoned: () => abandoned,
    get script() {
      return state.script;
    },
    set script(next: Script) {
      state.script = next;
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Answers `status` with `body` and optional headers. */
export function answer(res: ServerResponse, status: number, body = '', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain', ...headers });
  res.end(body);
}

/** Resolves once `check` holds, polling every few ms, for at most `ms`. */
export async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
