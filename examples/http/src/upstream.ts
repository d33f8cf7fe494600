import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How the upstream behaves: fine, down (every answer a 500), too slow to be
 * useful, or busy (fine, but each answer takes a while, as under a crowd).
 */
export type UpstreamMode = 'healthy' | 'failing' | 'slow' | 'busy';

/** The behaviour of each mode. */
export interface UpstreamSettings {
  /** Share of answers that fail with 500 while healthy (a little noise for the retry to absorb). @default 0.02 */
  readonly noise?: number;
  /** Latency while healthy, in ms. @default 15 */
  readonly healthyLatency?: number;
  /** Latency while slow, in ms. @default 2000 */
  readonly slowLatency?: number;
  /** Latency while busy, in ms. @default 80 */
  readonly busyLatency?: number;
}

/** A running flaky upstream. */
export interface Upstream {
  readonly url: string;
  readonly mode: UpstreamMode;
  /** Changes the behaviour from the next request on. */
  setMode(mode: UpstreamMode): void;
  /** Requests received so far. */
  readonly received: number;
  close(): Promise<void>;
}

/**
 * Starts a deliberately flaky HTTP service on loopback. `GET /quote` answers
 * `{ symbol, price }` after the mode's latency, or 500 while failing. A client
 * that gives up (closes the connection) stops the pending answer; `busy`
 * answers like `healthy`, without the noise, after 80 ms.
 * `PUT /mode/:mode` switches the mode from outside (see `pnpm start`).
 */
export async function startUpstream(port = 0, settings: UpstreamSettings = {}): Promise<Upstream> {
  const noise = settings.noise ?? 0.02;
  const healthyLatency = settings.healthyLatency ?? 15;
  const slowLatency = settings.slowLatency ?? 2000;
  const busyLatency = settings.busyLatency ?? 80;
  let mode: UpstreamMode = 'healthy';
  let received = 0;

  const server = http.createServer((req, res) => {
    const modeMatch = /^\/mode\/(healthy|failing|slow|busy)$/.exec(req.url ?? '');
    if (req.method === 'PUT' && modeMatch) {
      mode = modeMatch[1] as UpstreamMode;
      res.end(JSON.stringify({ mode }));
      return;
    }
    received++;
    const fail = mode === 'failing' || (mode === 'healthy' && Math.random() < noise);
    const latency = { healthy: healthyLatency, failing: 5, slow: slowLatency, busy: busyLatency }[mode];
    const timer = setTimeout(() => {
      res.setHeader('Content-Type', 'application/json');
      if (fail) {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: 'upstream exploded' }));
      } else {
        res.end(JSON.stringify({ symbol: 'RSL', price: Math.round(10_000 + Math.random() * 500) / 100 }));
      }
    }, latency);
    res.on('close', () => clearTimeout(timer));
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${actual}`,
    get mode() {
      return mode;
    },
    setMode(next) {
      mode = next;
    },
    get received() {
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
