import { randomUUID } from 'node:crypto';
import {
  Bulkhead,
  BulkheadFullError,
  type Clock,
  type ExecuteOptions,
  type ExecutionContext,
  type Logger,
  type MetricsRecorder,
  type Operation,
  type Policy,
  unrefTimer,
} from '@resilience/core';
import {
  clockOption,
  configObject,
  describeValue,
  functionOption,
  numberOption,
  requiredNumber,
  requireMethod,
  stringOption,
} from '@resilience/core/validate';
import { type RedisClientKind, ScriptRunner } from './client.js';
import { subscribe, unsubscribe } from './internal/abort-fanout.js';
import {
  BULKHEAD_HINTS,
  BULKHEAD_OPTIONS,
  fallbackOption,
  knownKeys,
  MAX_TIMER_MS,
  wellFormed,
} from './internal/config.js';
import { RedisGate } from './internal/gate.js';
import { ignoreRejection } from './internal/quiet.js';
import { Waiter, WaiterQueue } from './internal/waiters.js';
import { ACQUIRE, COUNT, RELEASE, RENEW } from './scripts.js';
import type { BulkheadFallback, RedisBulkheadConfig } from './types.js';

const OWNER = 'RedisBulkhead';
const neverAborted: AbortSignal = new AbortController().signal;
/** Leases released per command by close(), under Lua's limit on unpacked arguments. */
const RELEASE_BATCH = 1_000;

/** What runs calls while Redis is unavailable, once resolved from the config. */
type Fallback = Policy | 'allow' | 'deny';

/** The result of asking Redis for a lease. */
type Acquired = string | 'full' | 'unavailable';

/**
 * A bulkhead whose `maxConcurrent` holds across every process using the same
 * Redis and `name`: each running call holds a lease in a sorted set (scored
 * with its expiry on the Redis server's clock). A lease is renewed every
 * `leaseMs / 3` while its call runs and given back when the call settles; the
 * lease of a process that died expires after `leaseMs`, freeing its slot.
 *
 * Up to `maxQueue` calls of this process wait (FIFO, at most `queueTimeout`
 * ms) for a slot: a slot freed here is handed on at once, and the first
 * waiter asks Redis every `pollInterval` ms for a slot freed elsewhere.
 * Others are rejected with a `BulkheadFullError`.
 *
 * While Redis errs or does not answer within `commandTimeout`,
 * `whenUnavailable` runs the calls (an in-memory `Bulkhead` with the same
 * settings by default, so each process then admits `maxConcurrent` on its
 * own); one log line marks each transition.
 *
 * `active` and `queued` are this process's, read synchronously;
 * `fleetActive()` asks Redis for the count across every process.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const reports = new RedisBulkhead({ client: new Redis(), name: 'reports', maxConcurrent: 4, leaseMs: 10_000, maxQueue: 20 });
 * const pdf = await reports.execute(({ signal }) => renderReport(id, { signal }));
 * ```
 */
export class RedisBulkhead<T = unknown> implements Policy<T> {
  /** Identifies the bulkhead across processes. */
  readonly name: string;
  /** How many calls may run at once across every process. */
  readonly maxConcurrent: number;
  /** How long a lease lasts without renewal, in ms. */
  readonly leaseMs: number;
  /** How many calls of this process may wait for a slot. */
  readonly maxQueue: number;
  /** The longest a call may wait in the queue, in ms. */
  readonly queueTimeout: number;
  /** How often the first waiter asks Redis for a slot, in ms. */
  readonly pollInterval: number;
  /** The longest one Redis command may take, in ms. */
  readonly commandTimeout: number;
  /** The Redis key of the lease set. */
  readonly key: string;
  /** Which client library it talks through. */
  readonly clientKind: RedisClientKind;
  readonly #gate: RedisGate;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: MetricsRecorder | undefined;
  readonly #onRejected: (() => void) | undefined;
  readonly #fallback: Fallback;
  readonly #idBase: string = `${randomUUID()}:`;
  readonly #held = new Set<string>();
  readonly #renew: () => void;
  readonly #poll: () => void;
  readonly #expire: () => void;
  readonly #leave: (waiter: Waiter, reason: unknown) => void;
  #seq = 0;
  #active = 0;
  #acquiring = 0;
  readonly #queue = new WaiterQueue();
  #pumping = false;
  #renewTimer: unknown = undefined;
  #pollTimer: unknown = undefined;
  #expireTimer: unknown = undefined;
  #closed = false;

