import type { Request, Response } from 'express';

/**
 * Calls `listener` once when the response is over: `finished` is true when
 * the whole answer was handed to the OS, false when the connection closed
 * first (the client went away). Node emits `close` on every response, after
 * `finish` when there is one, also on kept-alive connections.
 */
export function onResponseEnd(res: Response, listener: (finished: boolean) => void): void {
  if (res.closed) {
    listener(res.writableFinished);
    return;
  }
  res.once('close', () => listener(res.writableFinished));
}

/** Resolves when the response is over (finished or abandoned by the client); never rejects. */
export function responseDone(res: Response): Promise<void> {
  return new Promise((resolve) => onResponseEnd(res, () => resolve()));
}

const clientSignals = new WeakMap<Response, AbortSignal>();

/** The reason of a {@link clientSignal} abort: a `DOMException` named `AbortError`. */
function disconnected(): DOMException {
  return new DOMException('The client closed the connection before the response was sent', 'AbortError');
}

/**
 * A signal that aborts when the client disconnects before the response has
 * finished. One per response, shared by every middleware that asks for it.
 */
export function clientSignal(res: Response): AbortSignal {
  let signal = clientSignals.get(res);
  if (signal !== undefined) return signal;
  const controller = new AbortController();
  signal = controller.signal;
  clientSignals.set(res, signal);
  onResponseEnd(res, (finished) => {
    if (!finished) controller.abort(disconnected());
  });
  return signal;
}

/**
 * The signal an outer middleware of this package gave the request, if any.
 * Only an own property counts: Node.js 24 and later have a `signal` getter on
 * every `IncomingMessage`, with a meaning of their own, that this package must
 * neither mistake for a caller's signal nor try to assign.
 */
export function requestSignal(req: Request): AbortSignal | undefined {
  return Object.hasOwn(req, 'signal') ? req.signal : undefined;
}

/** Gives `req` its own `signal` property (an assignment would throw against Node.js 24's getter-only one). */
export function setRequestSignal(req: Request, signal: AbortSignal): void {
  Object.defineProperty(req, 'signal', { value: signal, writable: true, configurable: true, enumerable: true });
}
