// Decisions per second and p99 decision latency of RedisRateLimiter against
// rate-limiter-flexible's RateLimiterRedis, on the same local redis-server,
// with 1 and 100 concurrent callers, on ioredis and on node-redis.
//
//   pnpm --filter @resilience/redis bench            (needs redis-server on PATH)
//
// Every subject decides on 1,000 rotating keys with a budget it never exhausts
// (every decision is an allowed take: the same work for both libraries), after
// a warm-up. The bucket refills at one token a second, so its keys live for the
// whole run as rate-limiter-flexible's do (a bucket that refills at once would
// expire and re-create its key on every decision: a different workload). Subjects alternate over several rounds; the median round is reported.
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { type ClientLibrary, connect, RedisServer, redisServerBinary } from '../test/redis-server.js';

// RESILIENCE_REDIS_SRC points at another revision's src/index.ts, to compare two revisions on one machine.
const { RedisRateLimiter } = (await import(
  process.env.RESILIENCE_REDIS_SRC ?? '../src/index.js'
)) as typeof import('../src/index.js');

interface Subject {
  readonly name: string;
  readonly library: ClientLibrary;
  readonly options?: object;
  make(client: unknown, prefix: string): (key: string) => Promise<unknown>;
}

const subjects: Subject[] = [];
const clients = [
  { label: 'ioredis', library: 'ioredis', options: {} },
  { label: 'ioredis, enableAutoPipelining', library: 'ioredis', options: { enableAutoPipelining: true } },
  { label: 'redis', library: 'redis', options: {} },
] as const;
for (const { label, library, options } of clients) {
  subjects.push({
    name: `@resilience/redis RedisRateLimiter.consume (${label})`,
    library,
    options,
    make: (client, prefix) => {
      const limiter = new RedisRateLimiter({ client: client as never, rate: 1e6, interval: 1e9, prefix });
      return (key) => limiter.consume(key);
    },
  });
  subjects.push({
    name: `rate-limiter-flexible RateLimiterRedis.consume (${label})`,
    library,
    options,
    make: (client, prefix) => {
      const limiter = new RateLimiterRedis({
        storeClient: client,
        points: 1e6,
        duration: 1e6,
        keyPrefix: prefix,
        useRedisPackage: library === 'redis',
      });
      return (key) => limiter.consume(key);
    },
  });
}

const KEYS = Array.from({ length: 1_000 }, (_, i) => `user:${i}`);

async function round(decide: (key: string) => Promise<unknown>, callers: number, total: number) {
  const latencies = new Float64Array(total);
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = process.hrtime.bigint();
        await decide(KEYS[i % KEYS.length] as string);
        latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort();
  return {
    perSecond: total / seconds,
    p50: latencies[Math.floor(total * 0.5)] ?? 0,
    p99: latencies[Math.floor(total * 0.99)] ?? 0,
  };
}

async function main(): Promise<void> {
  if (redisServerBinary === undefined) process.exit(1);
  const quick = process.argv.includes('--quick');
  const total = quick ? 5_000 : 20_000;
  const rounds = quick ? 3 : 5;
  const server = await RedisServer.start();
  const rows: string[] = [];
  try {
    for (const callers of [1, 100]) {
      const results = new Map<Subject, Array<Awaited<ReturnType<typeof round>>>>();
      const prepared = new Map<Subject, (key: string) => Promise<unknown>>();
      const clients: Array<{ close(): Promise<void> }> = [];
      for (const [i, subject] of subjects.entries()) {
        const c = await connect(subject.library, server.port, subject.options);
        clients.push(c);
        const decide = subject.make(c.client, `bench${callers}:${i}:`);
        await round(decide, callers, 2_000); // warm-up
        prepared.set(subject, decide);
        results.set(subject, []);
      }
      for (let r = 0; r < rounds; r++) {
        for (const subject of r % 2 === 0 ? subjects : [...subjects].reverse()) {
          results.get(subject)?.push(await round(prepared.get(subject) as never, callers, total));
        }
      }
      for (const subject of subjects) {
        const list = (results.get(subject) ?? []).sort((a, b) => a.perSecond - b.perSecond);
        const median = list[Math.floor(list.length / 2)] ?? { perSecond: 0, p50: 0, p99: 0 };
        rows.push(
          `| ${callers} | ${subject.name} | ${Math.round(median.perSecond).toLocaleString('en-US')} | ${median.p50.toFixed(3)} | ${median.p99.toFixed(3)} |`,
        );
      }
      await Promise.all(clients.map((c) => c.close()));
    }
  } finally {
    await server.stop();
  }
  console.log(
    `Node ${process.version}, redis-server on 127.0.0.1, ${total} decisions a round, median of ${rounds} rounds\n`,
  );
  console.log('| callers | subject | decisions/s | p50 ms | p99 ms |\n| --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

await main();
