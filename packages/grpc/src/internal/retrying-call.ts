import { type InterceptorOptions, Metadata, type NextCall, status as Status, type StatusObject } from '@grpc/grpc-js';
import {
  type ExecuteOptions,
  type ExecutionContext,
  findInChain,
  isTimeoutError,
  type Operation,
  retryable,
} from '@resilience/core';
import { describeValue } from '@resilience/core/validate';
import { GrpcStatusError } from '../status-error.js';
import type { CallInterface, CallListener, FullCallListener, MessageContext } from './call-types.js';
import { hasCode } from './options.js';
import type { SignalPool } from './signal-pool.js';
import { generatedReason, readPushback, rejectionStatus, statusForError } from './status.js';

/** Anything with a retry's `execute`: the core's `Retry`, or a pipeline that retries. */
export interface RetryPolicyLike {
  /** Runs `fn`, again while it fails and the policy allows it. */
  execute<R>(fn: Operation<R>, options?: ExecuteOptions): Promise<R>;
}

/** The settings of one `retryInterceptor`, shared by its calls. */
export interface RetrySettings {
  readonly policy: RetryPolicyLike;
  readonly retryable: readonly boolean[];
  readonly retryRejections: boolean;
  readonly maxBuffered: number;
  /** Signals for the retry's back-off, reused across calls. */
  readonly signals: SignalPool;
}

/** A request message kept for replay; its write callback runs once, whichever attempt wrote it first. */
class Outgoing {
  readonly message: unknown;
  readonly flags: number | undefined;
  /** Whether the caller waits for this write (a stream does; a unary request does not). */
  readonly flowControlled: boolean;
  callback: (() => void) | undefined;

  constructor(context: MessageContext, message: unknown) {
    this.message = message;
    this.flags = context.flags;
    this.callback = context.callback as (() => void) | undefined;
    this.flowControlled = this.callback !== undefined;
  }

  /** Runs the caller's write callback, the first time only. */
  written(): void {
    const callback = this.callback;
    this.callback = undefined;
    callback?.();
  }
}

/** One attempt: the listener of one next call, reporting to its owner only while it is the current attempt. */
class Attempt implements FullCallListener {
  readonly owner: RetryingCall;
  readonly inner: CallInterface;
  readonly resolve: (status: StatusObject) => void;
  readonly reject: (err: unknown) => void;
  /** Response headers, held until the call commits to this attempt or it ends. */
  headers: Metadata | undefined = undefined;
  /** A unary response: held until the attempt's status says whether it is the answer. */
  message: unknown = undefined;
  hasMessage = false;
  /** The attempt's own signal, when a policy inside the retry gave it one (see {@link Attempt.follow}). */
  #signal: AbortSignal | undefined = undefined;
  /** How many buffered messages this attempt was given (while the call is not committed). */
  sent = 0;
  /** The message whose write callback this attempt still owes (flow control: one at a time). */
  waiting: Outgoing | undefined = undefined;
  halfCloseSent = false;

  constructor(
    owner: RetryingCall,
    inner: CallInterface,
    resolve: (status: StatusObject) => void,
    reject: (err: unknown) => void,
  ) {
    this.owner = owner;
    this.inner = inner;
    this.resolve = resolve;
    this.reject = reject;
  }

  onReceiveMetadata(metadata: Metadata): void {
    this.owner.attemptMetadata(this, metadata);
  }

  onReceiveMessage(message: unknown): void {
    this.owner.attemptMessage(this, message);
  }

  onReceiveStatus(status: StatusObject): void {
    this.unfollow();
    this.owner.attemptStatus(this, status);
  }

  /** Cancels this attempt's call when `signal` aborts (until its status arrives). */
  follow(signal: AbortSignal): void {
    this.#signal = signal;
    if (signal.aborted) this.handleEvent();
    else signal.addEventListener('abort', this, { once: true });
  }

  unfollow(): void {
    this.#signal?.removeEventListener('abort', this);
    this.#signal = undefined;
  }

  /** The attempt's signal aborted: a timeout (`DEADLINE_EXCEEDED`) or another reason (`CANCELLED`). */
  handleEvent(): void {
    const reason: unknown = this.#signal?.reason;
    this.#signal = undefined;
    const message = reason instanceof Error ? reason.message : String(reason);
    if (isTimeoutError(reason)) this.inner.cancelWithStatus(Status.DEADLINE_EXCEEDED, `Deadline exceeded: ${message}`);
    else this.inner.cancelWithStatus(Status.CANCELLED, `Cancelled: ${message}`);
  }
}

