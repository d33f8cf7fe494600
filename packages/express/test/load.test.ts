import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Bulkhead, CircuitBreaker, RateLimiter } from '@resilience/core';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkhead, circuitBreaker, rateLimit, timeout } from '../src/index.js';
import { expressVersions, type Served, serve } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** One GET on a kept-alive connection; resolves with the status. */
function get(agent: http.Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

function listenerTotals(emitter: NodeJS.EventEmitter): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const name of emitter.eventNames()) totals[String(name)] = emitter.listenerCount(name);
  return totals;
}

describe.each(expressVersions)('10,000 requests through every middleware on %s', (_name, express) => {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  it('leave no listeners, no slots and no heap behind', { timeout: 60_000 }, async () => {
    const breaker = new CircuitBreaker();
    const bh = new Bulkhead({ maxConcurrent: 4, maxQueue: 4 });
    const limiter = new RateLimiter({ rate: 1_000_000, interval: 1000 });
    const app = express();
    app.use(rateLimit(limiter), circuitBreaker(breaker), timeout(5000), bulkhead(bh));
    app.get('/', (req, res) => {
      res.json({ aborted: req.signal?.aborted ?? null });
    });
    served = await serve(app);
    const sockets: import('node:net').Socket[] = [];
    served.server.on('connection', (socket) => sockets.push(socket));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const run = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const status = await get(agent, served?.port ?? 0, '/');
        if (status !== 200) throw new Error(`request ${i} answered ${status}`);
      }
    };
    await run(300);
    expect(sockets).toHaveLength(1);
    const socket = sockets[0] as import('node:net').Socket;
    const serverListeners = listenerTotals(served.server);
    const socketListeners = listenerTotals(socket);
    const heapBefore = heapAfterGc();
    await run(10_000);
    const heapAfter = heapAfterGc();
    if (process.env.LOAD_REPORT) console.log(`heap delta over 10,000 requests: ${heapAfter - heapBefore} bytes`);
    agent.destroy();

    expect(sockets).toHaveLength(1);
    expect(listenerTotals(served.server)).toEqual(serverListeners);
    expect(listenerTotals(socket)).toEqual(socketListeners);
    expect(bh.active).toBe(0);
    expect(bh.queued).toBe(0);
    expect(breaker.state).toBe('closed');
    expect(breaker.counts.totalSuccesses).toBe(10_300);
    // Bare Express alone moves the heap by +-0.6 MB between such batches; a leak of 300 bytes a
    // request (far less than a kept response, listener or promise chain) would add 3 MB.
    expect(heapAfter - heapBefore).toBeLessThan(3_000_000);
  });
});
