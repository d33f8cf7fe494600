// Starts a local Redis (unless REDIS_URL is set) and two gateway processes,
// sends requests to both in turn, and shows that they share one limit:
// 10 requests per minute per API key in total, not 10 per gateway.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** Runs `redis-server` on a free port without persistence; resolves once it accepts connections. */
async function startRedis(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.once('error', (err) =>
      reject(new Error(`cannot start redis-server (${err.message}): install it, or set REDIS_URL`)),
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
  });
  child.stdout?.resume();
  return { url: `redis://127.0.0.1:${port}`, child };
}

/** Starts one gateway process and resolves with its port once it listens. */
async function startGateway(name: string, redisUrl: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@resilience/source', '--import', 'tsx', fileURLToPath(new URL('./gateway.ts', import.meta.url))],
    { env: { ...process.env, NAME: name, REDIS_URL: redisUrl, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
    child.stdout?.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { port: number }).port));
  });
  child.removeAllListeners('exit');
  return { port, child };
}

const redis = process.env.REDIS_URL === undefined ? await startRedis() : undefined;
const redisUrl = process.env.REDIS_URL ?? (redis as { url: string }).url;
const gateways = await Promise.all([startGateway('gateway-a', redisUrl), startGateway('gateway-b', redisUrl)]);
const apiKey = `demo-${Date.now()}`;
try {
  console.log(`two gateways on ports ${gateways.map((g) => g.port).join(' and ')}, sharing ${redisUrl}`);
  let allowed = 0;
  for (let i = 0; i < 16; i++) {
    const gateway = gateways[i % 2] as { port: number };
    const res = await fetch(`http://127.0.0.1:${gateway.port}/hello`, { headers: { 'x-api-key': apiKey } });
    const body = (await res.json()) as { gateway?: string };
    if (res.status === 200) allowed++;
    const detail =
      res.status === 200 ? `served by ${body.gateway}` : `refused, Retry-After ${res.headers.get('retry-after')} s`;
    console.log(`request ${String(i + 1).padStart(2)} via port ${gateway.port}: ${res.status} ${detail}`);
  }
  console.log(`allowed ${allowed} of 16: one budget of 10 per minute for the key, shared by both gateways`);

  const exportRuns = await Promise.all(
    [0, 1, 2, 3].map(async (i) => {
      const res = await fetch(`http://127.0.0.1:${(gateways[i % 2] as { port: number }).port}/export`, {
        headers: { 'x-api-key': `${apiKey}-export-${i}` },
      });
      return (await res.json()) as { exporting: number };
    }),
  );
  console.log(
    `exports running at once across both gateways, as each saw it: ${exportRuns.map((e) => e.exporting).join(', ')} (limit 2)`,
  );
} finally {
  for (const g of gateways) {
    const exited = once(g.child, 'exit');
    g.child.kill('SIGTERM');
    await exited;
  }
  redis?.child.kill('SIGKILL');
}