/**
 * A call that may run as several attempts (each a new next call) under a
 * retry policy, replaying the request metadata and messages, until it is
 * committed: when the first response message of a streaming response
 * arrives, when it sends more messages than can be kept, or when it is
 * cancelled. Response headers of an attempt are held until it commits or
 * ends, so the caller sees one attempt's.
 *
 * Messages go to an attempt one at a time, the next once the previous one's
 * write callback ran, as the grpc-js surface does (its call layers hold one
 * pending message); the caller's write callback runs once.
 */
export class RetryingCall implements CallInterface {
  readonly #settings: RetrySettings;
  readonly #options: InterceptorOptions;
  readonly #next: NextCall;
  readonly #streamingResponse: boolean;
  readonly #streamingRequest: boolean;
  #listener: FullCallListener | undefined = undefined;
  #metadata: Metadata | undefined = undefined;
  /** The request messages: every one so far until the call commits, then only those not yet sent. */
  readonly #buffer: Outgoing[] = [];
  #count = 0;
  #halfClosed = false;
  #readWanted = false;
  #committed = false;
  #done = false;
  #cancelStatus: StatusObject | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  #attempt: Attempt | undefined = undefined;
  #attempts = 0;
  #headersDelivered = false;
  /** The attempt whose status ends the call (its headers and unary response go out with it). */
  #last: Attempt | undefined = undefined;
  /** Ends the call at its deadline while it waits between attempts. */
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(settings: RetrySettings, options: InterceptorOptions, next: NextCall) {
    this.#settings = settings;
    this.#options = options;
    this.#next = next;
    this.#streamingResponse = options.method_definition.responseStream;
    this.#streamingRequest = options.method_definition.requestStream;
  }

