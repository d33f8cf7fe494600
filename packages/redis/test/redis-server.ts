import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { RedisClientKind, RedisClientLike } from '../src/index.js';

/** The redis-server binary on PATH, or undefined. In CI a missing binary fails the run instead of skipping. */
export const redisServerBinary: string | undefined = (() => {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.status === 0 ? found.stdout.trim() : '';
  if (path !== '') return path;
  const message =
    'redis-server is not installed: install it with `apt-get update && apt-get install -y redis-server` to run the @resilience/redis tests';
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(message);
  console.warn(`skipping: ${message}`);
  return undefined;
})();

/** A free TCP port on 127.0.0.1 (asked from the OS, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A redis-server of the test's own, on a free port, with no persistence. */
export class RedisServer {
  readonly port: number;
  readonly #extra: readonly string[];
  #child: ChildProcess | undefined = undefined;

  private constructor(port: number, extra: readonly string[]) {
    this.port = port;
    this.#extra = extra;
  }

  /** Starts a server on a free port (with `extra` arguments) and resolves once it accepts connections. */
  static async start(extra: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), extra);
    await server.resume();
    return server;
  }

  /** Starts (again) on the same port. */
  async resume(): Promise<void> {
    if (this.#child !== undefined) return;
    const child = spawn(
      redisServerBinary as string,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        ...this.#extra,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
    child.stdout?.removeAllListeners('data');
    child.stdout?.resume();
    child.removeAllListeners('exit');
  }

  /** Kills the server (SIGKILL: as abrupt as a crash) and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

/** The client libraries and major versions the tests run against. */
export const clientLibraries = ['ioredis', 'ioredis5', 'redis', 'redis5', 'redis4'] as const;

/** One of {@link clientLibraries}. */
export type ClientLibrary = (typeof clientLibraries)[number];

/** Which kind a library's clients are. */
export function kindOf(library: ClientLibrary): RedisClientKind {
  return library.startsWith('ioredis') ? 'ioredis' : 'node-redis';
}

interface IORedisModule {
  Redis: new (options: object) => IORedisClient;
}
interface IORedisClient {
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  once(event: string, fn: (...args: unknown[]) => void): unknown;
  call(command: string, ...args: string[]): Promise<unknown>;
  disconnect(): void;
}
interface NodeRedisModule {
  createClient(options: object): NodeRedisClient;
}
interface NodeRedisClient {
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  connect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  readonly isOpen: boolean;
  disconnect?(): Promise<void>;
  destroy?(): void;
}

/** A client of `library` that is not connected and never will be (nothing listens on port 1). */
export async function unreachable(library: ClientLibrary): Promise<RedisClientLike> {
  if (kindOf(library) === 'ioredis') {
    const { Redis } = (await import(library)) as IORedisModule;
    const client = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => undefined);
    client.disconnect();
    return client as unknown as RedisClientLike;
  }
  const { createClient } = (await import(library)) as NodeRedisModule;
  const client = createClient({ socket: { host: '127.0.0.1', port: 1 } });
  client.on('error', () => undefined);
  return client as unknown as RedisClientLike;
}

/** A connected client of `library`, with an error listener (an unhandled 'error' event would crash node-redis). */
export async function connect(library: ClientLibrary, port: number, options: object = {}): Promise<TestClient> {
  if (kindOf(library) === 'ioredis') {
    const { Redis } = (await import(library)) as IORedisModule;
    const client = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 50, maxRetriesPerRequest: 1, ...options });
    client.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('end', () => reject(new Error('ioredis did not connect')));
    });
    return {
      client: client as unknown as RedisClientLike,
      command: (...args) => client.call(args[0] as string, ...args.slice(1)),
      close: async () => {
        client.disconnect();
      },
    };
  }
  const { createClient } = (await import(library)) as NodeRedisModule;
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: () => 50 } });
  client.on('error', () => undefined);
  await client.connect();
  return {
    client: client as unknown as RedisClientLike,
    command: (...args) => client.sendCommand(args),
    close: async () => {
      if (!client.isOpen) return;
      if (client.destroy !== undefined) client.destroy();
      else await client.disconnect?.();
    },
  };
}

/** A client for a test: the client itself, a raw command runner, and close(). */
export interface TestClient {
  readonly client: RedisClientLike;
  command(...args: string[]): Promise<unknown>;
  close(): Promise<void>;
}
