// Reload limits from a file while the service runs: `configure()` checks the
// whole file first, so a bad edit is refused and the previous settings stay.
//
//   pnpm --filter @resilience/example-http ops:reload
import { unwatchFile, watchFile } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyRegistry } from '@resilience/core';

/** Applies `path` to `policies` now and whenever the file changes; returns what stops watching. */
export async function watchPolicies(
  policies: PolicyRegistry,
  path: string,
  log: (line: string) => void,
  intervalMs = 1_000,
): Promise<() => void> {
  const load = async (): Promise<void> => {
    try {
      policies.configure(JSON.parse(await readFile(path, 'utf8')));
      log(`applied ${path}`);
    } catch (err) {
      log(`kept the previous settings: ${(err as Error).message}`);
    }
  };
  await load();
  // watchFile polls the file's stat: it sees editors that save by renaming, on every platform.
  const onChange = (): void => void load();
  watchFile(path, { interval: intervalMs, persistent: false }, onChange);
  return () => unwatchFile(path, onChange);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'resilience-ops-'));
  const file = join(dir, 'resilience.json');
  const policies = new PolicyRegistry();
  const limiter = policies.rateLimiter('api', { rate: 10, interval: 1_000 });
  const log = (line: string): void => console.log(`${line.padEnd(60)} rate=${limiter.rate} burst=${limiter.burst}`);

  await writeFile(file, JSON.stringify({ rateLimiter: { api: { rate: 50, burst: 100 } } }));
  const stop = await watchPolicies(policies, file, log, 50);
  const changed = (rate: number): Promise<void> =>
    new Promise((resolve) => {
      const poll = setInterval(() => {
        if (limiter.rate === rate) resolve(void clearInterval(poll));
      }, 10);
    });

  await writeFile(file, JSON.stringify({ rateLimiter: { api: { rate: 5 } } }));
  await changed(5);
  // A typo is refused with its path, and the limits stay as they were.
  await writeFile(file, JSON.stringify({ rateLimiter: { api: { rate: 1, brust: 2 } } }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  stop();
  await rm(dir, { recursive: true, force: true });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
