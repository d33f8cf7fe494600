import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isBulkheadFullError } from '@resilience/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBulkhead, type RedisClientLike, RedisRateLimiter } from '../src/index.js';
import { quiet } from './loggers.js';
import { RedisServer, redisServerBinary } from './redis-server.js';
import { until } from './until.js';

const run = promisify(execFile);

interface ClusterClient {
  readonly client: RedisClientLike;
  close(): Promise<void>;
}

async function clusterClient(library: 'ioredis' | 'redis', port: number): Promise<ClusterClient> {
  if (library === 'ioredis') {
    const { Cluster } = await import('ioredis');
    const cluster = new Cluster([{ host: '127.0.0.1', port }]);
    cluster.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      cluster.once('ready', () => resolve());
      cluster.once('end', () => reject(new Error('cluster did not connect')));
    });
    return { client: cluster as unknown as RedisClientLike, close: async () => cluster.disconnect() };
  }
  const { createCluster } = await import('redis');
  const cluster = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${port}` }] });
  cluster.on('error', () => undefined);
  await cluster.connect();
  return { client: cluster as unknown as RedisClientLike, close: async () => cluster.destroy() };
}

// A real three-master Redis Cluster on free ports: every decision runs on the node owning its key's slot.
describe.skipIf(redisServerBinary === undefined)('on a Redis Cluster', () => {
  const nodes: RedisServer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'resilience-cluster-'));

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const nodeDir = join(dir, String(i));
      await run('mkdir', ['-p', nodeDir]);
      nodes.push(
        await RedisServer.start(['--cluster-enabled', 'yes', '--dir', nodeDir, '--cluster-node-timeout', '5000']),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`redis-cli --cluster create failed:\n${error.stdout}\n${error.stderr}`);
    });
    for (const node of nodes) {
      for (let i = 0; i < 100; i++) {
        const { stdout } = await run('redis-cli', ['-p', String(node.port), 'CLUSTER', 'INFO']);
        if (stdout.includes('cluster_state:ok')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['ioredis', 'redis'] as const)(
    '%s: two cluster clients share budgets on keys spread over every node, and a bulkhead holds its limit',
    async (library) => {
      const port = (nodes[0] as RedisServer).port;
      const a = await clusterClient(library, port);
      const b = await clusterClient(library, port);
      try {
        const prefix = `cl-${library}:`;
        const la = new RedisRateLimiter({ client: a.client, prefix, rate: 3, interval: 60_000, logger: quiet });
        const lb = new RedisRateLimiter({ client: b.client, prefix, rate: 3, interval: 60_000, logger: quiet });
        const keys = Array.from({ length: 30 }, (_, i) => `user-${i}`).concat(['{', '}', 'a}b', '{x}', 'new\nline']);
        for (const key of keys) {
          const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? la : lb).allow(key)));
          expect(answers.filter(Boolean)).toHaveLength(3);
        }
        expect(await la.allow()).toBe(true);
        expect(la.available && lb.available).toBe(true);
        // The keys are spread over the three masters.
        const slots = new Set<number>();
        for (const key of keys.slice(0, 30)) {
          const { stdout } = await run('redis-cli', ['-p', String(port), 'CLUSTER', 'KEYSLOT', la.redisKey(key)]);
          slots.add(Math.floor(Number(stdout.trim()) / 5462));
        }
        expect(slots.size).toBe(3);

        const name = `cl-${library}`;
        const ba = new RedisBulkhead({ client: a.client, name, maxConcurrent: 1, logger: quiet });
        const bb = new RedisBulkhead({ client: b.client, name, maxConcurrent: 1, logger: quiet });
        let release = (): void => undefined;
        const holding = ba.execute(() => new Promise<void>((r) => (release = r)));
        await until(() => ba.active === 1, 'the slot to be held');
        expect(await bb.fleetActive()).toBe(1);
        expect(isBulkheadFullError(await bb.execute(() => 'no').catch((e: unknown) => e))).toBe(true);
        release();
        await holding;
        await expect(bb.execute(() => 'yes')).resolves.toBe('yes');
        await ba.close();
        await bb.close();
      } finally {
        await a.close();
        await b.close();
      }
    },
    30_000,
  );
});
