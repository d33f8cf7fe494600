import { describeValue } from '@resilience/core/validate';
import type { LuaScript } from './scripts.js';

/**
 * The part of an ioredis client (`Redis` or `Cluster`, v5 or later) this
 * package uses, typed structurally so it imports nothing from ioredis.
 */
export interface IORedisLike {
  /** `'wait' | 'connecting' | 'connect' | 'ready' | 'reconnecting' | 'close' | 'end'`. */
  readonly status: string;
  /** `EVALSHA sha numkeys key… arg…`. */
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** `EVAL script numkeys key… arg…`. */
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/**
 * The part of a node-redis client (`createClient()` or `createCluster()` of
 * the `redis` package, v4 or later) this package uses, typed structurally.
 */
export interface NodeRedisLike {
  /** False before `connect()` and after the client is closed. */
  readonly isOpen: boolean;
  /** True while the connection is up. */
  readonly isReady: boolean;
  /** `EVALSHA`, with keys and arguments as strings. */
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** `EVAL`, with keys and arguments as strings. */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** A Redis client this package accepts: an ioredis or a node-redis client (or cluster). */
export type RedisClientLike = IORedisLike | NodeRedisLike;

/** Which library a client comes from. */
export type RedisClientKind = 'ioredis' | 'node-redis';

/**
 * Runs the package's Lua scripts on either client: `EVALSHA` first, the
 * script text (`EVAL`, which also caches it) after a `NOSCRIPT`.
 */
export class ScriptRunner {
  /** Which library the client comes from. */
  readonly kind: RedisClientKind;
  readonly #client: RedisClientLike;

  /**
   * @param owner - the class name used in error messages
   * @param client - an ioredis or node-redis client
   * @throws TypeError when `client` is neither
   */
  constructor(owner: string, client: unknown) {
    this.kind = detectClient(owner, client);
    this.#client = client as RedisClientLike;
  }

  /**
   * Whether the client says it cannot send now (reconnecting or closed), so a
   * command would only wait in its offline queue. A client still connecting
   * for the first time is given the chance.
   */
  get disconnected(): boolean {
    if (this.kind === 'ioredis') {
      const status = (this.#client as IORedisLike).status;
      return status === 'reconnecting' || status === 'close' || status === 'end';
    }
    const client = this.#client as NodeRedisLike;
    return client.isOpen === true && client.isReady === false;
  }

  /** Runs `script` with one key and `args`; settles with the reply or the client's error. */
  run(script: LuaScript, key: string, args: readonly string[]): Promise<unknown> {
    return this.evalsha(script, key, args).catch((error: unknown) => {
      if (!isNoScript(error)) throw error;
      return this.eval(script, key, args);
    });
  }

  /** `EVALSHA` of `script` with one key and `args` (may reject with a `NOSCRIPT` error). */
  evalsha(script: LuaScript, key: string, args: readonly string[]): Promise<unknown> {
    if (this.kind === 'ioredis') return (this.#client as IORedisLike).evalsha(script.sha, 1, key, ...args);
    return (this.#client as NodeRedisLike).evalSha(script.sha, { keys: [key], arguments: args as string[] });
  }

  /** `EVAL` of `script`'s text with one key and `args` (which also caches the script). */
  eval(script: LuaScript, key: string, args: readonly string[]): Promise<unknown> {
    if (this.kind === 'ioredis') return (this.#client as IORedisLike).eval(script.source, 1, key, ...args);
    return (this.#client as NodeRedisLike).eval(script.source, { keys: [key], arguments: args as string[] });
  }
}

/** Whether `error` is Redis saying it does not know a script's SHA (`NOSCRIPT`). */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && typeof error.message === 'string' && error.message.startsWith('NOSCRIPT');
}

/**
 * Tells an ioredis client (lowercase `evalsha` and a `status`) from a
 * node-redis one (`evalSha` and `isOpen`), as rate-limiter-flexible does.
 * @throws TypeError naming `client` when it is neither
 */
export function detectClient(owner: string, client: unknown): RedisClientKind {
  if (client !== null && typeof client === 'object') {
    const c = client as Record<string, unknown>;
    if (typeof c.evalsha === 'function' && typeof c.eval === 'function' && typeof c.status === 'string') {
      return 'ioredis';
    }
    if (typeof c.evalSha === 'function' && typeof c.eval === 'function' && 'isOpen' in c) return 'node-redis';
  }
  throw new TypeError(
    `${owner}: client must be an ioredis client (new Redis()) or a node-redis client (createClient()), got ${describeValue(client)}`,
  );
}
