/**
 * The policies beyond the classic patterns against a real HTTP server on
 * loopback: hedging cuts a latency tail, client-side throttling sheds calls to
 * a dependency that fails 95 % of the time, an adaptive bulkhead moves its
 * limit, and chaos injects faults a retry absorbs. Run: pnpm start
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AdaptiveBulkhead,
  AdaptiveThrottle,
  Chaos,
  Hedging,
  isCircuitOpenError,
  MaxAttemptsReachedError,
  pipeline,
} from '@resilience/core';

// The dependency: every 10th request to /price takes 300 ms, the others 5 ms; /flaky fails while `failing` is set.
let priceRequests = 0;
let failing = true;
let flakyRequests = 0;
const server = createServer((req, res) => {
  if (req.url === '/price') {
    priceRequests++;
    const slow = priceRequests % 10 === 0;
    const timer = setTimeout(() => res.end('42'), slow ? 300 : 5);
    res.on('close', () => clearTimeout(timer));
    return;
  }
  flakyRequests++;
  res.statusCode = failing && flakyRequests % 20 !== 0 ? 503 : 200;
  res.end();
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function get(path: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(base + path, { signal });
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return await response.text();
}

try {
  // 1. Hedging: a second attempt after 50 ms; the first answer wins and the slow one is aborted.
  let hedges = 0;
  const hedging = new Hedging<string>({ delay: 50, maxHedges: 1, onHedge: () => hedges++ });
  const prices = [];
  for (let i = 0; i < 40; i++) prices.push(await hedging.execute(({ signal }) => get('/price', signal)));
  console.log(`hedging: ${prices.filter((p) => p === '42').length} of 40 calls answered, ${hedges} hedges started`);

  // 2. Client-side throttling: the dependency fails 95 % of requests; the throttle sheds most calls locally.
  const throttle = new AdaptiveThrottle({ k: 2, window: 10_000 });
  let sent = 0;
  let shed = 0;
  for (let i = 0; i < 200; i++) {
    try {
      await throttle.execute(({ signal }) => {
        sent++;
        return get('/flaky', signal);
      });
    } catch (err) {
      if (isCircuitOpenError(err)) shed++;
    }
  }
  console.log(`throttle: 200 calls, ${sent} sent, ${shed} shed locally`);
  failing = false;
  console.log(`throttle: rejection probability after the outage ${throttle.rejectionProbability.toFixed(2)}`);

  // 3. Adaptive bulkhead: AIMD backs off on failures and grows again on busy successes.
  const bulkhead = new AdaptiveBulkhead({ algorithm: 'aimd', initialLimit: 10, minLimit: 2, maxLimit: 20 });
  const before = bulkhead.limit;
  await Promise.allSettled(Array.from({ length: 5 }, () => bulkhead.execute(() => Promise.reject(new Error('503')))));
  const backedOff = bulkhead.limit;
  for (let round = 0; round < 5; round++) {
    await Promise.all(
      Array.from({ length: bulkhead.limit }, () => bulkhead.execute(({ signal }) => get('/price', signal))),
    );
  }
  console.log(`adaptive bulkhead: limit ${before} -> ${backedOff} after failures -> ${bulkhead.limit} after successes`);

  // 4. Chaos, enabled for this run only: every other call fails with an injected fault; a retry absorbs it.
  let draw = 0;
  const chaos = new Chaos<string>({
    rate: 0.5,
    fault: () => new Error('injected'),
    random: () => (draw++ % 2 === 0 ? 0 : 0.99),
  });
  chaos.enable();
  const resilient = pipeline<string>().retry({ maxAttempts: 3, initialDelay: 10 }).use(chaos).build();
  let ok = 0;
  for (let i = 0; i < 10; i++) {
    try {
      if ((await resilient.execute(({ signal }) => get('/price', signal))) === '42') ok++;
    } catch (err) {
      if (!(err instanceof MaxAttemptsReachedError)) throw err;
    }
  }
  chaos.disable();
  console.log(`chaos: ${ok} of 10 calls succeeded through the retry despite injected faults`);
} finally {
  server.closeAllConnections();
  server.close();
}
