import { Rejection as SharedRejection } from '@resilience/http';
import type { Request, Response } from 'express';

export { retryAfterSeconds } from '@resilience/http';

/**
 * Answers with `rejection` (and `Retry-After` when `retryAfterSeconds` is
 * given) unless something was already sent.
 */
export function sendRejection(
  rejection: SharedRejection<Request>,
  req: Request,
  res: Response,
  error: unknown,
  retryAfterSeconds?: number,
): void {
  if (res.headersSent) return;
  const body = rejection.body(req, error);
  res.statusCode = rejection.statusCode;
  if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
  res.setHeader('Content-Type', body.contentType);
  res.setHeader('Content-Length', body.byteLength);
  res.end(body.payload);
}

/** How a middleware answers a rejected request: the shared status and body, sent on an Express response. */
export class Rejection extends SharedRejection<Request> {
  /** Sends the rejection (see {@link sendRejection}). */
  send(req: Request, res: Response, error: unknown, retryAfterSeconds?: number): void {
    sendRejection(this, req, res, error, retryAfterSeconds);
  }
}
