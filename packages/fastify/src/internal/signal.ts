import type { ExecutionContext, Policy } from '@resilience/core';
import { clientSignal, passableError, responseDone } from '@resilience/http';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/**
 * The signal an outer guard of this package gave the request, if any. Only
 * an own property counts: Fastify's own `request.signal` is a getter on the
 * prototype, with a meaning of its own, that this package must neither
 * mistake for a caller's signal nor try to assign.
 */
export function requestSignal(request: FastifyRequest): AbortSignal | undefined {
  return Object.hasOwn(request, 'signal') ? request.signal : undefined;
}

/** Gives `request` its own `signal` property, shadowing Fastify's getter-only one. */
export function setRequestSignal(request: FastifyRequest, signal: AbortSignal): void {
  Object.defineProperty(request, 'signal', { value: signal, writable: true, configurable: true, enumerable: true });
}

/**
 * Runs the rest of the request (every later hook and the handler, until the
 * response is over) under `policy`, with the request's signal as the
 * caller's signal: an outer guard's, else one that aborts when the client
 * disconnects. While it runs, `request.signal` is the policy's `ctx.signal`.
 *
 * `onRejected(err)` handles the policy's own rejections (it returns whether
 * it did); `watch(ctx.signal)` runs before the rest of the request starts, so
 * a listener it adds hears an abort before the handler's own listeners. A
 * rejection with the caller signal's reason is left to whoever
 * aborted it; anything else before the request went on goes to `done(err)`.
 */
export function runGuarded(
  owner: string,
  policy: Policy,
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
  onRejected: (err: unknown) => boolean,
  watch?: (signal: AbortSignal) => void,
): void {
  const signal = requestSignal(request) ?? clientSignal(reply.raw);
  let started = false;
  const work = (ctx: ExecutionContext): Promise<void> => {
    started = true;
    setRequestSignal(request, ctx.signal);
    // Before the handler can subscribe: a listener added now runs first when the signal aborts.
    watch?.(ctx.signal);
    done();
    return responseDone(reply.raw);
  };
  policy.execute(work, { signal }).then(undefined, (err: unknown) => {
    if (signal.aborted && err === signal.reason) return;
    try {
      if (onRejected(err)) return;
    } catch (answerErr) {
      // Answering the rejection failed: never an unhandled rejection; the error goes to Fastify, or the socket goes.
      if (!reply.sent && !reply.raw.headersSent) done(passableError(owner, 'answering', answerErr) as Error);
      else reply.raw.destroy(answerErr as Error);
      return;
    }
    if (!started && !reply.sent) done(passableError(owner, 'the policy', err) as Error);
  });
}
