import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rateLimit } from '@resilience/express';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../src/index.js';
import { recordingLogger } from './loggers.js';
import { connect, RedisServer, redisServerBinary, type TestClient } from './redis-server.js';

async function listen(limiter: RedisRateLimiter): Promise<{ server: Server; url: string }> {
  const app = express();
  app.use(rateLimit(limiter, { key: (req) => String(req.headers['x-user'] ?? 'anonymous') }));
  app.get('/', (_req, res) => {
    res.send('ok');
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe.skipIf(redisServerBinary === undefined).each(['ioredis', 'redis'] as const)(
  'the Express rateLimit middleware on a RedisRateLimiter (%s)',
  (library) => {
    let redis: RedisServer;
    const clients: TestClient[] = [];
    const servers: Server[] = [];

    beforeAll(async () => {
      redis = await RedisServer.start();
    });
    afterAll(async () => {
      for (const s of servers) s.close();
      await Promise.all(clients.map((c) => c.close()));
      await redis.stop();
    });

    async function gateway(logger = recordingLogger()): Promise<string> {
      const c = await connect(library, redis.port);
      clients.push(c);
      const limiter = new RedisRateLimiter({
        client: c.client,
        rate: 5,
        interval: 60_000,
        logger,
        commandTimeout: 500,
      });
      const { server, url } = await listen(limiter);
      servers.push(server);
      return url;
    }

    it('two servers share one budget, with standard headers and a 429 past it, then fall back when Redis is gone', async () => {
      const logger = recordingLogger();
      const [a, b] = [await gateway(logger), await gateway()];
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await fetch(i % 2 === 0 ? (a as string) : (b as string), { headers: { 'x-user': 'alice' } });
        statuses.push(res.status);
        if (i === 0) {
          expect(res.headers.get('ratelimit-policy')).toBe('5;w=60');
          expect(res.headers.get('ratelimit')).toMatch(/^limit=5, remaining=4, reset=\d+$/);
        }
        if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        await res.arrayBuffer();
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      const bob = await fetch(a as string, { headers: { 'x-user': 'bob' } });
      expect(bob.status).toBe(200);

      await redis.stop();
      // The in-memory fallback (same settings) decides now: carol has 5 in this process.
      const during: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await fetch(a as string, { headers: { 'x-user': 'carol' } });
        during.push(res.status);
        await res.arrayBuffer();
      }
      expect(during).toEqual([200, 200, 200, 200, 200, 429]);
      expect(logger.lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
      await redis.resume();
    }, 20_000);
  },
);
