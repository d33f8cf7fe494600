// Where the time of a decision goes: CPU time per decision of this Node process and of redis-server (its own
// rusage, from INFO cpu), and the server's usec_per_call of each command (INFO commandstats), for
// RedisRateLimiter, rate-limiter-flexible's RateLimiterRedis and a bare EVALSHA of `return 1` through the same
// client (the floor of one round trip per decision). CPU time per decision hardly depends on how busy the machine
// is, unlike decisions per second, so this compares the libraries on a shared machine. The last column, the CPU
// time of both per second of wall time, tells whether they overlap: about 1.00 means they take turns (each idle
// while the other works), up to 2 that they work at once.
//
//   pnpm --filter @resilience/redis bench:cost            (needs redis-server on PATH)
//   CALLERS=1 TOTAL=50000 ONLY=ioredis pnpm --filter @resilience/redis bench:cost
import { readFileSync } from 'node:fs';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { type ClientLibrary, connect, RedisServer, redisServerBinary } from '../test/redis-server.js';

// RESILIENCE_REDIS_SRC points at another revision's src/index.ts, to compare two revisions on one machine.
const { RedisRateLimiter } = (await import(
  process.env.RESILIENCE_REDIS_SRC ?? '../src/index.js'
)) as typeof import('../src/index.js');

const KEYS = Array.from({ length: 1_000 }, (_, i) => `user:${i}`);
const callers = Number(process.env.CALLERS ?? 100);
const total = Number(process.env.TOTAL ?? 100_000);
const only = process.env.ONLY;
const RETURN_1 = 'return 1';

type Decide = (key: string) => Promise<unknown>;
type IORedisEval = { evalsha(sha: string, numKeys: number, key: string): Promise<unknown> };
type NodeRedisEval = { evalSha(sha: string, options: { keys: string[] }): Promise<unknown> };

const subjects: Array<{
  name: string;
  library: ClientLibrary;
  make(client: unknown, prefix: string, sha: string): Decide;
}> = [];
for (const library of ['ioredis', 'redis'] as const) {
  subjects.push(
    {
      name: `@resilience/redis (${library})`,
      library,
      make: (client, prefix) => {
        const limiter = new RedisRateLimiter({ client: client as never, rate: 1e6, interval: 1e9, prefix });
        return (key) => limiter.consume(key);
      },
    },
    {
      name: `rate-limiter-flexible (${library})`,
      library,
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
    },
    {
      name: `EVALSHA of 'return 1' (${library})`,
      library,
      make: (client, _prefix, sha) =>
        library === 'redis'
          ? (key) => (client as NodeRedisEval).evalSha(sha, { keys: [key] })
          : (key) => (client as IORedisEval).evalsha(sha, 1, key),
    },
  );
}

async function main(): Promise<void> {
  if (redisServerBinary === undefined) process.exit(1);
  const server = await RedisServer.start();
  try {
    console.log(`Node ${process.version}, ${callers} callers, ${total} decisions each, load ${loadavg()}\n`);
    console.log(
      '| subject | decisions/s | Node µs CPU/decision | redis µs CPU/decision | usec_per_call of the script | busy cores (Node + redis) |',
    );
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const [i, subject] of subjects.entries()) {
      if (only !== undefined && !subject.name.includes(only)) continue;
      const c = await connect(subject.library, server.port);
      const sha = String(await c.command('SCRIPT', 'LOAD', RETURN_1));
      const decide = subject.make(c.client, `cost:${i}:`, sha);
      await run(decide, 5_000); // warm-up
      await c.command('CONFIG', 'RESETSTAT');
      const redis0 = await redisCpu(c.command);
      const node0 = process.cpuUsage();
      const start = performance.now();
      await run(decide, total);
      const ms = performance.now() - start;
      const node = process.cpuUsage(node0);
      const redis = (await redisCpu(c.command)) - redis0;
      const stats = String(await c.command('INFO', 'commandstats'));
      const script = /cmdstat_eval(?:sha)?:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/.exec(stats)?.[1] ?? '?';
      console.log(
        `| ${subject.name} | ${Math.round((total / ms) * 1000).toLocaleString('en-US')} | ${((node.user + node.system) / total).toFixed(2)} | ${((redis * 1e6) / total).toFixed(2)} | ${script} | ${((node.user + node.system) / 1e3 / ms + (redis * 1e3) / ms).toFixed(2)} |`,
      );
      await c.close();
    }
  } finally {
    await server.stop();
  }
}

async function run(decide: Decide, n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = next++; i < n; i = next++) await decide(KEYS[i % KEYS.length] as string);
    }),
  );
}

/** redis-server's main-thread CPU seconds so far (user + system). */
async function redisCpu(command: (...args: string[]) => Promise<unknown>): Promise<number> {
  const info = String(await command('INFO', 'cpu'));
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_user_main_thread') + field('used_cpu_sys_main_thread');
}

function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

await main();
