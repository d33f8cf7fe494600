// One gateway process: an Express app whose rate limit and bulkhead live in
// Redis, so every copy of it shares them. Environment: REDIS_URL, PORT (0 for
// any free port), NAME. Prints one JSON line once it listens.
import { bulkhead, rateLimit } from '@resilience/express';
import { RedisBulkhead, RedisRateLimiter } from '@resilience/redis';
import express from 'express';
import { Redis } from 'ioredis';

const name = process.env.NAME ?? 'gateway';
const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
client.on('error', (err: Error) => console.error(`${name}: redis: ${err.message}`));

// 10 requests per minute per API key, across every gateway.
const limiter = new RedisRateLimiter({ client, name: 'api', rate: 10, interval: 60_000 });
// At most 2 slow exports at once, across every gateway; 5 more may wait here.
const exportSlots = new RedisBulkhead({ client, name: 'exports', maxConcurrent: 2, leaseMs: 10_000, maxQueue: 5 });

const app = express();
app.use(rateLimit(limiter, { key: (req) => req.get('x-api-key') ?? 'anonymous' }));
app.get('/hello', (_req, res) => {
  res.json({ gateway: name });
});
app.get('/export', bulkhead(exportSlots), async (_req, res) => {
  await new Promise((resolve) => setTimeout(resolve, 100));
  res.json({ gateway: name, exporting: await exportSlots.fleetActive() });
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  console.log(JSON.stringify({ gateway: name, port }));
});

async function shutdown(): Promise<void> {
  server.close();
  await exportSlots.close();
  await limiter.close();
  client.disconnect();
}
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
