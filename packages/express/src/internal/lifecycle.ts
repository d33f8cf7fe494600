import type { Request } from 'express';

export { clientSignal, onResponseEnd, responseDone } from '@resilience/http';

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
