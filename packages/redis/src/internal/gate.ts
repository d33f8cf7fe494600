import type { Clock, Logger } from '@resilience/core';
import { isNoScript, type ScriptRunner } from '../client.js';
import type { LuaScript } from '../scripts.js';
import { ignoreRejection } from './quiet.js';

/** One command waiting for Redis: its own node in the gate's deadline list. */
class Pending {
  readonly deadline: number;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly probe: boolean;
  readonly script: LuaScript;
  readonly key: string;
  readonly args: readonly string[];
  prev: Pending | null = null;
  next: Pending | null = null;
  settled = false;
  /** The reply, kept while its hand-over waits for a later event-loop turn (see {@link BURST}). */
  reply: unknown = undefined;

  constructor(
    deadline: number,
    resolve: (reply: unknown) => void,
    reject: (error: unknown) => void,
    probe: boolean,
    script: LuaScript,
    key: string,
    args: readonly string[],
  ) {
    this.deadline = deadline;
    this.resolve = resolve;
    this.reject = reject;
    this.probe = probe;
    this.script = script;
    this.key = key;
    this.args = args;
  }
}

/**
 * The most answers of one burst (the replies a node-redis client parses from
 * one chunk, handed over in one run of microtasks) given to their callers at
 * once; the rest are given two event-loop turns later.
 *
 * node-redis writes every command issued in a turn in one `setImmediate`. With
 * many callers in a loop, all replies then arrive in one chunk, all the next
 * commands leave in one write, and Node and redis-server take turns: each idles
 * while the other works, so a decision costs the sum of their CPU times instead
 * of the larger one. Handing over the answers beyond this many a turn later
 * sends their next commands in a second write, while redis-server already runs
 * the first, and the two groups stay apart. ioredis writes each command at once
 * and needs none of this.
 */
export const BURST = 32;

/** Calls `ref()` or `unref()` on a timer handle that has them (a user's clock may return anything). */
function refTimer(handle: unknown, ref: boolean): void {
  if (typeof handle !== 'object' || handle === null) return;
  const method = (handle as { ref?: unknown; unref?: unknown })[ref ? 'ref' : 'unref'];
  if (typeof method === 'function') method.call(handle);
}

/** Settings of a {@link RedisGate}. */
export interface GateOptions {
  /** The class name, for messages. */
  readonly owner: string;
  /** The pattern's name, for messages. */
  readonly name: string;
  /** The longest a command may take, in ms. */
  readonly commandTimeout: number;
  /** Where time is read and the deadline timer scheduled. */
  readonly clock: Clock;
  /** Where the two transition lines go. */
  readonly logger: Logger | undefined;
}

/**
 * Sends scripts to Redis with a time limit and tells whether Redis is
 * available. All commands share one `commandTimeout`, so their deadlines come
 * in arrival order and one timer (armed only while a command is out) serves
 * them all. While Redis is down, at most one real command (a probe) is out at
 * a time and every other call is told at once to use the fallback; the first
 * answer brings Redis back. Each transition is logged once.
 */
export class RedisGate {
  readonly #runner: ScriptRunner;
  readonly #options: GateOptions;
  readonly #expire: () => void;
  #head: Pending | null = null;
  #tail: Pending | null = null;
  #timer: unknown = undefined;
  #up = true;
  #probing = false;
  #closed = false;
  #wrongTypeLogged = false;
  /** Whether answers of one burst beyond {@link BURST} are handed over later (node-redis clients). */
  readonly #split: boolean;
  /** Answers handed over so far in the current burst. */
  #burst = 0;
  /** Answers waiting for a later turn, in arrival order. */
  readonly #late: Pending[] = [];
  #lateScheduled = false;
  readonly #endBurst: () => void;
  readonly #hop: () => void;
  readonly #handOver: () => void;

