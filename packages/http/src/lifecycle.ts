/**
 * The part of Node's `http.ServerResponse` the response lifecycle helpers
 * read (Express's `res`, Fastify's `reply.raw` and light-my-request's
 * injected responses all have it).
 */
export interface NodeResponseLike {
  /** Whether the response has emitted `close`. */
  readonly closed: boolean;
  /** Whether the whole answer was handed to the OS. */
  readonly writableFinished: boolean;
  /** Adds a one-time listener. */
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Calls `listener` once when the response is over: `finished` is true when
 * the whole answer was handed to the OS, false when the connection closed
 * first (the client went away). Node emits `close` on every response, after
 * `finish` when there is one, also on kept-alive connections.
 *
 * @param res - a Node `ServerResponse`
 * @param listener - called once
 */
export function onResponseEnd(res: NodeResponseLike, listener: (finished: boolean) => void): void {
  if (res.closed) {
    listener(res.writableFinished);
    return;
  }
  res.once('close', () => listener(res.writableFinished));
}

/**
 * Resolves when the response is over (finished or abandoned by the client); never rejects.
 *
 * @param res - a Node `ServerResponse`
 */
export function responseDone(res: NodeResponseLike): Promise<void> {
  return new Promise((resolve) => onResponseEnd(res, () => resolve()));
}

const clientSignals = new WeakMap<NodeResponseLike, AbortSignal>();

/**
 * The reason a client's disconnect aborts with: a `DOMException` named `AbortError`.
 *
 * @param message - what happened
 */
export function clientGone(message = 'The client closed the connection before the response was sent'): DOMException {
  return new DOMException(message, 'AbortError');
}

/**
 * A signal that aborts (with {@link clientGone}) when the client disconnects
 * before the response has finished. One per response, shared by every
 * middleware that asks for it.
 *
 * @param res - a Node `ServerResponse`
 */
export function clientSignal(res: NodeResponseLike): AbortSignal {
  let signal = clientSignals.get(res);
  if (signal !== undefined) return signal;
  const controller = new AbortController();
  signal = controller.signal;
  clientSignals.set(res, signal);
  onResponseEnd(res, (finished) => {
    if (!finished) controller.abort(clientGone());
  });
  return signal;
}