  /**
   * @param config - `client`, `name`, `maxConcurrent` (required), `leaseMs`, `maxQueue`, `queueTimeout`, `pollInterval`, `prefix`, `commandTimeout`, `whenUnavailable`, `onRejected`, `clock`, `logger`, `metrics`
   * @throws TypeError or RangeError naming the option when the config is invalid
   */
  constructor(config: RedisBulkheadConfig) {
    const c = configObject(OWNER, config) as Partial<RedisBulkheadConfig>;
    knownKeys(OWNER, c, BULKHEAD_OPTIONS, BULKHEAD_HINTS);
    const runner = new ScriptRunner(OWNER, c.client);
    this.clientKind = runner.kind;
    if (typeof c.name !== 'string' || c.name === '') {
      throw new TypeError(`${OWNER}: name must be a non-empty string, got ${describeValue(c.name)}`);
    }
    this.name = wellFormed(OWNER, 'name', c.name);
    this.maxConcurrent = requiredNumber(OWNER, 'maxConcurrent', c.maxConcurrent, { min: 1, integer: true });
    this.leaseMs = numberOption(OWNER, 'leaseMs', c.leaseMs, 30_000, { min: 100, max: MAX_TIMER_MS, integer: true });
    this.maxQueue = numberOption(OWNER, 'maxQueue', c.maxQueue, 0, { min: 0, integer: true, allowInfinity: true });
    this.queueTimeout = numberOption(OWNER, 'queueTimeout', c.queueTimeout, Number.POSITIVE_INFINITY, {
      min: 0,
      allowInfinity: true,
    });
    this.pollInterval = numberOption(OWNER, 'pollInterval', c.pollInterval, 50, { min: 1, max: MAX_TIMER_MS });
    this.commandTimeout = numberOption(OWNER, 'commandTimeout', c.commandTimeout, 250, {
      min: 0,
      minExclusive: true,
      max: MAX_TIMER_MS,
    });
    const prefix = wellFormed(OWNER, 'prefix', stringOption(OWNER, 'prefix', c.prefix, 'resilience:bulkhead:'));
    // `{…}` is the hash tag: the whole lease set lives in one slot of a cluster.
    this.key = `${prefix}{${this.name}}`;
    this.#onRejected = functionOption(OWNER, 'onRejected', c.onRejected);
    this.#clock = clockOption(OWNER, c.clock);
    const logger = c.logger ?? console;
    requireMethod(OWNER, 'logger', logger, 'warn');
    requireMethod(OWNER, 'logger', logger, 'info');
    this.#logger = logger;
    if (c.metrics !== undefined) requireMethod(OWNER, 'metrics', c.metrics, 'recordBulkheadUtilization');
    this.#metrics = c.metrics;
    this.#fallback = this.#fallbackOption(c.whenUnavailable);
    this.#gate = new RedisGate(runner, {
      owner: OWNER,
      name: this.name,
      commandTimeout: this.commandTimeout,
      clock: this.#clock,
      logger,
    });
    this.#renew = () => this.#renewLeases();
    this.#poll = () => {
      this.#pollTimer = undefined;
      this.#pump();
    };
    this.#expire = () => this.#expireWaiters();
    this.#leave = (waiter, reason) => {
      // Its signal aborted: it leaves the queue at once.
      this.#dequeue(waiter);
      waiter.reject(reason);
      this.#record();
    };
  }

  /** How many calls of this process are running now (on a lease, or run by the fallback). */
  get active(): number {
    return this.#active;
  }

  /** How many calls of this process wait for a slot. */
  get queued(): number {
    return this.#queue.size;
  }

  /** False while Redis is unavailable and `whenUnavailable` runs the calls. */
  get available(): boolean {
    return this.#gate.available;
  }

  /**
   * How many leases are held now across every process (expired ones not
   * counted). Rejects when Redis is unavailable.
   */
  async fleetActive(): Promise<number> {
    const sent = this.#gate.call(COUNT, this.key, []);
    if (sent === undefined) throw new Error(`${OWNER} ${this.name}: Redis is unavailable`);
    let reply: unknown;
    try {
      reply = await sent;
    } catch (cause) {
      throw new Error(`${OWNER} ${this.name}: Redis is unavailable`, { cause });
    }
    if (typeof reply !== 'number') throw new TypeError(`${OWNER}: unexpected reply ${describeValue(reply)}`);
    return reply;
  }

  /**
   * Runs `fn` once a slot is free across the fleet: at once, after a wait in
   * this process's queue, or not at all (a `BulkheadFullError`). Settles with
   * `fn`'s own value or error; an aborted `options.signal` rejects with its
   * reason (a queued call leaves the queue at once). Never throws synchronously.
   */
  async execute<R extends T>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
    const signal = options?.signal;
    if (signal?.aborted) throw signal.reason;
    if (typeof fn !== 'function') throw new TypeError(`${OWNER}: fn must be a function, got ${describeValue(fn)}`);
    if (this.#closed) throw new Error(`${OWNER} ${this.name}: closed`);
    const ctx: ExecutionContext = {
      signal: signal ?? neverAborted,
      attempt: options?.attempt ?? 1,
      deadline: options?.deadline,
    };
    if (this.#queue.head === null && this.#active + this.#acquiring < this.maxConcurrent) {
      this.#acquiring++;
      let lease: Acquired;
      try {
        lease = await this.#acquire();
      } finally {
        this.#acquiring--;
      }
      if (signal?.aborted) {
        // The caller gave up while Redis answered: run nothing, give the lease back.
        if (lease !== 'unavailable' && lease !== 'full') await this.#release(lease);
        throw signal.reason;
      }
      // close() came while Redis answered: run nothing, and do not queue, since nothing would ever serve the
      // queue again. A lease #acquire returned before close() (answers of one burst settle in one run of
      // microtasks, and node-redis hands some over later) is not among those close() gave back: give it back here.
      if (this.#closed) {
        if (lease !== 'unavailable' && lease !== 'full') this.#gate.fireAndForget(RELEASE, this.key, [lease]);
        throw new Error(`${OWNER} ${this.name}: closed`);
      }
      if (lease === 'unavailable') return (await this.#runFallback(fn, ctx)) as R;
      if (lease !== 'full') return (await this.#runLeased(fn, ctx, lease)) as R;
    } else if (!this.#gate.available) {
      // Redis is down: the fallback decides (the local in-memory bulkhead queues on its own), not this queue;
      // the calls queued here go to it first, in order. This call took no lease request, so it probes Redis.
      this.#probe();
      this.#pump();
      return (await this.#runFallback(fn, ctx)) as R;
    }
    if (this.#queue.size >= this.maxQueue) throw this.#rejection('full');
    return (await this.#enqueue(fn, ctx)) as R;
  }

  /**
   * Stops renewals and polling, rejects the queued calls, and gives back every
   * lease this process holds (calls still running finish, no longer counted).
   * Later calls are rejected. The client is yours: it is not closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer('renew');
    this.#clearTimer('poll');
    this.#clearTimer('expire');
    const error = new Error(`${OWNER} ${this.name}: closed`);
    for (let w = this.#queue.head; w !== null; w = this.#queue.head) this.#dequeue(w).reject(error);
    const ids = [...this.#held];
    this.#held.clear();
    const releases: Array<Promise<unknown>> = [];
    for (let i = 0; i < ids.length; i += RELEASE_BATCH) {
      const batch = ids.slice(i, i + RELEASE_BATCH);
      const sent = this.#gate.call(RELEASE, this.key, batch);
      if (sent !== undefined) releases.push(sent.catch(() => undefined));
      // Redis is marked down with a probe out: send it anyway, best effort (else the slots stay taken for leaseMs).
      else this.#gate.fireAndForget(RELEASE, this.key, batch);
    }
    await Promise.all(releases);
    this.#gate.close();
    this.#record();
  }

  async #acquire(): Promise<Acquired> {
    const id = `${this.#idBase}${this.#seq++}`;
    const sent = this.#gate.call(ACQUIRE, this.key, [String(this.maxConcurrent), String(this.leaseMs), id]);
    if (sent === undefined) return 'unavailable';
    let reply: unknown;
    try {
      reply = await sent;
    } catch {
      // Late or failed: if Redis did take it, give it back (same connection, so after the acquire).
      this.#gate.fireAndForget(RELEASE, this.key, [id]);
      return 'unavailable';
    }
    if (!Array.isArray(reply) || reply.length !== 2) return 'unavailable';
    if (reply[0] !== 1) return 'full';
    if (this.#closed) {
      this.#gate.fireAndForget(RELEASE, this.key, [id]);
      return 'full';
    }
    return id;
  }

  async #runLeased(fn: Operation<unknown>, ctx: ExecutionContext, id: string): Promise<unknown> {
    this.#held.add(id);
    this.#active++;
    this.#armRenewal();
    this.#record();
    try {
      return await fn(ctx);
    } finally {
      this.#active--;
      const released = this.#held.delete(id) ? this.#release(id) : undefined;
      if (this.#held.size === 0) this.#clearTimer('renew');
      this.#record();
      // A waiter of this process asks next, on the same connection, so after the release.
      this.#pump();
      // The caller hears back once the slot is free for every process too (at most commandTimeout later).
      if (released !== undefined) await released;
    }
  }

  /** Gives back one lease; settles (never rejects) once Redis has it, or at once when Redis is down. */
  #release(id: string): Promise<unknown> | undefined {
    const sent = this.#gate.call(RELEASE, this.key, [id]);
    if (sent === undefined) {
      // Down, with a probe out: send it anyway, best effort (the lease expires after leaseMs otherwise).
      this.#gate.fireAndForget(RELEASE, this.key, [id]);
      return undefined;
    }
    return sent.catch(() => undefined);
  }

  async #runFallback(fn: Operation<unknown>, ctx: ExecutionContext): Promise<unknown> {
    const fallback = this.#fallback;
    if (fallback === 'deny') throw this.#rejection('unavailable');
    this.#active++;
    this.#record();
    try {
      return fallback === 'allow' ? await fn(ctx) : await fallback.execute(fn, ctx);
    } finally {
      this.#active--;
      this.#record();
      this.#pump();
    }
  }

  #enqueue(fn: Operation<unknown>, ctx: ExecutionContext): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const expiresAt =
        this.queueTimeout === Number.POSITIVE_INFINITY
          ? Number.POSITIVE_INFINITY
          : this.#clock.now() + this.queueTimeout;
      const waiter = new Waiter(this.#leave, fn, ctx, resolve, reject, expiresAt);
      this.#queue.push(waiter);
      if (ctx.signal !== neverAborted) subscribe(ctx.signal, waiter);
      if (this.#expireTimer === undefined && expiresAt !== Number.POSITIVE_INFINITY) this.#armExpiry();
      this.#record();
      this.#pump();
    });
  }

  #dequeue(waiter: Waiter): Waiter {
    this.#queue.remove(waiter);
    if (waiter.ctx.signal !== neverAborted) unsubscribe(waiter.ctx.signal, waiter);
    if (this.#queue.head === null) {
      this.#clearTimer('poll');
      this.#clearTimer('expire');
    }
    return waiter;
  }

  /**
   * Asks Redis for something cheap (the lease count) when it is marked
   * unavailable and no other request is out, so that the first answer brings
   * calls back to Redis even while this process's slots all stay busy (no
   * lease request would go out then).
   */
  #probe(): void {
    if (this.#closed || this.#gate.available) return;
    this.#gate.call(COUNT, this.key, [])?.catch(() => undefined);
  }

  /** While Redis is unavailable the fallback decides: every queued call goes to it, in order. */
  #handOff(): void {
    for (let head = this.#queue.head; head !== null; head = this.#queue.head) {
      this.#dequeue(head);
      head.resolve(this.#runFallback(head.fn, head.ctx));
    }
    this.#record();
  }

  /** Serves the queue, one lease request at a time, in a loop (never recursion). */
  #pump(): void {
    if (this.#pumping || this.#queue.head === null || this.#closed) return;
    if (!this.#gate.available) {
      this.#handOff();
      return;
    }
    if (this.#active + this.#acquiring >= this.maxConcurrent) return;
    this.#pumping = true;
    void this.#serve();
  }

  async #serve(): Promise<void> {
    try {
      while (this.#queue.head !== null && !this.#closed && this.#active + this.#acquiring < this.maxConcurrent) {
        this.#acquiring++;
        let lease: Acquired;
        try {
          lease = await this.#acquire();
        } finally {
          this.#acquiring--;
        }
        const head = this.#queue.head;
        if (head === null) {
          if (lease !== 'full' && lease !== 'unavailable') this.#gate.fireAndForget(RELEASE, this.key, [lease]);
          break;
        }
        if (lease === 'full') {
          if (this.#pollTimer === undefined) {
            this.#pollTimer = this.#clock.setTimeout(this.#poll, this.pollInterval);
          }
          break;
        }
        if (lease === 'unavailable') {
          // Redis is down: this waiter and every one behind it are the fallback's.
          this.#handOff();
          break;
        }
        this.#dequeue(head);
        this.#record();
        head.resolve(this.#runLeased(head.fn, head.ctx, lease));
      }
    } finally {
      this.#pumping = false;
    }
  }

  #armExpiry(): void {
    const head = this.#queue.head;
    if (head === null || head.expiresAt === Number.POSITIVE_INFINITY) return;
    this.#expireTimer = this.#clock.setTimeout(
      this.#expire,
      Math.min(MAX_TIMER_MS, head.expiresAt - this.#clock.now()),
    );
  }

  #expireWaiters(): void {
    this.#expireTimer = undefined;
    const now = this.#clock.now();
    for (let head = this.#queue.head; head !== null && head.expiresAt <= now; head = this.#queue.head) {
      this.#dequeue(head).reject(this.#rejection('queue-timeout'));
    }
    this.#record();
    if (this.#queue.head !== null) this.#armExpiry();
  }

  #armRenewal(): void {
    if (this.#renewTimer !== undefined || this.#closed) return;
    // Unref'd: the calls that hold leases keep the process alive if they need to.
    this.#renewTimer = unrefTimer(this.#clock.setTimeout(this.#renew, Math.max(1, Math.floor(this.leaseMs / 3))));
  }

  async #renewLeases(): Promise<void> {
    this.#renewTimer = undefined;
    if (this.#held.size === 0 || this.#closed) return;
    const sent = this.#gate.call(RENEW, this.key, [String(this.leaseMs), ...this.#held]);
    if (sent !== undefined) {
      try {
        const lost = await sent;
        if (Array.isArray(lost) && lost.length > 0) this.#lost(lost as string[]);
      } catch {
        // Logged by the gate as a transition; the next renewal tries again.
      }
    }
    if (this.#held.size > 0) this.#armRenewal();
  }

  #lost(ids: string[]): void {
    let count = 0;
    for (const id of ids) if (this.#held.delete(id)) count++;
    if (count === 0) return;
    try {
      ignoreRejection(
        this.#logger.warn(
          `${OWNER} ${this.name}: ${count} lease(s) expired before renewal (Redis was unreachable longer than leaseMs, or lost its data: a restart without persistence, FLUSHALL, a failover); those calls keep running but no longer count`,
          { name: this.name, lost: count },
        ),
      );
    } catch {
      // A throwing logger changes no outcome.
    }
  }

  #fallbackOption(value: BulkheadFallback | undefined): Fallback {
    return fallbackOption(
      OWNER,
      value,
      () =>
        new Bulkhead({
          maxConcurrent: this.maxConcurrent,
          maxQueue: this.maxQueue,
          queueTimeout: this.queueTimeout,
          name: this.name,
        }),
      ['execute'],
      'a policy',
    );
  }

  #rejection(reason: 'full' | 'queue-timeout' | 'unavailable'): BulkheadFullError {
    if (this.#onRejected !== undefined) {
      try {
        ignoreRejection(this.#onRejected());
      } catch {
        // An exception from onRejected is ignored, as documented.
      }
    }
    if (reason === 'full') return new BulkheadFullError();
    if (reason === 'queue-timeout') {
      return new BulkheadFullError({ message: `Bulkhead queue wait exceeded ${this.queueTimeout} ms` });
    }
    return new BulkheadFullError({ message: 'Bulkhead refuses calls while Redis is unavailable' });
  }

  #clearTimer(which: 'renew' | 'poll' | 'expire'): void {
    const field = which === 'renew' ? this.#renewTimer : which === 'poll' ? this.#pollTimer : this.#expireTimer;
    if (field === undefined) return;
    this.#clock.clearTimeout(field);
    if (which === 'renew') this.#renewTimer = undefined;
    else if (which === 'poll') this.#pollTimer = undefined;
    else this.#expireTimer = undefined;
  }

  #record(): void {
    if (this.#metrics === undefined) return;
    try {
      ignoreRejection(this.#metrics.recordBulkheadUtilization(this.name, this.#active, this.#queue.size));
    } catch {
      // Observability never changes an outcome.
    }
  }
}