  /**
   * @param runner - runs the scripts on the user's client
   * @param options - timeout, clock, logger and names
   */
  constructor(runner: ScriptRunner, options: GateOptions) {
    this.#runner = runner;
    this.#options = options;
    this.#expire = () => this.#expireDue();
    this.#split = runner.kind === 'node-redis';
    this.#endBurst = () => {
      this.#burst = 0;
    };
    // Two hops: the first immediate is queued before node-redis queues its write, so it runs before that write.
    this.#hop = () => setImmediate(this.#handOver);
    this.#handOver = () => this.#handOverLate();
  }

  /** False from a failed or late command until Redis answers again. */
  get available(): boolean {
    return this.#up;
  }

  /**
   * Sends `script`; `undefined` means "do not wait for Redis, use the
   * fallback now" (the client is reconnecting, or Redis is down and a probe is
   * already out). The promise rejects when Redis errs or is late.
   */
  call(script: LuaScript, key: string, args: readonly string[]): Promise<unknown> | undefined {
    if (this.#closed) return undefined;
    if (this.#runner.disconnected) {
      this.#down('the client is not connected', undefined);
      return undefined;
    }
    if (!this.#up) {
      if (this.#probing) return undefined;
      this.#probing = true;
    }
    const probe = !this.#up;
    return new Promise<unknown>((resolve, reject) => {
      const deadline = this.#options.clock.now() + this.#options.commandTimeout;
      const pending = new Pending(deadline, resolve, reject, probe, script, key, args);
      this.#push(pending);
      this.#send(pending, false);
    });
  }

  /** `EVALSHA`, then the script's text once after a `NOSCRIPT` (a new or restarted server). */
  #send(pending: Pending, text: boolean): void {
    let sent: Promise<unknown>;
    try {
      sent = text
        ? this.#runner.eval(pending.script, pending.key, pending.args)
        : this.#runner.evalsha(pending.script, pending.key, pending.args);
    } catch (error) {
      // A client whose method throws synchronously (a closed node-redis client may) is unavailable too.
      sent = Promise.reject(error);
    }
    sent.then(
      (reply) => this.#settle(pending, reply, undefined, true),
      (error: unknown) => {
        if (!text && !pending.settled && isNoScript(error)) this.#send(pending, true);
        else if (isWrongType(error)) this.#wrongType(pending, error);
        else this.#settle(pending, undefined, error, false);
      },
    );
  }

  /** Sends `script` without waiting for or judging the answer (a best-effort release). */
  fireAndForget(script: LuaScript, key: string, args: string[]): void {
    try {
      this.#runner.run(script, key, args).catch(() => undefined);
    } catch {
      // Best effort: the lease expires anyway.
    }
  }

  /** Stops the deadline timer; pending commands settle as unavailable, later calls use the fallback. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const error = new Error(`${this.#options.owner}: closed`);
    for (let p = this.#head; p !== null; p = this.#head) this.#settle(p, undefined, error, false, true);
  }

  #settle(pending: Pending, reply: unknown, error: unknown, ok: boolean, quiet = false): void {
    if (pending.settled) return;
    pending.settled = true;
    if (pending.probe) this.#probing = false;
    this.#remove(pending);
    if (ok) {
      this.#back();
      if (this.#split && this.#defer(pending, reply)) return;
      pending.resolve(reply);
    } else {
      if (!quiet) this.#down('a command failed', error);
      pending.reject(error);
    }
  }

  /** Counts `pending` into the current burst; true when its answer waits for a later turn. */
  #defer(pending: Pending, reply: unknown): boolean {
    // The replies of one chunk reach here in one run of microtasks, before any caller's next command; a
    // microtask queued at the first of them runs after the last, and ends the burst.
    if (this.#burst++ === 0) queueMicrotask(this.#endBurst);
    if (this.#burst <= BURST) return false;
    pending.reply = reply;
    this.#late.push(pending);
    if (!this.#lateScheduled) {
      this.#lateScheduled = true;
      setImmediate(this.#hop);
    }
    return true;
  }

  #handOverLate(): void {
    this.#lateScheduled = false;
    const late = this.#late;
    // resolve() runs no caller code synchronously, so nothing joins the list while it is read.
    for (let i = 0; i < late.length; i++) {
      const pending = late[i] as Pending;
      const reply = pending.reply;
      pending.reply = undefined;
      pending.resolve(reply);
    }
    late.length = 0;
  }

  /**
   * Redis answered, but the key holds a value of another type (someone
   * else's): this call gets the fallback's decision (it rejects), while Redis
   * stays available for every other key. Logged once per gate, not per call.
   */
  #wrongType(pending: Pending, error: unknown): void {
    if (pending.settled) return;
    pending.settled = true;
    if (pending.probe) this.#probing = false;
    this.#remove(pending);
    this.#back();
    if (!this.#wrongTypeLogged) {
      this.#wrongTypeLogged = true;
      const { owner, name, logger } = this.#options;
      try {
        ignoreRejection(
          logger?.warn(
            `${owner} ${name}: the Redis key ${JSON.stringify(pending.key)} holds a value of another type (not this package's); the fallback decides for such keys (logged once)`,
            { name, err: error },
          ),
        );
      } catch {
        // A throwing logger changes no outcome.
      }
    }
    pending.reject(error);
  }

  #down(why: string, error: unknown): void {
    if (!this.#up) return;
    this.#up = false;
    const { owner, name, logger } = this.#options;
    try {
      ignoreRejection(
        logger?.warn(`${owner} ${name}: Redis is unavailable (${why}); the fallback decides until it answers again`, {
          name,
          err: error,
        }),
      );
    } catch {
      // A throwing logger changes no outcome.
    }
  }

  #back(): void {
    if (this.#up) return;
    this.#up = true;
    const { owner, name, logger } = this.#options;
    try {
      ignoreRejection(logger?.info(`${owner} ${name}: Redis answers again; decisions are back on Redis`, { name }));
    } catch {
      // A throwing logger changes no outcome.
    }
  }

  #push(pending: Pending): void {
    const tail = this.#tail;
    pending.prev = tail;
    if (tail === null) {
      this.#head = pending;
      if (this.#timer === undefined) this.#arm(pending);
      else refTimer(this.#timer, true);
    } else {
      tail.next = pending;
    }
    this.#tail = pending;
  }

  #remove(pending: Pending): void {
    const { prev, next } = pending;
    if (prev === null) this.#head = next;
    else prev.next = next;
    if (next === null) this.#tail = prev;
    else next.prev = prev;
    pending.prev = null;
    pending.next = null;
    // With nothing out, the timer no longer holds the process; it is left armed (unref'd) rather than
    // cleared, so a steady stream of calls does not pay a setTimeout and a clearTimeout each.
    if (this.#head === null && this.#timer !== undefined) refTimer(this.#timer, false);
  }

  #arm(head: Pending): void {
    const clock = this.#options.clock;
    // Ref'd: a caller is waiting for this answer.
    this.#timer = clock.setTimeout(this.#expire, Math.max(0, head.deadline - clock.now()));
  }

  #expireDue(): void {
    this.#timer = undefined;
    const now = this.#options.clock.now();
    for (let p = this.#head; p !== null && p.deadline <= now; p = this.#head) {
      this.#settle(p, undefined, new Error(`Redis did not answer within ${this.#options.commandTimeout} ms`), false);
    }
    if (this.#head !== null) this.#arm(this.#head);
  }
}

/** Whether `error` is Redis saying a key holds a value of another type (`WRONGTYPE`): the server answered. */
function isWrongType(error: unknown): boolean {
  return error instanceof Error && typeof error.message === 'string' && error.message.startsWith('WRONGTYPE');
}
