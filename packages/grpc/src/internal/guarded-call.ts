import { type InterceptorOptions, Metadata, type NextCall, status as Status, type StatusObject } from '@grpc/grpc-js';
import type { CallInterface, CallListener, FullCallListener, MessageContext } from './call-types.js';
import type { SignalPool } from './signal-pool.js';
import { rejectionStatus } from './status.js';

/** What one client interceptor decides for each call it guards. */
export interface Guard {
  /**
   * Decides whether `call` may go on: calls `call.proceed()` or
   * `call.reject(status)`, at once or later (then it calls `call.waiting()`
   * first and uses `call.signal()` for its wait).
   */
  admit(call: GuardedCall): void;
  /** The admitted call ended with `status` (`call.cancelled` tells whether the client cancelled it). */
  settle(call: GuardedCall, status: StatusObject): void;
  /** Where the calls' wait signals come from, when the guard waits (reused: a new `AbortSignal` costs ~5 µs). */
  readonly signals?: SignalPool;
}

const PENDING = 0;
const ADMITTED = 1;
const DONE = 2;

/**
 * One call under a {@link Guard}: holds what the caller sends until the guard
 * admits the call, then creates the next call and replays it; or answers a
 * status of its own. Implements both sides (the call below the caller, the
 * listener of the next call) so a guarded call allocates one object.
 */
export class GuardedCall implements CallInterface, FullCallListener {
  /** The guard's own state for this call (a breaker permit, a bulkhead release). */
  token: unknown = undefined;
  /** The call's request metadata, from `start`. */
  metadata: Metadata | undefined = undefined;
  /** Whether the client cancelled the call. */
  cancelled = false;
  readonly options: InterceptorOptions;
  readonly #next: NextCall;
  readonly #guard: Guard;
  #state = PENDING;
  #inner: CallInterface | undefined = undefined;
  #listener: FullCallListener | undefined = undefined;
  /** Messages sent before admission, as context/message pairs. */
  #queued: unknown[] | undefined = undefined;
  #halfClosed = false;
  #readWanted = false;
  #controller: AbortController | undefined = undefined;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;

  /**
   * @param options - the interceptor's call options
   * @param next - the interceptor's `nextCall`
   * @param guard - the pattern's decisions
   */
  constructor(options: InterceptorOptions, next: NextCall, guard: Guard) {
    this.options = options;
    this.#next = next;
    this.#guard = guard;
  }

  /** The method's path, `/package.Service/Method`. */
  get method(): string {
    return this.options.method_definition.path;
  }

  /** Whether the call still waits for admission. */
  get pending(): boolean {
    return this.#state === PENDING;
  }

  /** A signal that aborts when the client cancels, or the call's deadline passes, while the call waits. */
  signal(): AbortSignal {
    this.#controller ??= this.#guard.signals?.take() ?? new AbortController();
    return this.#controller.signal;
  }

  /** The guard's wait is over (it settled): the signal may serve another call, unless it aborted. */
  releaseSignal(): void {
    const controller = this.#controller;
    this.#controller = undefined;
    if (controller !== undefined) this.#guard.signals?.give(controller);
  }

