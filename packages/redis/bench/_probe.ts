import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RedisRateLimiter } from '../src/index.js';
import { TOKEN_BUCKET } from '../src/scripts.js';
import { connect, RedisServer } from '../test/redis-server.js';

const server = await RedisServer.start();
const callers = Number(process.argv[2] ?? 1);
for (const lib of ['ioredis', 'redis'] as const) {
  const c = await connect(lib, server.port);
  const client = c.client as any;
  await c.command('SCRIPT', 'LOAD', TOKEN_BUCKET.source);
  const trivial = String(await c.command('SCRIPT', 'LOAD', 'return {1,2,3,4}'));
  async function run(label: string, f: (i: number) => Promise<unknown>) {
    const total = 30000;
    let next = 0;
    const t = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: callers }, async () => {
        for (let i = next++; i < total; i = next++) await f(i);
      }),
    );
    return [label, Math.round(total / (Number(process.hrtime.bigint() - t) / 1e9))] as const;
  }
  const lim = new RedisRateLimiter({ client, rate: 1e9, interval: 60000, prefix: 'p:' });
  const rlf = new RateLimiterRedis({
    storeClient: client,
    points: 1e9,
    duration: 60,
    keyPrefix: 'r',
    useRedisPackage: lib === 'redis',
  });
  const args = ['1000000000', '60000', '1000000000', '1', '1'];
  const subjects: Array<[string, (i: number) => Promise<unknown>]> =
    lib === 'ioredis'
      ? [
          ['raw evalsha ours', (i) => client.evalsha(TOKEN_BUCKET.sha, 1, `k${i % 1000}`, ...args)],
          ['raw evalsha trivial', (i) => client.evalsha(trivial, 1, `k${i % 1000}`)],
          ['limiter', (i) => lim.consume(`k${i % 1000}`)],
          ['rlf', (i) => rlf.consume(`k${i % 1000}`)],
        ]
      : [
          ['raw evalSha ours', (i) => client.evalSha(TOKEN_BUCKET.sha, { keys: [`k${i % 1000}`], arguments: args })],
          ['raw evalSha trivial', (i) => client.evalSha(trivial, { keys: [`k${i % 1000}`], arguments: [] })],
          ['limiter', (i) => lim.consume(`k${i % 1000}`)],
          ['rlf', (i) => rlf.consume(`k${i % 1000}`)],
        ];
  const best = new Map<string, number>();
  for (let r = 0; r < 4; r++)
    for (const [label, f] of r % 2 ? [...subjects].reverse() : subjects) {
      const [, v] = await run(label, f);
      best.set(label, Math.max(best.get(label) ?? 0, v));
    }
  console.log(lib, callers, Object.fromEntries(best));
  await c.close();
}
const stats = await (await connect('ioredis', server.port)).command('INFO', 'commandstats');
console.log(
  String(stats)
    .split('\n')
    .filter((l) => /eval/.test(l))
    .join('\n'),
);
await server.stop();
process.exit(0);
