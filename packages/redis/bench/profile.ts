// Scratch: where does the time of a decision go? Node CPU vs redis-server CPU per subject.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RedisRateLimiter } from '../src/index.js';
import { connect, freePort, type ClientLibrary } from '../test/redis-server.js';

const port = await freePort();
const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));
const ticks = () => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // ms (CLK_TCK 100)
};
const KEYS = Array.from({ length: 1000 }, (_, i) => `user:${i}`);
const callers = Number(process.env.CALLERS ?? 100);
const total = Number(process.env.TOTAL ?? 100000);
const only = process.env.ONLY;
async function run(name: string, library: ClientLibrary, options: object, make: (c: any, p: string) => (k: string) => Promise<unknown>) {
  if (only && !name.includes(only)) return;
  const c = await connect(library, port, options);
  const decide = make(c.client, `p:${name}:`);
  let next = 0;
  const go = async (n: number) => { next = 0; await Promise.all(Array.from({ length: callers }, async () => { for (let i = next++; i < n; i = next++) await decide(KEYS[i % 1000]!); })); };
  await go(5000);
  await c.command('CONFIG', 'RESETSTAT');
  const r0 = ticks(); const n0 = process.cpuUsage(); const t0 = performance.now();
  await go(total);
  const ms = performance.now() - t0; const n1 = process.cpuUsage(n0); const r1 = ticks();
  const stats = String(await c.command('INFO', 'commandstats')).split('\n').filter((l) => l.startsWith('cmdstat_')).map((l) => l.trim().replace(/,rejected_calls=0,failed_calls=0/, '')).join('\n    ');
  console.log(`${name}: ${Math.round(total / ms * 1000)}/s, node cpu ${((n1.user + n1.system) / 1000 / total * 1000).toFixed(2)} us/decision (${Math.round((n1.user + n1.system) / 10 / ms)}% of a core), redis cpu ${((r1 - r0) / total * 1000).toFixed(2)} us/decision (${Math.round((r1 - r0) / ms * 100)}%)\n    ${stats}`);
  await c.close();
}
const ours = (c: any, p: string) => { const l = new RedisRateLimiter({ client: c, rate: 1e6, interval: 1e9, prefix: p }); return (k: string) => l.consume(k); };
const theirs = (lib: string) => (c: any, p: string) => { const l = new RateLimiterRedis({ storeClient: c, points: 1e6, duration: 1e6, keyPrefix: p, useRedisPackage: lib === 'redis' }); return (k: string) => l.consume(k); };
const bare = (lib: string) => (c: any) => lib === 'redis' ? (k: string) => c.evalSha('e0e1f9fabfc9d4800c877a703b823ac0578ff8db', { keys: [k], arguments: [] }) : (k: string) => c.evalsha('e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 1, k);
{ const c = await connect('ioredis', port); await c.command('SCRIPT', 'LOAD', 'return 1'); await c.close(); }
for (const lib of ['ioredis', 'redis'] as const) {
  await run(`ours ${lib}`, lib, {}, ours);
  await run(`rlf ${lib}`, lib, {}, theirs(lib));
  await run(`bare-evalsha ${lib}`, lib, {}, bare(lib));
}
child.kill('SIGKILL');