  start(metadata: Metadata, listener?: CallListener): void {
    this.#metadata = metadata;
    this.#listener = listener as FullCallListener;
    const controller = this.#settings.signals.take();
    this.#controller = controller;
    let result: Promise<StatusObject>;
    try {
      result = this.#settings.policy.execute(this.#run, { signal: controller.signal });
      if (typeof (result as { then?: unknown } | null)?.then !== 'function') {
        throw new TypeError(`retryInterceptor: retry.execute returned ${describeValue(result)}, not a promise`);
      }
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(this.#finish, this.#fail);
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    if (this.#done) {
      if (context.callback !== undefined) process.nextTick(context.callback);
      return;
    }
    // Only a request stream is bounded: a unary request's single message is always kept.
    if (!this.#committed && this.#streamingRequest && ++this.#count > this.#settings.maxBuffered) this.#commit();
    this.#buffer.push(new Outgoing(context, message));
    const attempt = this.#attempt;
    if (attempt !== undefined) this.#pump(attempt);
  }

  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  startRead(): void {
    this.#readWanted = true;
    this.#attempt?.inner.startRead();
  }

  halfClose(): void {
    this.#halfClosed = true;
    const attempt = this.#attempt;
    if (attempt !== undefined) this.#pump(attempt);
  }

  cancelWithStatus(code: Status, details: string): void {
    if (this.#done || this.#cancelStatus !== undefined) return;
    this.#cancelStatus = { code, details, metadata: new Metadata() };
    const attempt = this.#attempt;
    if (attempt !== undefined) {
      attempt.inner.cancelWithStatus(code, details);
      return;
    }
    // Between attempts: end the retry's delay, and the call at once.
    this.#controller?.abort(new Error(details));
    process.nextTick(deliverCancel, this);
  }

  getPeer(): string {
    return this.#attempt?.inner.getPeer() ?? '';
  }

  getAuthContext(): ReturnType<CallInterface['getAuthContext']> {
    const inner = this.#attempt?.inner;
    // Older grpc-js calls have no getAuthContext.
    return inner !== undefined && typeof inner.getAuthContext === 'function' ? inner.getAuthContext() : null;
  }

  /** One attempt, as the retry policy runs it: settles with the status to pass on, or rejects to ask for another. */
  readonly #run = (ctx: ExecutionContext): Promise<StatusObject> =>
    new Promise<StatusObject>((resolve, reject) => {
      if (this.#done || this.#cancelStatus !== undefined) {
        resolve(this.#cancelStatus ?? { code: Status.CANCELLED, details: 'Cancelled', metadata: new Metadata() });
        return;
      }
      this.#clearDeadlineTimer();
      const n = ++this.#attempts;
      let metadata = this.#metadata as Metadata;
      if (n > 1) {
        metadata = metadata.clone();
        metadata.set('grpc-previous-rpc-attempts', String(n - 1));
      }
      let inner: CallInterface;
      try {
        inner = this.#next(this.#options);
      } catch (err) {
        const details = `Creating the call failed: ${err instanceof Error ? err.message : String(err)}`;
        resolve(rejectionStatus(Status.INTERNAL, details, 'call-failed'));
        return;
      }
      const attempt = new Attempt(this, inner, resolve, reject);
      this.#attempt = attempt;
      inner.start(metadata, attempt);
      this.#pump(attempt);
      if (this.#readWanted) inner.startRead();
      // A policy with a timeout inside (a pipeline) aborts the attempt's own signal: end the attempt's call with it.
      if (ctx.signal !== this.#controller?.signal) attempt.follow(ctx.signal);
    });

  /** Hands `attempt` the messages it has not had, one write at a time, then the half-close. */
  #pump(attempt: Attempt): void {
    const buffer = this.#buffer;
    while (attempt.waiting === undefined) {
      let out: Outgoing | undefined;
      if (this.#committed) out = buffer.shift();
      else if (attempt.sent < buffer.length) out = buffer[attempt.sent++];
      if (out === undefined) break;
      attempt.waiting = out;
      const written = (): void => this.#written(attempt, out);
      attempt.inner.sendMessageWithContext(
        out.flags === undefined ? { callback: written } : { flags: out.flags, callback: written },
        out.message,
      );
    }
    if (
      this.#halfClosed &&
      !attempt.halfCloseSent &&
      // The caller does not wait for a unary request's write before half-closing; neither do we.
      (attempt.waiting === undefined || !attempt.waiting.flowControlled) &&
      (this.#committed ? buffer.length === 0 : attempt.sent === buffer.length)
    ) {
      attempt.halfCloseSent = true;
      attempt.inner.halfClose();
    }
  }

  #written(attempt: Attempt, out: Outgoing): void {
    if (attempt.waiting === out) attempt.waiting = undefined;
    out.written();
    if (attempt === this.#attempt && !this.#done) this.#pump(attempt);
  }

  /** @internal response headers of an attempt */
  attemptMetadata(attempt: Attempt, metadata: Metadata): void {
    if (attempt !== this.#attempt || this.#done) return;
    if (this.#committed) this.#deliverHeaders(metadata);
    else attempt.headers = metadata;
  }

  /** @internal a response message of an attempt: a streaming response commits the call to it */
  attemptMessage(attempt: Attempt, message: unknown): void {
    if (attempt !== this.#attempt || this.#done) return;
    if (!this.#streamingResponse) {
      // grpc-js hands a unary response (or null) just before the status, which decides.
      attempt.message = message;
      attempt.hasMessage = true;
      return;
    }
    if (!this.#committed) this.#commit();
    if (attempt.headers !== undefined) {
      this.#deliverHeaders(attempt.headers);
      attempt.headers = undefined;
    }
    this.#readWanted = false;
    this.#listener?.onReceiveMessage(message);
  }

  /** @internal the final status of an attempt: passed on, or a failure the policy may retry */
  attemptStatus(attempt: Attempt, status: StatusObject): void {
    if (attempt !== this.#attempt) return;
    this.#attempt = undefined;
    this.#last = attempt;
    if (this.#committed || this.#done || this.#cancelStatus !== undefined || !this.#retryable(status)) {
      attempt.resolve(status);
      return;
    }
    const pushback = readPushback(status.metadata);
    if (pushback === 'stop') {
      attempt.resolve(status);
      return;
    }
    this.#armDeadlineTimer();
    attempt.reject(retryable(new GrpcStatusError(status, pushback)));
  }

  /**
   * While the retry waits before the next attempt, the call's deadline still
   * holds: when it passes, the call ends with `DEADLINE_EXCEEDED` at once
   * rather than when the back-off is over.
   */
  #armDeadlineTimer(): void {
    const deadline = this.#options.deadline;
    if (deadline === undefined || this.#deadlineTimer !== undefined) return;
    const at = typeof deadline === 'number' ? deadline : deadline.getTime();
    const ms = at - Date.now();
    if (!(ms < 2_147_483_647)) return;
    this.#deadlineTimer = setTimeout(this.#expire, Math.max(0, ms));
  }

  #clearDeadlineTimer(): void {
    if (this.#deadlineTimer !== undefined) {
      clearTimeout(this.#deadlineTimer);
      this.#deadlineTimer = undefined;
    }
  }

  readonly #expire = (): void => {
    this.#deadlineTimer = undefined;
    if (this.#done || this.#attempt !== undefined || this.#cancelStatus !== undefined) return;
    this.#cancelStatus = rejectionStatus(
      Status.DEADLINE_EXCEEDED,
      'Deadline exceeded while waiting to retry',
      'deadline',
    );
    this.#controller?.abort(new Error(this.#cancelStatus.details));
    this.deliver(this.#cancelStatus);
  };

  #retryable(status: StatusObject): boolean {
    const settings = this.#settings;
    if (!hasCode(settings.retryable, status.code)) return false;
    return settings.retryRejections || generatedReason(status) === undefined;
  }

  /** No more attempts after the current (or next) one: messages it has had need not be kept. */
  #commit(): void {
    this.#committed = true;
    const attempt = this.#attempt;
    if (attempt !== undefined) {
      this.#buffer.splice(0, attempt.sent);
      attempt.sent = 0;
    }
  }

  #deliverHeaders(metadata: Metadata): void {
    if (this.#headersDelivered) return;
    this.#headersDelivered = true;
    this.#listener?.onReceiveMetadata(metadata);
  }

  readonly #finish = (status: StatusObject): void => {
    this.#release();
    if (!isStatus(status)) {
      // The policy resolved with something an attempt did not give it (a fallback inside a pipeline): grpc-js would
      // take it for a status and the caller would see a success with no response.
      const details = `Retry failed: the retry policy resolved with ${describeValue(status)} instead of an attempt's status (a fallback inside the policy cannot answer a gRPC call)`;
      this.deliver({ code: Status.INTERNAL, details, metadata: new Metadata() });
      return;
    }
    this.deliver(status);
  };

  readonly #fail = (err: unknown): void => {
    this.#release();
    if (this.#cancelStatus !== undefined) {
      this.deliver(this.#cancelStatus);
      return;
    }
    const failed = findInChain(err, isStatusError);
    if (failed !== undefined) {
      this.deliver(failed.status);
      return;
    }
    this.deliver(statusForError(err, this.#options.method_definition.path));
  };

  /** The retry has settled: its signal may serve another call (unless it aborted). */
  #release(): void {
    const controller = this.#controller;
    this.#controller = undefined;
    if (controller !== undefined) this.#settings.signals.give(controller);
  }

  /** @internal ends the call with `status`, once */
  deliver(status: StatusObject): void {
    if (this.#done) return;
    this.#done = true;
    this.#clearDeadlineTimer();
    this.#buffer.length = 0;
    const last = this.#last;
    this.#last = undefined;
    if (last !== undefined && last.owner === this) {
      if (last.headers !== undefined) this.#deliverHeaders(last.headers);
      if (last.hasMessage) this.#listener?.onReceiveMessage(last.message);
    }
    this.#listener?.onReceiveStatus(status);
  }

  /** @internal the status a cancellation between attempts ends with */
  get cancelStatus(): StatusObject | undefined {
    return this.#cancelStatus;
  }
}

function isStatus(value: unknown): value is StatusObject {
  const status = value as Partial<StatusObject> | null;
  return (
    typeof status === 'object' &&
    status !== null &&
    typeof status.code === 'number' &&
    typeof status.details === 'string' &&
    status.metadata instanceof Metadata
  );
}

function isStatusError(err: unknown): err is GrpcStatusError {
  return err instanceof GrpcStatusError;
}

function deliverCancel(call: RetryingCall): void {
  const status = call.cancelStatus;
  if (status !== undefined) call.deliver(status);
}