  /**
   * The guard's admission goes on asynchronously: arms a timer for the
   * call's deadline (a call that waits past it ends with `DEADLINE_EXCEEDED`).
   *
   * @param what - what the call waits for, for the details string
   */
  waiting(what: string): void {
    if (this.#state !== PENDING || this.#timer !== undefined) return;
    const deadline = this.options.deadline;
    if (deadline === undefined) return;
    const at = typeof deadline === 'number' ? deadline : deadline.getTime();
    if (at === Number.POSITIVE_INFINITY) return;
    const ms = Math.max(0, at - Date.now());
    if (ms > 2_147_483_647) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const status = rejectionStatus(
        Status.DEADLINE_EXCEEDED,
        `Deadline exceeded while waiting for ${what}`,
        'deadline',
      );
      this.#controller?.abort(new Error(status.details));
      this.reject(status);
    }, ms);
  }

  /** Admits the call: creates the next call and hands it everything sent so far. Returns false when too late. */
  proceed(): boolean {
    if (this.#state !== PENDING) return false;
    this.#state = ADMITTED;
    this.#clearTimer();
    let inner: CallInterface;
    try {
      inner = this.#next(this.options);
    } catch (err) {
      // A throwing interceptor further in: the server was never asked, so no pattern counts it against it.
      const details = `Creating the call failed: ${err instanceof Error ? err.message : String(err)}`;
      const status = rejectionStatus(Status.INTERNAL, details, 'call-failed');
      this.#state = DONE;
      this.#dropQueued();
      settleQuietly(this.#guard, this, status);
      process.nextTick(deliverRejection, this, status);
      return false;
    }
    this.#inner = inner;
    inner.start(this.metadata as Metadata, this);
    const queued = this.#queued;
    if (queued !== undefined) {
      this.#queued = undefined;
      for (let i = 0; i < queued.length; i += 2) {
        inner.sendMessageWithContext(queued[i] as MessageContext, queued[i + 1]);
      }
    }
    if (this.#halfClosed) inner.halfClose();
    if (this.#readWanted) inner.startRead();
    return true;
  }

  /** Answers the call with `status` instead of admitting it (delivered on the next tick). */
  reject(status: StatusObject): void {
    if (this.#state !== PENDING) return;
    this.#state = DONE;
    this.#clearTimer();
    this.#dropQueued();
    process.nextTick(deliverRejection, this, status);
  }

  // --- the call, as the caller (the interceptor above) sees it ---

  /** Starts the call: the guard decides. */
  start(metadata: Metadata, listener?: CallListener): void {
    this.metadata = metadata;
    this.#listener = listener as FullCallListener;
    this.#guard.admit(this);
  }

  /** Sends a message, or keeps it until admission. */
  sendMessageWithContext(context: MessageContext, message: unknown): void {
    const inner = this.#inner;
    if (inner !== undefined) {
      inner.sendMessageWithContext(context, message);
    } else if (this.#state === PENDING) {
      if (this.#queued === undefined) this.#queued = [context, message];
      else this.#queued.push(context, message);
    } else if (context.callback !== undefined) {
      process.nextTick(context.callback);
    }
  }

  /** Sends a message with no write callback. */
  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  /** Asks for the next response message. */
  startRead(): void {
    if (this.#inner !== undefined) this.#inner.startRead();
    else this.#readWanted = true;
  }

  /** No more messages from the client. */
  halfClose(): void {
    if (this.#inner !== undefined) this.#inner.halfClose();
    else this.#halfClosed = true;
  }

  /** Cancels the call: passed on once admitted; before, the wait ends and the call ends with this status. */
  cancelWithStatus(code: Status, details: string): void {
    if (this.#state === DONE) return;
    this.cancelled = true;
    const inner = this.#inner;
    if (inner !== undefined) {
      inner.cancelWithStatus(code, details);
      return;
    }
    this.#state = DONE;
    this.#clearTimer();
    this.#dropQueued();
    const status: StatusObject = { code, details, metadata: new Metadata() };
    this.#controller?.abort(new Error(details));
    process.nextTick(deliverRejection, this, status);
  }

  /** The peer, once the call is under way. */
  getPeer(): string {
    return this.#inner?.getPeer() ?? '';
  }

  /** The auth context, once the call is under way. */
  getAuthContext(): ReturnType<CallInterface['getAuthContext']> {
    const inner = this.#inner;
    // Older grpc-js calls have no getAuthContext.
    return inner !== undefined && typeof inner.getAuthContext === 'function' ? inner.getAuthContext() : null;
  }

  // --- the listener of the next call ---

  /** Response headers, passed on. */
  onReceiveMetadata(metadata: Metadata): void {
    if (this.#state === ADMITTED) this.#listener?.onReceiveMetadata(metadata);
  }

  /** A response message, passed on. */
  onReceiveMessage(message: unknown): void {
    if (this.#state === ADMITTED) this.#listener?.onReceiveMessage(message);
  }

  /** The final status: the guard counts it, then it is passed on. */
  onReceiveStatus(status: StatusObject): void {
    if (this.#state !== ADMITTED) return;
    this.#state = DONE;
    this.#inner = undefined;
    settleQuietly(this.#guard, this, status);
    this.#listener?.onReceiveStatus(status);
  }

  /** @internal delivers a status this call generated */
  deliver(status: StatusObject): void {
    this.#inner = undefined;
    this.#listener?.onReceiveStatus(status);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Write callbacks of messages that will never be sent still run, so a writable stream does not hang. */
  #dropQueued(): void {
    const queued = this.#queued;
    if (queued === undefined) return;
    this.#queued = undefined;
    for (let i = 0; i < queued.length; i += 2) {
      const callback = (queued[i] as MessageContext).callback;
      if (callback !== undefined) process.nextTick(callback);
    }
  }
}

/**
 * Reports the call's outcome to its guard. A report that throws (a breaker
 * permit of your own whose `success()` throws) cannot change how the call
 * ends, and must not surface inside grpc-js, which would make it an uncaught
 * exception: it is dropped.
 */
function settleQuietly(guard: Guard, call: GuardedCall, status: StatusObject): void {
  try {
    guard.settle(call, status);
  } catch {
    // the call's status is delivered all the same
  }
}

function deliverRejection(call: GuardedCall, status: StatusObject): void {
  call.deliver(status);
}
